"""Ctrl-C during ingest's merge phase (issue 14): a real SIGINT to a CLI subprocess while a
DuckDB query of the merge runs is one line and exit status 130, never a traceback; the catalog
is as it was (none yet, or the old snapshot); `stats` on an interrupted first ingest says a
staged run exists and how to resume it; the rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.store import snapshots
from tests.cli_contract import assert_error, run

pytestmark = pytest.mark.slow  # an ingest subprocess per case

# The CLI as a user runs it, with one hook: the first table the merge writes announces itself
# on stdout and then runs a long DuckDB query (a stand-in for merging a big release), so that
# the parent's SIGINT lands inside a query of the merge, where DuckDB turns it into
# "RuntimeError: Query interrupted" (what a user saw). Should DuckDB not look for the signal
# before the query ends (it checks between tasks), Python raises KeyboardInterrupt right after:
# either way the run must end in one line, 130, and the catalog as it was.
CHILD = textwrap.dedent("""
    import sys
    from seamless_catalog.cli import main
    from seamless_catalog.store import snapshots
    original = snapshots.SnapshotWriter.write_table
    def write_table(self, *args, **kwargs):
        print("MERGE", flush=True)
        self.con.execute("select sum(hash(x)) from range(3000000000) t(x)").fetchall()
        return original(self, *args, **kwargs)
    snapshots.SnapshotWriter.write_table = write_table
    sys.exit(main(sys.argv[1:], prog_name="seamless-catalog"))
""")


def _interrupt_merge(args: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0"),
    )
    try:
        assert proc.stdout.readline().strip() == "MERGE", proc.stderr.read()[-2000:]
        time.sleep(1)  # the query has begun (a signal before it would be a plain Ctrl-C)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _assert_interrupted(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 130, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert lines == ["Error: interrupted; rerun the same command to resume"], lines


def _counts(root) -> dict[str, int]:
    with Catalog.open(root) as cat:
        return {t: cat.value(f"select count(*) from raw.{t}") for t in ("files", "members")}


def test_ctrl_c_in_the_merge_of_a_first_ingest(release, tmp_path):
    root = tmp_path / "cat"
    args = [
        "ingest", "--catalog", str(root), "--filelist", str(release / "filelist.csv"),
        "--assets", str(release / "assets"), str(release / "hf"),
    ]  # fmt: skip
    _assert_interrupted(_interrupt_merge(args))
    assert snapshots.read_manifest(root) is None  # nothing committed
    assert not list(root.glob(".*.tmp")), "temp files of the interrupted run are gone"
    line = assert_error(run("stats", "--catalog", root), "interrupted", exit_code=2)
    assert "staged" in line and "resume it: seamless-catalog ingest --catalog" in line, line
    resume = line.split("resume it: ", 1)[1]
    assert resume.split() == ["seamless-catalog", *args], resume
    result = run(*args)  # the command stats gave
    assert result.exit_code == 0, result.output
    assert _counts(root)["members"] > 0
    assert not (root / "staging").exists()


def test_ctrl_c_in_the_merge_of_a_later_ingest_keeps_the_old_snapshot(release, tmp_path):
    root = tmp_path / "cat"
    ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    before, manifest = _counts(root), snapshots.read_manifest(root)
    _assert_interrupted(_interrupt_merge(["ingest", "--catalog", str(root), str(release / "hf")]))
    assert snapshots.read_manifest(root) == manifest and _counts(root) == before
    assert run("stats", "--catalog", root).exit_code == 0
    assert run("ingest", "--catalog", root, release / "hf").exit_code == 0
    assert _counts(root)["members"] > before["members"]


def test_duckdb_interrupting_a_merge_query_is_an_interrupt(release, tmp_path, monkeypatch):
    """DuckDB's own interrupt of a running merge query (what a Ctrl-C becomes inside DuckDB:
    ``InterruptException``, or ``RuntimeError: Query interrupted`` through the Python signal
    check) ends the run as a Ctrl-C does: one line, 130, nothing committed."""
    original = snapshots.SnapshotWriter.write_table

    def write_table(self, *args, **kwargs):
        threading.Timer(0.5, self.con.interrupt).start()
        self.con.execute("select sum(hash(x)) from range(3000000000) t(x)").fetchall()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(snapshots.SnapshotWriter, "write_table", write_table)
    root = tmp_path / "cat"
    result = run(
        "ingest", "--catalog", root, "--filelist", release / "filelist.csv",
        "--assets", release / "assets",
    )  # fmt: skip
    assert_error(result, "interrupted; rerun the same command to resume", exit_code=130)
    assert snapshots.read_manifest(root) is None
