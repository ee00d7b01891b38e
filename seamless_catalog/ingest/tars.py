"""Tars in the Hub layout ``{label}/{split}/{batch:04d}/{archive:04d}.tar``, local or remote.

One unit per tar. The member index comes from walking the tar headers (jumping
over member data); the json members are parsed and the media probed from their
headers, all through a random-access reader, so a local file and a Hub object
by HTTP range take the same path. Nothing is extracted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..readers import RangeReader, SliceReader
from ..remote import ObjectInfo, ObjectStore, open_store
from ..remote.base import LocalStore
from ..tarindex import TarMember, TarProblem, iter_entries, unsafe_name_reason
from . import samples
from .layout import TAR_RE, relative
from .units import Sink, Unit


def parse_tar(sink: Sink, reader: RangeReader, rel: str) -> None:
    label, split = rel.split("/")[:2]
    idx = 0
    for entry in iter_entries(reader):
        if isinstance(entry, TarProblem):
            where = f"{rel}@{entry.offset}" + (f" ({entry.name!r})" if entry.name else "")
            sink.issue(where, entry.message)
            continue
        if not _sample_member(sink, entry, rel):
            continue
        file_id, ext = samples.split_name(entry.name)
        sink.add(
            "members",
            archive_path=rel,
            member=entry.name,
            file_id=file_id,
            ext=ext,
            member_idx=idx,
            offset_header=entry.offset_header,
            offset_data=entry.offset_data,
            size=entry.size,
            label=label,
            split=split,
        )
        idx += 1
        window = SliceReader(reader, entry.offset_data, entry.size)
        samples.add_sample_file(
            sink, file_id, ext, label, split, window, f"{rel}:{entry.name}", "tar"
        )


def _sample_member(sink: Sink, m: TarMember, rel: str) -> bool:
    """A regular file named ``{file_id}.{json,mp4,npz,wav}``; anything else is reported."""
    if m.type != "file" or unsafe_name_reason(m.name):
        return False  # iter_entries already reported it
    if samples.split_name(m.name) is None:
        sink.issue(f"{rel}:{m.name}", "member is not named {file_id}.{json,mp4,npz,wav}")
        return False
    return True


def _parse_object(sink: Sink, store: ObjectStore, key: str, rel: str, info: ObjectInfo) -> None:
    reader = store.reader(key, info)
    try:
        parse_tar(sink, reader, rel)
    finally:
        close = getattr(reader, "close", None)
        if close:
            close()


def _fingerprint(info: ObjectInfo) -> str:
    return info.sha256 or info.etag or str(info.size)


@dataclass(frozen=True)
class TarSource:
    location: str
    store: ObjectStore
    tars: tuple[tuple[str, str, ObjectInfo], ...]  # (key in store, archive path, info)

    def units(self) -> Iterable[Unit]:
        for key, rel, info in self.tars:
            yield Unit(
                f"tar:{rel}",
                "tar",
                self.location,
                _fingerprint(info),
                lambda sink, k=key, r=rel, i=info: _parse_object(sink, self.store, k, r, i),
            )


def tar_source(location: str, settings: Settings) -> TarSource | None:
    """A ``.tar`` file, a folder holding tars in the Hub layout, or a remote store of them."""
    path = Path(location)
    if path.is_file() and path.suffix == ".tar":
        rel = relative(TAR_RE, path.resolve().as_posix())
        if rel is None:
            return None
        store = LocalStore(path.parent)
        info = store.info(path.name)
        return TarSource(location, store, ((path.name, rel, info),))
    if not (path.is_dir() or location.startswith("hf://")):
        return None
    store = open_store(location, settings)
    base = path.resolve().as_posix() + "/" if path.is_dir() else "/"
    tars = []
    for info in store.list():
        rel = relative(TAR_RE, base + info.key) if info.key.endswith(".tar") else None
        if rel:
            tars.append((info.key, rel, info))
    return TarSource(location, store, tuple(tars)) if tars else None
