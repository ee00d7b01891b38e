"""Write output files atomically: a unique temp file in the target folder, verify, rename.

A temp file left by an interrupted run is resumed (its bytes are kept and the source is
read from where it stopped) or removed. No file ever appears under its final name unless
its size (and sha256, when known) matched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from ..errors import CatalogError
from .plan import Item, Request, temp_files, temp_prefix


class VerifyError(CatalogError):
    """A written file is not what the source promised (size or sha256)."""


class PartFile:
    """One output being written: appends, hashes as it goes, renamed into place by ``commit``."""

    def __init__(self, dest: Path, resume: bool) -> None:
        self.dest = dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.hash = hashlib.sha256()
        temps = temp_files(dest) if resume else []
        if temps:
            self.path = temps[0]
            with self.path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    self.hash.update(chunk)
        else:
            self.path = dest.parent / f"{temp_prefix(dest)}{uuid.uuid4().hex[:12]}.part"
        self.fh = self.path.open("ab")
        self.size = self.fh.tell()

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.hash.update(data)
        self.size += len(data)

    def commit(self, size: int | None, sha256: str | None) -> str:
        """Verify and rename into place; return the sha256 of the file."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        digest = self.hash.hexdigest()
        if size is not None and self.size != size:
            self.discard()
            raise VerifyError(f"{self.dest.name}: got {self.size} bytes, expected {size}")
        if sha256 is not None and digest != sha256:
            self.discard()
            raise VerifyError(f"{self.dest.name}: sha256 {digest} differs from {sha256}")
        os.replace(self.path, self.dest)
        return digest

    def close(self) -> None:
        """Leave the temp file for a later run to resume (an interrupted transfer)."""
        if not self.fh.closed:
            self.fh.close()

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


class Splitter:
    """The byte stream of one request, cut into its items' files (tar headers dropped).

    ``on_done(item, sha256)`` is called as each item's last byte is written and committed.
    """

    def __init__(
        self,
        to: Path,
        request: Request,
        on_done: Callable[[Item, str], None],
        on_bytes: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.to, self.request, self.on_done, self.on_bytes = to, request, on_done, on_bytes
        self.pos = request.offset  # absolute offset in the object of the next byte
        self.spans = []  # (start, end, item) in object offsets, for the bytes still to write
        for i, item in enumerate(request.items):
            part = item.parts[0]
            start = request.offset if i == 0 else part.offset
            self.spans.append((start, part.offset + part.length, item))
        self.current: PartFile | None = None
        self.index = 0
        self.received = 0

    def _open(self) -> PartFile:
        if self.current is None:
            item = self.spans[self.index][2]
            self.current = PartFile(self.to / item.dest, resume=item.partial > 0)
        return self.current

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
                out.write(bytes(view[:take]))
                view, self.pos = view[take:], self.pos + take
            if self.pos >= end:
                self.current = None
                self.index += 1
                self.on_done(item, out.commit(item.size, item.sha256))
        return n

    def finish(self) -> None:
        """Commit the zero-length items left at the end (a read of 0 bytes writes nothing)."""
        while self.index < len(self.spans):
            start, end, item = self.spans[self.index]
            if self.pos < end:
                break
            out = self._open()
            self.current = None
            self.index += 1
            self.on_done(item, out.commit(item.size, item.sha256))

    def abort(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


def write_bytes(to: Path, item: Item, data: bytes) -> str:
    """Write a built output (a merged npz or json) atomically; return its sha256."""
    out = PartFile(to / item.dest, resume=False)
    try:
        out.write(data)
    except BaseException:
        out.discard()
        raise
    return out.commit(len(data), None)
