"""The command line: every command has help with an example; outputs and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from seamless_catalog.cli import main
from seamless_catalog.store import snapshots


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command):
    result = _run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_query_formats(hf_catalog, tmp_path):
    sql = "select file_id, label, duration_s from files order by file_id limit 3"
    table = _run("query", "--catalog", str(hf_catalog), sql)
    assert table.exit_code == 0 and table.output.splitlines()[0].split() == [
        "file_id",
        "label",
        "duration_s",
    ]
    rows = list(
        csv.reader(
            io.StringIO(_run("query", "--catalog", str(hf_catalog), sql, "--format", "csv").output)
        )
    )
    assert rows[0] == ["file_id", "label", "duration_s"] and len(rows) == 4
    js = json.loads(_run("query", "--catalog", str(hf_catalog), sql, "--format", "json").output)
    assert [r["file_id"] for r in js] == [r[0] for r in rows[1:]]
    lines = _run("query", "--catalog", str(hf_catalog), sql, "--format", "jsonl").output
    assert [json.loads(x)["file_id"] for x in lines.splitlines()] == [r[0] for r in rows[1:]]
    out = tmp_path / "r.parquet"
    _run("query", "--catalog", str(hf_catalog), sql, "--format", "parquet", "-o", str(out))
    assert pq.read_table(out).column("file_id").to_pylist() == [r[0] for r in rows[1:]]


def test_bad_sql_is_a_clean_error(hf_catalog):
    result = CliRunner().invoke(main, ["query", "--catalog", str(hf_catalog), "select * from nope"])
    assert result.exit_code == 1
    assert "query failed" in result.output and "nope" in result.output
    assert "Traceback" not in result.output


def test_missing_catalog_says_what_to_do(tmp_path):
    result = CliRunner().invoke(main, ["views", "--catalog", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "seamless-catalog ingest" in result.output


def test_usage_error_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["query", "--catalog", str(tmp_path), "x", "--format", "xml"])
    assert result.exit_code == 2


def test_views_lists_every_view_file(hf_catalog):
    from seamless_catalog.store.views import view_files

    out = _run("views", "--catalog", str(hf_catalog)).output
    for vf in view_files():
        assert any(line.split()[0] == vf.name for line in out.splitlines())


def test_stats_prints_totals(hf_catalog):
    out = _run("stats", "--catalog", str(hf_catalog)).output
    assert "files" in out and "interaction_hours" in out and "ingest issues" in out


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "seamless_catalog", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "quickstart" in out


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
    assert sorted(p.name for p in hf_catalog.rglob("*")) == before
    assert snapshots.read_manifest(hf_catalog) == manifest
    assert not list(tmp_path.iterdir())
    assert (
        _run("query", "--catalog", str(hf_catalog), "select count(*) as n from files").exit_code
        == 0
    )
