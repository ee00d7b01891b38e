"""The command line: every command's help has examples that are real commands; outputs parse
back to what DuckDB computes; errors are one line with the exit status of their class."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import subprocess
import sys

import click
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from seamless_catalog import __version__, stats
from seamless_catalog.catalog import Catalog
from seamless_catalog.cli import main
from seamless_catalog.store import snapshots
from tests.cli_contract import (
    OTHER_TOOLS,
    PROG,
    assert_error,
    assert_usage_error,
    command_paths,
    example_commands,
    parse_example,
    run,
)


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "(main)")
def test_every_command_has_help_with_an_example(path):
    """The help of every command and subcommand has one Example: block, and each of its lines
    is a command of this CLI that parses (command and options exist, values are valid) or a
    named other tool; a command's own examples invoke that command."""
    result = run(*path, "--help")
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert result.stdout.startswith(f"Usage: {' '.join((PROG, *path))} ")
    examples = example_commands(result.stdout)
    assert examples, result.stdout
    invoked = []
    for argv in examples:
        if argv[0] in OTHER_TOOLS:
            continue
        assert argv[0] == PROG, f"not a command of this CLI: {shlex.join(argv)}"
        try:
            invoked.append(parse_example(argv))
        except click.UsageError as e:
            pytest.fail(f"example does not parse: {shlex.join(argv)}: {e.format_message()}")
    assert not path or path in invoked, (path, invoked)


def _expected(hf_catalog, sql: str) -> tuple[list[str], list[tuple]]:
    """The columns and rows DuckDB gives for ``sql`` over the catalog: the oracle."""
    with Catalog.open(hf_catalog) as cat:
        rel = cat.sql(sql)
        return rel.columns, rel.fetchall()


def test_query_formats(hf_catalog, tmp_path):
    sql = "select file_id, label, duration_s from files order by file_id limit 3"
    columns, want = _expected(hf_catalog, sql)
    assert len(want) == 3 and columns == ["file_id", "label", "duration_s"]
    table = _run("query", "--catalog", str(hf_catalog), sql)
    assert table.exit_code == 0 and table.output.splitlines()[0].split() == [
        "file_id",
        "label",
        "duration_s",
    ]
    head, rule, *body = table.output.splitlines()
    assert set(rule.replace(" ", "")) == {"-"}
    assert [tuple(line.split()) for line in body] == [tuple(map(str, r)) for r in want]
    rows = list(
        csv.reader(
            io.StringIO(_run("query", "--catalog", str(hf_catalog), sql, "--format", "csv").output)
        )
    )
    assert rows[0] == ["file_id", "label", "duration_s"] and len(rows) == 4
    assert [(f, lab, float(d)) for f, lab, d in rows[1:]] == want
    js = json.loads(_run("query", "--catalog", str(hf_catalog), sql, "--format", "json").output)
    assert [r["file_id"] for r in js] == [r[0] for r in rows[1:]]
    assert js == [dict(zip(columns, r)) for r in want]
    lines = _run("query", "--catalog", str(hf_catalog), sql, "--format", "jsonl").output
    assert [json.loads(x)["file_id"] for x in lines.splitlines()] == [r[0] for r in rows[1:]]
    assert [json.loads(x) for x in lines.splitlines()] == js
    out = tmp_path / "r.parquet"
    parquet = run("query", "--catalog", hf_catalog, sql, "--format", "parquet", "-o", out)
    assert parquet.exit_code == 0 and parquet.output == ""
    assert pq.read_table(out).column("file_id").to_pylist() == [r[0] for r in rows[1:]]
    assert [tuple(r.values()) for r in pq.read_table(out).to_pylist()] == want
    saved = tmp_path / "r.csv"
    assert run("query", "--catalog", hf_catalog, sql, "--format", "csv", "-o", saved).output == ""
    assert list(csv.reader(io.StringIO(saved.read_text()))) == rows


def test_parquet_to_stdout_is_a_usage_error(hf_catalog):
    sql = "select file_id from files limit 1"
    result = run("query", "--catalog", hf_catalog, sql, "--format", "parquet")
    assert_error(result, "--format parquet needs --output FILE", exit_code=2)


