"""Write output files atomically: a unique temp file in the target folder, fsync, verify,
rename.

A temp file left by an interrupted run is resumed (its bytes are kept and the source is
read from where it stopped) or removed. No file ever appears under its final name unless
its bytes are on disk and its size (and sha256, when known) matched. A :class:`Committer`
does the fsync, verify and rename of downloaded files beside the downloads.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ...errors import CatalogError, disk_errors
from ...store.snapshots import flock
from ..planning.items import Item, Request
from .local import STATE_DIR, temp_files, temp_prefix

log = logging.getLogger(__name__)


class VerifyError(CatalogError):
    """A written file is not what the source promised (size or sha256)."""


class PartFile:
    """One output being written: appends, renamed into place by ``commit``.

    ``sha256``: the digest the bytes must have (the source published it), hashed as they are
    written; None when the source gives none, and then nothing is hashed: on loopback the
    hashing halved the throughput, and a digest nobody checks does not make a file sounder
    (the size and the ETag-pinned reads do). ``version`` (:attr:`Item.version`) is part of
    the temp name: only a temp file of the same version of the source is resumed. A failed
    local write (no space, read-only) removes the temp file and raises :class:`DiskError`."""

    def __init__(
        self, dest: Path, resume: bool, version: str = "", sha256: str | None = None
    ) -> None:
        self.dest = dest
        self.expected = sha256
        self.hash = hashlib.sha256() if sha256 is not None else None
        with disk_errors(dest.parent):
            dest.parent.mkdir(parents=True, exist_ok=True)
            temps = temp_files(dest, version) if resume else []
            if temps:
                self.path = temps[0]
                if self.hash is not None:
                    with self.path.open("rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            self.hash.update(chunk)
            else:
                tag = f"{version}-" if version else ""
                self.path = dest.parent / f"{temp_prefix(dest)}{tag}{uuid.uuid4().hex[:12]}.part"
            self.fh = self.path.open("ab")
        self.size = self.fh.tell()

    def write(self, data: bytes | memoryview) -> None:
        try:
            with disk_errors(self.dest):
                self.fh.write(data)
        except BaseException:
            self.discard()
            raise
        if self.hash is not None:
            self.hash.update(data)
        self.size += len(data)

    def flush(self) -> None:
        """Hand the buffered bytes to the OS (a kill then keeps them for the next run)."""
        try:
            with disk_errors(self.dest):
                self.fh.flush()
        except BaseException:
            self.discard()
            raise

    def commit(self, size: int | None) -> str | None:
        """Verify and rename into place; return the verified sha256 (None if none was asked)."""
        try:
            with disk_errors(self.dest):
                self.fh.flush()
                os.fsync(self.fh.fileno())
                on_disk = os.fstat(self.fh.fileno()).st_size
                self.fh.close()
                digest = self.hash.hexdigest() if self.hash is not None else None
                if on_disk != self.size:  # another writer appended to the same temp file
                    raise VerifyError(f"{self.dest.name}: temp file changed while written")
                if size is not None and self.size != size:
                    raise VerifyError(f"{self.dest.name}: got {self.size} bytes, expected {size}")
                if digest != self.expected:
                    raise VerifyError(
                        f"{self.dest.name}: sha256 {digest} differs from {self.expected}"
                    )
                os.replace(self.path, self.dest)
        except BaseException:
            self.discard()
            raise
        return digest

    def close(self) -> None:
        """Leave the temp file for a later run to resume (an interrupted transfer)."""
        if not self.fh.closed:
            self.fh.close()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.close()  # its buffer may not flush on a full disk
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


class Committer:
    """Commits finished files (:meth:`PartFile.commit`: fsync, verify, rename) on threads of
    its own, so that a download goes on while the file it just wrote syncs (fsync releases
    the GIL). At most ``pending`` files wait or are being committed (each holds an open file):
    :meth:`submit` blocks while they are that many. Leaving the ``with`` block waits for every
    commit, also on an exception: none renames after its run has returned or raised (and
    released the destination lock)."""

    def __init__(self, threads: int = 4, pending: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="commit")
        self._slots = threading.BoundedSemaphore(max(1, pending))

    def submit(self, out: PartFile, size: int | None) -> Future[str | None]:
        """Commit ``out`` (expecting ``size`` bytes) in the background; the future gives the
        verified sha256 (None if none was asked) or the commit's error (the temp file is
        then removed, as by :meth:`PartFile.commit`)."""
        self._slots.acquire()
        try:
            future = self._pool.submit(out.commit, size)
        except BaseException:
            self._slots.release()
            out.close()  # not committed: left for the next run to resume
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def __enter__(self) -> Committer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)


class Splitter:
    """The byte stream of one request, cut into its items' files (tar headers dropped).

    As each item's last byte is written its file goes to ``committer`` and the read goes on;
    ``commits`` lists the items handed over with the futures of their commits.
    ``on_done(item)`` is called once the item's file is under its final name (from the
    committer's thread; not for a failed commit).
    """

    def __init__(
        self,
        to: Path,
        request: Request,
        committer: Committer,
        on_done: Callable[[Item], None] = lambda item: None,
        on_bytes: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.to, self.request, self.committer = to, request, committer
        self.on_done, self.on_bytes = on_done, on_bytes
        self.pos = request.offset  # absolute offset in the object of the next byte
        self.spans = []  # (start, end, item) in object offsets, for the bytes still to write
        for i, item in enumerate(request.items):
            part = item.parts[0]
            start = request.offset if i == 0 else part.offset
            self.spans.append((start, part.offset + part.length, item))
        self.current: PartFile | None = None
        self.index = 0
        self.received = 0
        self.commits: list[tuple[Item, Future[str | None]]] = []

    def _open(self) -> PartFile:
        if self.current is None:
            item = self.spans[self.index][2]
            self.current = PartFile(
                self.to / item.dest, item.partial > 0, item.version, item.sha256
            )
        return self.current

    def _commit(self, item: Item, out: PartFile) -> None:
        self.current = None
        self.index += 1
        out.flush()
        future = self.committer.submit(out, item.size)
        self.commits.append((item, future))

        def renamed(f: Future[str | None]) -> None:
            if f.exception() is None:
                self.on_done(item)

        future.add_done_callback(renamed)

    def write(self, data: bytes) -> int:
        n = len(data)
        self.received += n
        self.on_bytes(n)
        view = memoryview(data)
        while view and self.index < len(self.spans):
            start, end, item = self.spans[self.index]
            if self.pos < start:  # header bytes between two members
                skip = min(start - self.pos, len(view))
                view, self.pos = view[skip:], self.pos + skip
                continue
            take = min(end - self.pos, len(view))
            out = self._open()
            if take:
                out.write(view[:take])  # no copy: the file (and hash) take a view
                view, self.pos = view[take:], self.pos + take
            if self.pos >= end:
                self._commit(item, out)
        return n

    def finish(self) -> None:
        """Commit the zero-length items left at the end (a read of 0 bytes writes nothing)."""
        while self.index < len(self.spans):
            start, end, item = self.spans[self.index]
            if self.pos < end:
                break
            self._commit(item, self._open())

    def abort(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


def write_bytes(to: Path, item: Item, data: bytes) -> str:
    """Write a built output (a merged npz or json) atomically; return its sha256 (kept in
    its sidecar: the next run checks the file against it)."""
    digest = hashlib.sha256(data).hexdigest()  # of the bytes in hand: nothing to verify
    out = PartFile(to / item.dest, resume=False)
    out.write(data)
    out.commit(len(data))
    return digest


@contextlib.contextmanager
def destination_lock(to: Path) -> Iterator[None]:
    """Hold ``{to}/.seamless-catalog/lock`` (flock) while materializing into ``to``: a second
    run waits for the first, then finds its files present. The kernel drops a dead holder's
    lock. A destination that cannot be written fails here, before any transfer."""
    state = to / STATE_DIR
    with disk_errors(state):
        state.mkdir(parents=True, exist_ok=True)
        (state / "lock").touch()

    def wait() -> None:
        log.warning("another materialize is writing into %s: waiting for it to finish", to)

    with flock(state / "lock", wait):
        yield
