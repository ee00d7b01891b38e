"""Incremental, atomic, resumable: re-ingest, readers during a write, kill -9 at many points."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.store import snapshots

# a full ingest of the release per kill -9 point and per incremental re-ingest
pytestmark = pytest.mark.slow

COUNTS = (
    "files",
    "documents",
    "vad_segments",
    "transcript_words",
    "members",
    "media",
    "features",
    "units",
)


def _counts(root: Path) -> dict[str, int]:
    with Catalog.open(root) as cat:
        return {t: cat.value(f"select count(*) from raw.{t}") for t in COUNTS}


def _ingest(root: Path, hf: Path, release: Path):
    return ingest(
        root, [str(hf)], filelist=str(release / "filelist.csv"), assets=str(release / "assets")
    )


@pytest.fixture()
def hf_copy(release, tmp_path) -> Path:
    dest = tmp_path / "hf"
    shutil.copytree(release / "hf", dest)
    return dest


@pytest.fixture(scope="module")
def reference(release, tmp_path_factory) -> dict[str, int]:
    root = tmp_path_factory.mktemp("reference")
    _ingest(root, release / "hf", release)
    return _counts(root)


def test_unchanged_reingest_parses_nothing_and_keeps_files(release, hf_copy, tmp_path, reference):
    root = tmp_path / "cat"
    _ingest(root, hf_copy, release)
    before = snapshots.read_manifest(root)
    again = _ingest(root, hf_copy, release)
    after = snapshots.read_manifest(root)
    assert again.n_units_parsed == 0 and again.n_units_unchanged > 0
    assert after.snapshot == before.snapshot + 1
    changed = {t for t in after.tables if after.tables[t] != before.tables.get(t)}
    assert changed == {"units", "ingest_runs"}
    assert _counts(root) == reference


def test_changed_tar_is_reparsed_alone_without_duplicates(release, hf_copy, tmp_path, reference):
    root = tmp_path / "cat"
    _ingest(root, hf_copy, release)
    tar = sorted(hf_copy.rglob("*.tar"))[0]
    os.utime(tar, ns=(1, 1))
    result = _ingest(root, hf_copy, release)
    assert result.n_units_parsed == 1
    assert _counts(root) == reference


def test_removed_tar_removes_its_rows(release, hf_copy, tmp_path):
    root = tmp_path / "cat"
    _ingest(root, hf_copy, release)
    tar = sorted(hf_copy.rglob("*.tar"))[0]
    rel = tar.relative_to(hf_copy).as_posix()
    tar.unlink()
    result = _ingest(root, hf_copy, release)
    assert result.n_units_removed == 1
    with Catalog.open(root) as cat:
        assert cat.value("select count(*) from raw.members where archive_path = ?", [rel]) == 0


def test_few_files_per_partition_after_many_runs(release, hf_copy, tmp_path):
    root = tmp_path / "cat"
    for i in range(3):
        os.utime(sorted(hf_copy.rglob("*.tar"))[i], ns=(i + 5, i + 5))
        _ingest(root, hf_copy, release)
    m = snapshots.read_manifest(root)
    for table, files in m.tables.items():
        dirs = [str(Path(f).parent) for f in files]
        assert len(dirs) == len(set(dirs)), f"{table} has several files in one partition"
    on_disk = {str(p.relative_to(root)) for p in (root / "data").rglob("*.parquet")}
    named = {
        f
        for mm in (m, snapshots.read_manifest(root, snapshots.PREVIOUS))
        for fs in mm.tables.values()
        for f in fs
    }
    assert on_disk == named, "garbage collection keeps only the two newest snapshots"


def test_reader_keeps_its_snapshot_while_a_writer_commits(release, hf_copy, tmp_path, reference):
    root = tmp_path / "cat"
    ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    with Catalog.open(root) as old:
        _ingest(root, hf_copy, release)
        assert old.value("select count(*) from raw.vad_segments") == 0
        assert old.value("select count(*) from files") == reference["files"]
    assert _counts(root) == reference


def test_catalog_duckdb_opens_without_the_package(hf_catalog):
    """From inside the catalog folder (its views name files relative to it), as the README says."""
    code = (
        "import duckdb; c = duckdb.connect('catalog.duckdb', read_only=True); "
        "print(c.execute('select count(*) from pairs').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True,
        cwd=hf_catalog,
    ).stdout  # fmt: skip
    with Catalog.open(hf_catalog) as cat:
        assert int(out) == cat.value("select count(*) from pairs") > 0


KILLER = textwrap.dedent("""
    import os, signal, sys
    from seamless_catalog.store import snapshots, views
    from seamless_catalog.ingestion import docbatch, pool, pipeline, staging
    target, nth, root, hf, release = sys.argv[1:6]
    pipeline.BATCH_UNITS = 2  # several staging batches, so a kill can fall between them
    # "task" kills the parent while worker processes parse; the others parse in threads
    pool.MIN_BYTES = 0 if target == "task" else 1 << 62
    owner, name = {
        "parse": (docbatch, "parse"),
        "stage": (staging.Staging, "write"),
        "task": (staging.Staging, "adopt"),
        "write_table": (snapshots.SnapshotWriter, "write_table"),
        "manifest": (snapshots.os, "replace"),
        "catalog_duckdb": (views, "write_catalog_duckdb"),
        "gc": (snapshots, "collect_garbage"),
    }[target]
    original, calls = getattr(owner, name), [0]
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    setattr(owner, name, wrapper)
    pipeline.ingest(root, [hf], filelist=release + "/filelist.csv", assets=release + "/assets")
""")

POINTS = [
    ("parse", 1),
    ("parse", 3),
    ("task", 1),
    ("task", 3),
    ("stage", 1),
    ("stage", 3),
    ("write_table", 1),
    ("write_table", 4),
    ("write_table", 9),
    ("manifest", 1),
    ("catalog_duckdb", 1),
    ("gc", 1),
]


def _workers_of(pid: int) -> list[str]:
    """Worker processes (pool.py) started by process ``pid``, from /proc."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if f"serve({pid})".encode() in text:
            found.append(cmdline.parent.name)
    return found


def _assert_workers_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while _workers_of(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _workers_of(pid), "worker processes outlived their killed parent"


def test_tars_changed_after_a_kill_are_not_merged_twice(release, hf_copy, tmp_path, reference):
    """A killed run staged some tars, which change before the next run: the batches of
    their old version are dropped, not merged beside the new one (each row once)."""
    root = tmp_path / "cat"
    ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    argv = [sys.executable, "-c", KILLER, "stage", "3", str(root), str(hf_copy), str(release)]
    env = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert len(list((root / "staging").glob("batch-*"))) == 2
    for tar in hf_copy.rglob("*.tar"):
        os.utime(tar, ns=(1, 1))
    assert _ingest(root, hf_copy, release).ok
    assert _counts(root) == reference


@pytest.mark.parametrize("target, nth", POINTS)
def test_kill_9_leaves_old_or_new_catalog_and_rerun_completes(
    release, tmp_path, reference, target, nth
):
    root = tmp_path / "cat"
    ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    old = _counts(root)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLER,
            target,
            str(nth),
            str(root),
            str(release / "hf"),
            str(release),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0"),
    )
    _, stderr = proc.communicate()
    assert proc.returncode == -9, stderr[-2000:]
    _assert_workers_gone(proc.pid)
    after_kill = _counts(root)
    assert after_kill in (old, reference)
    result = _ingest(root, release / "hf", release)
    assert result.ok
    assert _counts(root) == reference
    assert not (root / "staging").exists()
    assert not list(root.glob(".*.tmp")), "temp files of the killed run were cleaned up"
