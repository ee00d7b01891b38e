"""The object-store contract shared by ingest and the materializer, and the local store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from ..config import Settings
from ..errors import SourceNotFound, UsageError
from ..readers import FileReader, RangeReader


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str | None = None  # version of the object; a change mid-transfer is an error
    sha256: str | None = None  # when the source publishes it (Hub LFS oid)


class ObjectStore(Protocol):
    """Objects under one root, addressed by relative keys (always ``/``-separated)."""

    uri: str

    def info(self, key: str) -> ObjectInfo | None:
        """Size and version of ``key``; None when absent (HTTP 403/404 count as absent)."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under ``prefix`` (one listing; raises UsageError where listing is off)."""
        ...

    def reader(self, key: str, info: ObjectInfo | None = None) -> RangeReader:
        """Random access to one object (one resolve, then one ranged request per read)."""
        ...

    def copy_range(
        self, key: str, offset: int, length: int, out: BinaryIO, info: ObjectInfo | None = None
    ) -> int:
        """Append bytes [offset, offset+length) of ``key`` to ``out``; retried and resumed inside,
        never splicing two versions of the object. Returns the bytes written (== length)."""
        ...


class ReaderBackedStore:
    """A remote store whose ranged reads go through its ``reader(key, info)``: one object
    handle that holds the object's size and version and does the retries. ``copy_range`` is
    the same for all of them."""

    def copy_range(
        self, key: str, offset: int, length: int, out: BinaryIO, info: ObjectInfo | None = None
    ) -> int:
        return self.reader(key, info).copy_range(offset, length, out)


class LocalStore:
    """A local folder (a mirror of the Hub tars or of the per-file layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.uri = str(self.root)
        if not self.root.is_dir():
            raise SourceNotFound(self.root, "expected a folder")

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or ".." in parts or "" in parts:
            raise UsageError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def info(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return ObjectInfo(key, st.st_size, etag=f"{st.st_size}-{st.st_mtime_ns}")

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self._path(prefix) if prefix else self.root
        for p in sorted(base.rglob("*")):
            if p.is_file():
                key = p.relative_to(self.root).as_posix()
                st = p.stat()
                yield ObjectInfo(key, st.st_size, etag=f"{st.st_size}-{st.st_mtime_ns}")

    def reader(self, key: str, info: ObjectInfo | None = None) -> RangeReader:
        return FileReader(self._path(key))

    def copy_range(
        self, key: str, offset: int, length: int, out: BinaryIO, info: ObjectInfo | None = None
    ) -> int:
        with FileReader(self._path(key)) as r:
            done = 0
            while done < length:
                chunk = r.read_at(offset + done, min(1 << 20, length - done))
                if not chunk:
                    raise SourceNotFound(key, f"ends after {offset + done} bytes")
                out.write(chunk)
                done += len(chunk)
        return done


def open_store(uri: str, settings: Settings) -> ObjectStore:
    """``hf://datasets/ORG/NAME[/sub]``, ``s3://BUCKET/PREFIX``, ``https://HOST/PREFIX`` or a
    local folder."""
    if uri.startswith(("hf://", "s3://", "http://", "https://")):
        from . import registry  # remote stores (Hub, S3, HTTPS)

        return registry.open_remote(uri, settings)
    return LocalStore(uri)
