"""No path of the CLI ends in a traceback (issue 14): writes that fail (a missing folder, a
read-only file system) are one line naming the file; usage errors exit 2; a selection names
every key it cannot use and advises what fits the cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.store import snapshots
from tests.cli_contract import assert_error, assert_failures_reported, run
from tests.fakes.disk import read_only

FAMILIAR = "select interaction_key from pairs order by 1 limit 1"


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_query_output_into_a_missing_folder(hf_catalog, tmp_path):
    target = tmp_path / "no" / "such" / "x.csv"
    result = run("query", "--catalog", hf_catalog, "select 1 as x", "-o", target)
    assert_error(result, "cannot write", str(target), "does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("query", "select file_id from files limit 3", "--format", "csv"),
        ("query", "select file_id from files limit 3", "--format", "parquet"),
        ("query", "select file_id from files limit 3", "--format", "json"),
        ("sample", "-n", "2", "--format", "csv"),
    ],
    ids=["query-csv", "query-parquet", "query-json", "sample-csv"],
)
def test_outputs_on_a_read_only_file_system(hf_catalog, tmp_path, args):
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / "out.file"
    command, *rest = args
    with read_only(ro):
        result = run(command, "--catalog", hf_catalog, *rest, "-o", target)
        line = assert_error(result, "cannot write", str(ro))
        assert "read-only" in line or "permissions" in line, line
        assert _listing(ro) == []


def test_export_to_a_read_only_file_system(hf_catalog, release, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    for to in (ro, ro / "shards"):  # shards into it, and a folder to make in it
        with read_only(ro):
            result = run(
                "export", "--catalog", hf_catalog, "--to", to, "--source", release / "hf",
                "--sql", FAMILIAR,
            )  # fmt: skip
            line = assert_error(result, "cannot write", str(ro))
            assert "read-only" in line or "permissions" in line, line
            assert _listing(ro) == []


@pytest.mark.parametrize(
    "args,words",
    [
        (("query", "--catalog", "{missing}", "select 1"), ("no catalog at",)),
        (("stats", "--catalog", "{missing}"), ("no catalog at",)),
        (("views", "--catalog", "{missing}"), ("no catalog at",)),
        (("sample", "--catalog", "{missing}", "-n", "1"), ("no catalog at",)),
        (
            ("materialize", "--catalog", "{missing}", "--to", "{tmp}/out", "--sql", "select 1"),
            ("no catalog at",),
        ),
        (("query", "--catalog", "{cat}", "selec file_id from files"), ("does not parse",)),
        (("query", "--catalog", "{cat}", "drop view files"), ("refused", "DROP")),
        (("query", "--catalog", "{cat}", "select nocolumn from files"), ("nocolumn",)),
        (("query", "--catalog", "{cat}", "select * from no_such_view"), ("no_such_view",)),
        (
            ("materialize", "--catalog", "{cat}", "--to", "{tmp}/out", "--selection",
             "{tmp}/missing.csv"),
            ("--selection", "missing.csv", "no such file"),
        ),  # fmt: skip
        (
            ("materialize", "--catalog", "{cat}", "--to", "{tmp}/out", "--sql",
             "select 'V00_S0100_I00000002_P01' as file_id"),
            ("file_id", "'V00_S0100_I00000002_P01'", "do not parse"),
        ),  # fmt: skip
        (("synth", "{tmp}/release", "--n-files", "2"), ("--n-files 2", "at least 12")),
    ],
    ids=[
        "query-no-catalog", "stats-no-catalog", "views-no-catalog", "sample-no-catalog",
        "materialize-no-catalog", "sql-does-not-parse", "sql-refused", "sql-unknown-column",
        "sql-unknown-view", "selection-file-missing", "selection-malformed-file-id",
        "synth-too-few-files",
    ],
)  # fmt: skip
def test_usage_errors_exit_2(hf_catalog, tmp_path, args, words):
    fill = {"missing": tmp_path / "nothing-here", "cat": hf_catalog, "tmp": tmp_path}
    result = run(*(a.format(**fill) for a in args))
    assert_error(result, *words, exit_code=2)
    assert not (tmp_path / "out").exists()


def test_a_query_that_fails_while_it_runs_is_one_line(hf_catalog, tmp_path):
    out = tmp_path / "x.csv"
    result = run("query", "--catalog", hf_catalog, "select cast('a' as int)", "-o", out)
    assert_error(result, "query failed", "Conversion")
    assert not out.exists()  # the rows are fetched before the file is opened


def _materialize(hf_catalog, release, to, *args):
    return run(
        "materialize", "--catalog", hf_catalog, "--to", to, "--source", release / "hf",
        "--modalities", "json", *args,
    )  # fmt: skip


@pytest.mark.parametrize("how", ["csv", "sql", "ids"])
def test_an_empty_selection_is_a_usage_error(hf_catalog, release, tmp_path, how):
    to = tmp_path / "out"
    if how == "sql":
        args = ("--sql", "select file_id from files where false")
    else:
        path = tmp_path / ("empty.csv" if how == "csv" else "ids.txt")
        path.write_text("file_id\n" if how == "csv" else "# nothing but a comment\n")
        args = ("--selection", path)
    for dry in ((), ("--dry-run",)):
        result = _materialize(hf_catalog, release, to, *args, *dry)
        assert_error(result, "the selection is empty", exit_code=2)
        assert not to.exists()  # no receipt for nothing


def _known(hf_catalog) -> tuple[str, str]:
    """An interaction of the catalog with a file in the tars, and that file."""
    with Catalog.open(hf_catalog) as cat:
        return cat.sql(
            "select interaction_key, file_id from files "
            "where file_id in (select file_id from raw.members) order by 2 limit 1"
        ).fetchall()[0]


def test_every_malformed_key_of_an_ids_file_is_named(hf_catalog, release, tmp_path):
    key, _ = _known(hf_catalog)
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{key}\nhello world\n{key}\n../../etc\n")  # a stray line is not dropped
    for dry in ((), ("--dry-run",)):
        result = _materialize(hf_catalog, release, tmp_path / "out", "--selection", ids, *dry)
        assert_error(result, "2 interaction_key", "'hello world'", "'../../etc'", exit_code=2)
    assert not (tmp_path / "out").exists()


def test_unknown_keys_are_named_in_the_dry_run_and_the_run(hf_catalog, release, tmp_path):
    key, file_id = _known(hf_catalog)
    ghosts = ["V09_S9999_I00000000", "V09_S9999_I00000001"]  # parse, not in the catalog
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join([key, *ghosts]) + "\n")
    to = tmp_path / "out"
    dry = _materialize(hf_catalog, release, to, "--selection", ids, "--dry-run")
    assert dry.exit_code == 0 and not to.exists(), dry.output
    named = [line for line in dry.stdout.splitlines() if "not in the catalog" in line]
    assert len(named) == 1 and all(g in named[0] for g in ghosts), dry.stdout
    result = _materialize(hf_catalog, release, to, "--selection", ids)
    assert result.exit_code == 1 and result.stderr == "", result.output
    lines = result.stdout.splitlines()
    named = [line for line in lines if ghosts[0] in line]
    assert len(named) == 1 and ghosts[1] in named[0] and "not in the catalog" in named[0]
    assert "--retry-failed cannot help" in lines[-1], lines[-1]
    assert list(to.rglob(f"{file_id}.json")), "the known interaction was still delivered"


def test_an_unknown_file_id_is_not_told_to_retry(hf_catalog, release, tmp_path):
    _, file_id = _known(hf_catalog)
    ghost = "V09_S9999_I00000000_P9999"
    sql = f"select '{file_id}' as file_id union all select '{ghost}'"
    dry = _materialize(hf_catalog, release, tmp_path / "out", "--sql", sql, "--dry-run")
    assert dry.exit_code == 0 and ghost in dry.stdout.splitlines()[1], dry.stdout
    result = _materialize(hf_catalog, release, tmp_path / "out", "--sql", sql)
    failures = assert_failures_reported(result, "not in the catalog")
    assert list(failures) == [ghost]


def test_a_new_catalog_offline_names_the_options_that_replace_the_defaults(
    release, tmp_path, no_external_network
):
    root = tmp_path / "new"
    result = run("ingest", "--catalog", root, release / "tree")
    line = assert_error(result, "download failed", "--filelist", "--assets")
    assert "offline" in line, line
    assert snapshots.read_manifest(root) is None
    given = run("ingest", "--catalog", root, "--filelist", release / "filelist.csv",
                "--assets", release / "assets", release / "tree")  # fmt: skip
    assert given.exit_code == 0, given.output  # what the message says works
