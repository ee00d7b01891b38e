"""The commit of each downloaded file (fsync, verify, rename) runs beside the downloads, on
the :class:`~seamless_catalog.materialize.running.write.Committer`: a file gets its final name only
after its fsync, and is counted (progress, receipt) only after its rename; the download goes
on while it syncs; a failed commit fails that file alone; at most a bounded number of files
wait; and a run returns or raises only once every commit is done."""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from seamless_catalog.materialize import materialize
from seamless_catalog.materialize.running import fetch, write
from seamless_catalog.materialize.running.local import STATE_DIR
from seamless_catalog.materialize.running.receipts import last_receipt, read_receipt
from seamless_catalog.remote.local import LocalStore

pytestmark = pytest.mark.slow  # materialize runs whose fsyncs are made slow on purpose

TARS = (
    "select file_id from files where file_id in (select file_id from raw.members) "
    "order by file_id limit 6"
)


def _path_of(fd: int) -> Path:
    return Path(os.readlink(f"/proc/self/fd/{fd}"))


def _finals(to: Path) -> list[Path]:
    return sorted(
        p for p in to.rglob("*") if p.is_file() and STATE_DIR not in p.parts and p.suffix != ".part"
    )


def _same_as_tree(to: Path, release: Path) -> None:
    for f in _finals(to):
        assert f.read_bytes() == (release / "tree" / f.relative_to(to)).read_bytes(), f


@pytest.mark.parametrize("workers", [1, 3])
def test_a_file_is_synced_before_its_final_name_and_counted_after(
    hf_catalog, release, tmp_path, monkeypatch, workers
):
    to = tmp_path / "out"
    real_fsync, real_replace, real_add = os.fsync, os.replace, fetch.Progress.add_file
    lock = threading.Lock()
    synced: set[Path] = set()
    renamed: list[Path] = []
    seen_at_count: list[int] = []

    def fsync(fd: int) -> None:
        path = _path_of(fd)
        if path.suffix == ".part":  # its final name does not exist yet
            assert not (path.parent / path.name[1:].rsplit(".", 2)[0]).exists()
        real_fsync(fd)
        with lock:
            synced.add(path)

    def replace(src, dst) -> None:
        src, dst = Path(src), Path(dst)
        if src.suffix == ".part":
            with lock:
                assert src in synced, f"{dst} renamed before its fsync"
        real_replace(src, dst)
        if src.suffix == ".part":
            with lock:
                renamed.append(dst)

    def add_file(self) -> None:
        with lock:
            seen_at_count.append(len(renamed))
        real_add(self)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(fetch.Progress, "add_file", add_file)
    r = materialize(hf_catalog, sql=TARS, to=to, source=str(release / "hf"), workers=workers)
    assert r.ok and r.count("delivered") == len(renamed) > 4
    # the k-th file counted was counted after at least k renames
    assert all(n >= k for k, n in enumerate(seen_at_count, 1)), seen_at_count
    rows = read_receipt(last_receipt(to))
    assert {to / row["path"] for row in rows if row["status"] == "delivered"} == set(renamed)
    assert not list(to.rglob("*.part"))
    _same_as_tree(to, release)


def test_the_download_goes_on_while_the_previous_file_syncs(
    hf_catalog, release, tmp_path, monkeypatch
):
    """One worker: the first file's fsync holds until bytes of the next file are written.
    Were the fsync on the download thread, those bytes would come only after it."""
    to = tmp_path / "out"
    real_fsync, real_write = os.fsync, write.PartFile.write
    first: list[Path] = []  # the first file written (and so the first committed)
    next_written = threading.Event()
    overlapped: list[bool] = []

    def fsync(fd: int) -> None:
        if _path_of(fd) in first and not overlapped:
            overlapped.append(next_written.wait(timeout=30))  # a deadlock guard only
        real_fsync(fd)

    def write_(self, data) -> None:
        if not first:
            first.append(self.path)
        elif self.path != first[0]:
            next_written.set()
        real_write(self, data)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(write.PartFile, "write", write_)
    r = materialize(hf_catalog, sql=TARS, to=to, source=str(release / "hf"), workers=1)
    assert r.ok and overlapped == [True]
    _same_as_tree(to, release)


