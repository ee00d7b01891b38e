"""Random-access byte readers: one parsing code path for local files and remote objects.

Parsers (``tarindex``, ``probes``) only ever call ``read_at(offset, n)`` and look at ``size``.
A local file, an in-memory buffer, a window of another reader (a tar member's data) and,
elsewhere, an HTTP Range reader all satisfy :class:`RangeReader`. Remote reads cost one
request each, so parsers read headers in one small read and jump over payloads;
:class:`ReadAheadReader` turns a run of tiny reads near each other into one request.
:class:`ReaderFile` gives a reader the file interface (``seek``/``read``/``tell``) that the
standard library's parsers (``zipfile``) take.
"""

from __future__ import annotations

import io
import os
from typing import Protocol, runtime_checkable


@runtime_checkable
class RangeReader(Protocol):
    """Bytes of one object, read at any offset. ``size`` is the object's length."""

    size: int

    def read_at(self, offset: int, n: int) -> bytes:
        """Return ``n`` bytes from ``offset``; fewer only when the object ends first."""
        ...


def _check_args(offset: int, n: int) -> None:
    if offset < 0 or n < 0:
        raise ValueError(f"read_at needs offset >= 0 and n >= 0, got offset={offset}, n={n}")


class FileReader:
    """A local file read with ``os.pread`` (no shared file position). Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self.size = os.fstat(self._fd).st_size

    def read_at(self, offset: int, n: int) -> bytes:
        _check_args(offset, n)
        n = max(0, min(n, self.size - offset))
        parts: list[bytes] = []
        while n > 0:
            chunk = os.pread(self._fd, n, offset)
            if not chunk:  # the file shrank under us
                break
            parts.append(chunk)
            offset += len(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FileReader({self.path!r}, size={self.size})"


class BytesReader:
    """An in-memory ``bytes``-like object."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = memoryview(data).cast("B")
        self.size = len(self._data)

    def read_at(self, offset: int, n: int) -> bytes:
        _check_args(offset, n)
        return bytes(self._data[offset : offset + n])

    def __repr__(self) -> str:
        return f"BytesReader(size={self.size})"


class SliceReader:
    """The window ``[start, start + size)`` of another reader, e.g. one tar member's data.

    ``size`` is the declared window; when the base object ends early (a truncated archive)
    reads simply come back short, as at any EOF.
    """

    def __init__(self, base: RangeReader, start: int, size: int) -> None:
        if start < 0 or size < 0:
            raise ValueError(f"SliceReader needs start >= 0 and size >= 0, got {start}, {size}")
        self.base = base
        self.start = start
        self.size = size

    def read_at(self, offset: int, n: int) -> bytes:
        _check_args(offset, n)
        n = max(0, min(n, self.size - offset))
        return self.base.read_at(self.start + offset, n) if n else b""

    def __repr__(self) -> str:
        return f"SliceReader({self.base!r}, start={self.start}, size={self.size})"


class ReadAheadReader:
    """Keep one window of ``readahead`` bytes: small reads inside it cost no further base read.

    Suits forward walks over headers that sit close together (RIFF chunks, a ``moov`` box,
    a pax header followed by its member header). A read outside the window refetches.
    """

    def __init__(self, base: RangeReader, readahead: int = 64 * 1024) -> None:
        self.base = base
        self.size = base.size
        self.readahead = readahead
        self._start = 0
        self._buf = b""

    def read_at(self, offset: int, n: int) -> bytes:
        _check_args(offset, n)
        rel = offset - self._start
        at_eof = self._start + len(self._buf) >= self.size
        if 0 <= rel <= len(self._buf) and (rel + n <= len(self._buf) or at_eof):
            return self._buf[rel : rel + n]
        if offset >= self.size:
            return b""
        self._start = offset
        self._buf = self.base.read_at(offset, max(n, self.readahead))
        return self._buf[:n]


class CountingReader:
    """Count the reads and bytes a parser asks of ``base``: the cost of a remote walk."""

    def __init__(self, base: RangeReader) -> None:
        self.base = base
        self.size = base.size
        self.reads = 0
        self.bytes_read = 0
        self.calls: list[tuple[int, int]] = []

    def read_at(self, offset: int, n: int) -> bytes:
        data = self.base.read_at(offset, n)
        self.reads += 1
        self.bytes_read += len(data)
        self.calls.append((offset, n))
        return data


def share(total: int, n: int, i: int) -> int:
    """Item ``i``'s share of ``total`` (bytes, reads) spent for ``n`` items together, the
    remainder to the first: the shares add up to the total."""
    return total // n + (total % n if i == 0 else 0)


class ReaderFile(io.RawIOBase):
    """A read-only, seekable file object over a reader: each ``read`` is one ``read_at``."""

    def __init__(self, reader: RangeReader) -> None:
        super().__init__()
        self.reader = reader
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.reader.size}[whence]
        if base + offset < 0:
            raise OSError(f"seek to {base + offset}, before the start of the object")
        self.pos = base + offset
        return self.pos

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = max(0, self.reader.size - self.pos)
        data = self.reader.read_at(self.pos, n)
        self.pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
