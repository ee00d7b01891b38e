"""Disk faults for ingest and materialize: no space left mid-write (simulated, and on a
small tmpfs when we may mount one), a read-only destination or catalog (a read-only bind
mount as root, else chmod). Each: a clean one-line error (no traceback), temp files gone,
the catalog (or what was delivered) unchanged, nothing written outside."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.materialize import materialize
from seamless_catalog.materialize.running import write
from seamless_catalog.materialize.running.receipts import last_receipt, read_receipt
from seamless_catalog.store import snapshots
from tests.cli_contract import assert_error, assert_failures_reported, run
from tests.containment import Contained, tree_digest

pytestmark = pytest.mark.slow  # a full ingest or materialize per disk fault, tmpfs mounts

SQL = "select file_id from files where file_id in (select file_id from raw.members)\n" \
    "order by file_id limit 4"  # fmt: skip


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    if not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)):
        pytest.skip("cannot mount a tmpfs here (needs root); the simulated cases still run")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only(path: Path):
    """``path`` read-only: a read-only bind mount as root (chmod binds nobody), else chmod."""
    if os.geteuid() == 0:
        if not _mount("--bind", str(path), str(path)):
            pytest.skip("cannot bind-mount here")
        if not _mount("-o", "remount,bind,ro", str(path)):
            subprocess.run(["umount", "-l", str(path)], check=False)
            pytest.skip("cannot remount read-only here")
        try:
            yield path
        finally:
            subprocess.run(["umount", "-l", str(path)], check=False)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(mode)


class FullFile:
    """A file object on a full disk: every write raises ENOSPC."""

    def __init__(self, fh) -> None:
        self._fh = fh

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str):
        return getattr(self._fh, name)


def _cli(*args: str):
    return run(*args)


def _clean_error(out, *words: str) -> None:
    assert out.exit_code == 1, out.output
    assert (
        "Traceback" not in out.output
        and out.exception is None
        or isinstance(out.exception, SystemExit)
    )
    for w in words:
        assert w in out.output, out.output
    assert_error(out, *words)


def _finals(to: Path) -> list[Path]:
    return [p for p in to.rglob("*") if p.is_file() and ".seamless-catalog" not in p.parts]


# -- materialize ------------------------------------------------------------------------------


@pytest.mark.parametrize("after", [0, 50_000, 600_000])
def test_materialize_no_space_mid_write(hf_catalog, release, tmp_path, monkeypatch, after):
    to = tmp_path / "out"
    box = Contained(tmp_path, [to], [release, hf_catalog], tmp_path / "sentinel")
    original, written = write.PartFile.write, [0]

    def full_disk(self, data):
        if written[0] + len(data) > after:
            fit = max(0, after - written[0])
            original(self, data[:fit])
            written[0] += fit
            self.fh = FullFile(self.fh)  # the file object the real write goes through
        else:
            written[0] += len(data)
        original(self, data[fit:] if isinstance(self.fh, FullFile) else data)

    monkeypatch.setattr(write.PartFile, "write", full_disk)
    src = release / "hf"
    out = _cli("materialize", "--catalog", hf_catalog, "--sql", SQL, "--to", to, "--source", src)
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output and isinstance(out.exception, SystemExit)
    failures = assert_failures_reported(out, "cannot write", "No space left on device",
                                        "free some space")  # fmt: skip
    assert not list(to.rglob("*.part")), "temp files of the failed writes are removed"
    for f in _finals(to):  # what was delivered is whole
        assert f.read_bytes() == (release / "tree" / f.relative_to(to)).read_bytes()
    rows = read_receipt(last_receipt(to))
    failed = [r for r in rows if r["status"] == "failed"]
    assert failed and all("No space left" in r["reason"] for r in failed)
    assert sorted(failures) == sorted(r["path"] for r in failed)  # the receipt names the same
    monkeypatch.setattr(write.PartFile, "write", original)
    again = materialize(hf_catalog, sql=SQL, to=to, source=str(src))
    assert again.ok and again.count("delivered") == len(failed)
    box.check()


def test_materialize_onto_a_full_tmpfs(hf_catalog, release, tmp_path):
    with small_disk(tmp_path / "small", "1m") as disk:
        to = disk / "out"
        box = Contained(tmp_path, [disk], [release, hf_catalog], tmp_path / "cwd")
        src = release / "hf"
        out = _cli("materialize", "--catalog", hf_catalog, "--sql", SQL, "--to", to,
                   "--source", src)  # fmt: skip
        assert out.exit_code == 1 and "Traceback" not in out.output
        assert "No space left on device" in out.output
        assert_failures_reported(out, "No space left on device")
        assert not list(to.rglob("*.part"))
        for f in _finals(to):
            assert f.read_bytes() == (release / "tree" / f.relative_to(to)).read_bytes()
        box.check()


def test_materialize_into_a_read_only_destination(hf_catalog, release, tmp_path):
    to = tmp_path / "out"
    to.mkdir()
    box = Contained(tmp_path, [], [release, hf_catalog], tmp_path / "cwd")
    with read_only(to):
        src = release / "hf"
        out = _cli("materialize", "--catalog", hf_catalog, "--sql", SQL, "--to", to,
                   "--source", src)  # fmt: skip
    _clean_error(out, "cannot write", str(to))
    assert not any(to.iterdir())
    box.check()


# -- ingest -----------------------------------------------------------------------------------


def _counts(root: Path) -> dict:
    with Catalog.open(root) as cat:
        return {
            t: cat.value(f"select count(*) from raw.{t}")
            for t in ("files", "members", "vad_segments", "ingest_runs")
        }


def _ingest_args(root: Path, release: Path) -> list:
    return ["ingest", "--catalog", root, "--filelist", release / "filelist.csv",
            "--assets", release / "assets", release / "hf"]  # fmt: skip


def _assert_only_named_files(root: Path) -> None:
    m = snapshots.read_manifest(root)
    named = {f for mm in (m, snapshots.read_manifest(root, snapshots.PREVIOUS)) if mm
             for fs in mm.tables.values() for f in fs}  # fmt: skip
    on_disk = {str(p.relative_to(root)) for p in (root / "data").rglob("*.parquet")}
    assert on_disk == named, on_disk ^ named
    assert not list(root.glob(".*.tmp*"))


@pytest.fixture()
def small_catalog(release, tmp_path) -> Path:
    root = tmp_path / "cat"
    ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    return root


@pytest.mark.parametrize("nth", [1, 5, 10])  # 10: ingest_runs, the last
def test_ingest_no_space_while_writing_tables(small_catalog, release, tmp_path, monkeypatch, nth):
    root = small_catalog
    before, digest = _counts(root), tree_digest(root, content=True)
    box = Contained(tmp_path, [root], [release], tmp_path / "cwd")
    original, calls = snapshots.SnapshotWriter.write_table, [0]

    def full(self, name, sql):
        calls[0] += 1
        if calls[0] == nth:
            original(self, name, sql)  # its files are written, then the disk is full
            raise duckdb.IOException(
                f'IO Error: Could not write file "{root}/data/x": No space left on device'
            )
        return original(self, name, sql)

    monkeypatch.setattr(snapshots.SnapshotWriter, "write_table", full)
    out = _cli(*_ingest_args(root, release))
    _clean_error(out, "No space left on device", "free some space", str(root))
    assert _counts(root) == before
    _assert_only_named_files(root)
    after = tree_digest(root, content=True)
    assert {k: v for k, v in after.items() if not k.startswith("staging")} == digest
    monkeypatch.setattr(snapshots.SnapshotWriter, "write_table", original)
    assert _cli(*_ingest_args(root, release)).exit_code == 0
    box.check()


def test_ingest_onto_a_full_tmpfs(release, tmp_path):
    with small_disk(tmp_path / "small", "2m") as disk:
        root = disk / "cat"
        ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
        before = _counts(root)
        used = shutil.disk_usage(disk).used
        subprocess.run(["mount", "-o", f"remount,size={used + 96 * 1024}", str(disk)], check=True)
        out = _cli(*_ingest_args(root, release))
        assert out.exit_code == 1 and "Traceback" not in out.output, out.output
        assert "No space left on device" in out.output
        assert_error(out, "No space left on device", str(root))
        assert _counts(root) == before
        _assert_only_named_files(root)


def test_ingest_into_a_read_only_catalog(small_catalog, release, tmp_path):
    root = small_catalog
    before, digest = _counts(root), tree_digest(root, content=True)
    with read_only(root):
        out = _cli(*_ingest_args(root, release))
    _clean_error(out, "cannot write", str(root))
    assert _counts(root) == before and tree_digest(root, content=True) == digest