def test_a_failed_commit_fails_that_file_alone(hf_catalog, release, tmp_path, monkeypatch):
    """The fsync of the first member of a read fails (EIO): that file fails as a DiskError,
    its temp file is removed, and the other members of the same read still land."""
    to, src = tmp_path / "out", str(release / "hf")
    plan = materialize(hf_catalog, sql=TARS, to=to, source=src, dry_run=True).plan
    victim = plan.requests[0].items[0]
    assert len(plan.requests[0].items) > 1
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        path = _path_of(fd)
        if path.suffix == ".part" and path.name.startswith(f".{Path(victim.dest).name}."):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    r = materialize(hf_catalog, sql=TARS, to=to, source=src, workers=1)
    assert [o.path for o in r.failures] == [victim.dest]
    assert "Input/output error" in r.failures[0].reason
    assert r.count("delivered") == len(plan.items) - 1
    assert not (to / victim.dest).exists() and not list(to.rglob("*.part"))
    rows = read_receipt(last_receipt(to))
    assert [row["path"] for row in rows if row["status"] == "failed"] == [victim.dest]
    _same_as_tree(to, release)
    monkeypatch.setattr(os, "fsync", real_fsync)
    again = materialize(hf_catalog, sql=TARS, to=to, source=src, workers=1)
    assert again.ok and [o.path for o in again.outcomes if o.status == "delivered"] == [victim.dest]
    _same_as_tree(to, release)


class Stop(BaseException):
    """Not an Exception: nothing in the run catches it (as a KeyboardInterrupt)."""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_that_raises_waits_for_its_commits_first(
    hf_catalog, release, tmp_path, monkeypatch, workers
):
    """The second read raises while the files of the first are still syncing (slowed): the
    run raises only after they are renamed, no commit runs after that, and the destination
    lock is free."""
    to = tmp_path / "out"
    real_fsync, real_copy = os.fsync, LocalStore.copy_range
    calls = [0]
    renamed: list[Path] = []
    real_replace = os.replace

    def fsync(fd: int) -> None:
        if _path_of(fd).suffix == ".part":
            time.sleep(0.2)  # widens the window in which commits are pending
        real_fsync(fd)

    def replace(src, dst) -> None:
        real_replace(src, dst)
        if Path(src).suffix == ".part":
            renamed.append(Path(dst))

    def copy_range(self, key, offset, length, out, info=None):
        calls[0] += 1
        if calls[0] == 2:
            raise Stop()
        return real_copy(self, key, offset, length, out, info)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(LocalStore, "copy_range", copy_range)
    with pytest.raises(Stop):
        materialize(hf_catalog, sql=TARS, to=to, source=str(release / "hf"), workers=workers)
    done = list(renamed)
    assert not [t for t in threading.enumerate() if t.name.startswith("commit")]
    assert renamed == done  # nothing renames after the run raised
    finals = _finals(to)
    assert finals and set(finals) == set(done)
    _same_as_tree(to, release)
    with (to / STATE_DIR / "lock").open("rb") as fh:  # released
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    r = materialize(hf_catalog, sql=TARS, to=to, source=str(release / "hf"))
    assert r.ok and not list(to.rglob("*.part"))
    _same_as_tree(to, release)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_files_waiting_for_their_commit_are_bounded(
    hf_catalog, release, tmp_path, monkeypatch, workers
):
    """With slow syncs, the downloads wait for the committer rather than pile up open
    files: at most 2 x workers queued or committing, plus one finished per download thread
    waiting to be queued."""
    to = tmp_path / "out"
    real_flush, real_commit, real_fsync = (
        write.PartFile.flush, write.PartFile.commit, os.fsync
    )  # fmt: skip
    lock = threading.Lock()
    waiting, most = [0], [0]

    def flush(self) -> None:  # the last byte is written: the file goes to the committer
        real_flush(self)
        with lock:
            waiting[0] += 1
            most[0] = max(most[0], waiting[0])

    def commit(self, size):
        try:
            return real_commit(self, size)
        finally:
            with lock:
                waiting[0] -= 1

    def fsync(fd: int) -> None:
        if _path_of(fd).suffix == ".part":
            time.sleep(0.05)
        real_fsync(fd)

    monkeypatch.setattr(write.PartFile, "flush", flush)
    monkeypatch.setattr(write.PartFile, "commit", commit)
    monkeypatch.setattr(os, "fsync", fsync)
    r = materialize(hf_catalog, sql=TARS, to=to, source=str(release / "hf"), workers=workers)
    assert r.ok and r.count("delivered") > 3 * workers + 1
    assert 1 <= most[0] <= 3 * workers, most
    assert waiting == [0]
    _same_as_tree(to, release)
