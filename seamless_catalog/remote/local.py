"""A local folder as an object store (a mirror of the Hub tars or of the per-file layout)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import SourceNotFound, UsageError
from ..formats.readers import FileReader, RangeReader
from .base import ObjectInfo, StoreDefaults


class LocalStore(StoreDefaults):
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

    def fetch(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
