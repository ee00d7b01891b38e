"""The object-store contract shared by ingest and the materializer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from ..formats.readers import RangeReader


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

    def fetch(self, key: str) -> bytes | None:
        """The whole object in one read (no HEAD first), or None when absent."""
        ...

    # Stores that resolve each object before reading it (the Hub) remember what they
    # resolved; the others have nothing to remember, hand over or take.
    remembers_resolutions: bool

    def resolutions(self, keys: Iterable[str]) -> Mapping[str, object]:
        """What ``keys`` were resolved to so far (no request), for :meth:`adopt` elsewhere."""
        ...

    def adopt(self, resolutions: Mapping[str, object]) -> None:
        """Use resolutions made by another store of the same source."""
        ...


class StoreDefaults:
    """What a store without resolutions does about them: nothing."""

    remembers_resolutions = False

    def resolutions(self, keys: Iterable[str]) -> Mapping[str, object]:
        return {}

    def adopt(self, resolutions: Mapping[str, object]) -> None:
        pass


class ReaderBackedStore(StoreDefaults):
    """A remote store whose ranged reads go through its ``reader(key, info)``: one object
    handle that holds the object's size and version and does the retries. ``copy_range`` is
    the same for all of them."""

    def copy_range(
        self, key: str, offset: int, length: int, out: BinaryIO, info: ObjectInfo | None = None
    ) -> int:
        return self.reader(key, info).copy_range(offset, length, out)