def test_bad_sql_is_a_clean_error(hf_catalog):
    result = CliRunner().invoke(main, ["query", "--catalog", str(hf_catalog), "select * from nope"])
    assert result.exit_code == 1
    assert "query failed" in result.output and "nope" in result.output
    assert "Traceback" not in result.output
    assert_error(
        run("query", "--catalog", hf_catalog, "select * from nope"), "query failed", "nope"
    )


def test_missing_catalog_says_what_to_do(tmp_path):
    result = CliRunner().invoke(main, ["views", "--catalog", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "seamless-catalog ingest" in result.output
    none = tmp_path / "none"
    for command in ("views", "stats"):
        line = assert_error(run(command, "--catalog", none), f"no catalog at {none}")
        assert f"run `seamless-catalog ingest --catalog {none}`" in line
    assert not none.exists()


def test_usage_error_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["query", "--catalog", str(tmp_path), "x", "--format", "xml"])
    assert result.exit_code == 2
    result = run("query", "--catalog", tmp_path, "x", "--format", "xml")
    assert_usage_error(result, "Invalid value for '--format'", "'xml' is not one of")
    assert_usage_error(run("query", "--catalog", tmp_path), "Missing argument 'SQL'")
    assert_usage_error(run("nosuch"), "No such command 'nosuch'")


def test_views_lists_every_view_file(hf_catalog):
    from seamless_catalog.store.views import view_files

    out = _run("views", "--catalog", str(hf_catalog)).output
    for vf in view_files():
        assert any(line.split()[0] == vf.name for line in out.splitlines())
    listed = [tuple(line.split(None, 1)) for line in out.splitlines()]
    assert listed == [(vf.name, vf.description) for vf in view_files()]


def test_stats_prints_totals(hf_catalog):
    out = _run("stats", "--catalog", str(hf_catalog)).output
    assert "files" in out and "interaction_hours" in out and "ingest issues" in out
    with Catalog.open(hf_catalog) as cat:
        want = stats.compute(cat)
    lines = out.splitlines()
    assert lines[0] == f"snapshot {want.snapshot}"
    totals = dict(line.split(None, 1) for line in lines[2 : 2 + len(want.totals)])
    assert totals == {k: str(v) for k, v in want.totals.items()}
    at = lines.index("table rows:")
    rows = dict(line.split() for line in lines[at + 1 : at + 1 + len(want.table_rows)])
    assert rows == {k: f"{v:,}" for k, v in want.table_rows.items()}
    issues = ", ".join(f"{n} {sev}" for sev, n in want.issues.items()) or "none"
    assert lines[-1] == f"ingest issues: {issues}"


def test_module_entry_point():
    env = dict(os.environ, COLUMNS="80")  # the width CliRunner renders at
    out = subprocess.run(
        [sys.executable, "-m", "seamless_catalog", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "quickstart" in out
    prog = "python -m seamless_catalog"
    ours = CliRunner().invoke(main, ["--help"], prog_name=prog, terminal_width=80).stdout
    head, listed = out.split("\nCommands:\n", 1)
    assert head == ours.split("\nCommands:\n", 1)[0]  # usage, description, examples, options
    assert head.startswith(f"Usage: {prog} [OPTIONS] COMMAND [ARGS]...")
    assert [line.split()[0] for line in listed.splitlines()] == sorted(main.commands)
    version = subprocess.run(
        [sys.executable, "-m", "seamless_catalog", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version == f"seamless-catalog, version {__version__}\n"


@pytest.mark.parametrize(
    "sql",
    [
        "select 1; drop view files",
        "copy (select * from files) to 'stolen.csv'",
        "attach 'other.duckdb'",
        "install httpfs",
        "set enable_external_access = true",
        "create table t as select 1",
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "'; DROP VIEW files; --",
    ],
)
def test_query_cannot_write_or_read_outside_the_catalog(hf_catalog, tmp_path, sql, monkeypatch):

    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in hf_catalog.rglob("*"))
    manifest = snapshots.read_manifest(hf_catalog)
    result = CliRunner().invoke(main, ["query", "--catalog", str(hf_catalog), sql])
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "Traceback" not in result.output
    assert_error(result)
    assert sorted(p.name for p in hf_catalog.rglob("*")) == before
    assert snapshots.read_manifest(hf_catalog) == manifest
    assert not list(tmp_path.iterdir())
    assert (
        _run("query", "--catalog", str(hf_catalog), "select count(*) as n from files").exit_code
        == 0
    )
