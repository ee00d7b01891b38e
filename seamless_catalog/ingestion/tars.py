"""Tars in the Hub layout ``{label}/{split}/{batch:04d}/{archive:04d}.tar``, local or remote.

One unit per tar. The member index comes from walking the tar headers (jumping
over member data); the json members are parsed and the media probed from their
headers, all through a random-access reader, so a local file and a Hub object
by HTTP range take the same path. Nothing is extracted.

Remote tars are read through :class:`RemoteWalk`, which sizes each request from what the
WebDataset member order says comes next: a json member's data arrives with the header
after it, a wav header with its tar header, the next sample's json with its tar header.
That is about three requests per sample (json, npz header, wav header), plus one for the
end marker. Probes of media that would cost more requests (mp4 ``moov`` at the end, the
npz central directory) run only for the extensions in ``Settings.remote_probes``; the
others get a ``media`` row with their size only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..config import Settings
from ..errors import UsageError
from ..formats.probes import HEADER_READAHEAD
from ..formats.readers import RangeReader, SliceReader
from ..formats.tarindex import BLOCK, TarMember, TarProblem, iter_entries, unsafe_name_reason
from ..layout import BATCH_DIR_RE, TAR_LAYOUT, TAR_RE, relative, split_name
from ..remote import ObjectInfo, ObjectStore, open_store
from ..remote.local import LocalStore
from . import members
from .paths import walk_resolved
from .sink import Sink
from .units import Unit

NEXT_EXT = {"json": "mp4", "mp4": "npz", "npz": "wav", "wav": "json"}  # WebDataset order


def _padded(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


class RemoteWalk:
    """One contiguous window over a remote tar; a miss fetches what the walk will need next.

    ``hint`` is how much to fetch on the next miss: a header alone, a header and the head of
    a probed medium, or a header and a whole json member (its size guessed from the last).
    """

    def __init__(self, base: RangeReader, probes: tuple[str, ...]) -> None:
        self.base = base
        self.size = base.size
        self.probes = frozenset(probes)
        self._start = 0
        self._buf = b""
        self.json_guess = HEADER_READAHEAD
        self.hint = BLOCK + self._need("json")

    def _need(self, ext: str) -> int:
        """Bytes of a member's data worth reading along with its tar header."""
        if ext == "json":
            return self.json_guess + BLOCK  # the json and the header after it
        return HEADER_READAHEAD if ext in self.probes else 0

    def read_at(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        rel = offset - self._start
        if n == 0 or (rel >= 0 and rel + n <= len(self._buf)):
            return self._buf[rel : rel + n]
        self._fetch(offset, max(n, self.hint))
        return self._buf[offset - self._start : offset - self._start + n]

    def _fetch(self, offset: int, n: int) -> None:
        n = min(n, self.size - offset)
        end = self._start + len(self._buf)
        if self._start <= offset <= end < offset + n:  # extends the window: fetch the rest
            self._buf += self.base.read_at(end, offset + n - end)
        else:
            self._start, self._buf = offset, self.base.read_at(offset, n)
        self.hint = BLOCK

    def member(self, m: TarMember, ext: str) -> None:
        """Called for each member: prefetch a json with the next header; hint the next miss."""
        if ext == "json":
            self.json_guess = _padded(m.size) + m.size // 4
            self.read_at(m.offset_data, _padded(m.size) + BLOCK)
        self.hint = BLOCK + self._need(NEXT_EXT.get(ext, "json"))

    def skips(self, ext: str) -> bool:
        return ext != "json" and ext not in self.probes


def parse_tar(sink: Sink, reader: RangeReader, rel: str, walk: RemoteWalk | None = None) -> None:
    """Rows of one tar; ``walk`` (a :class:`RemoteWalk` that ``reader`` is) for remote tars."""
    label, split = rel.split("/")[:2]
    idx = 0
    for entry in iter_entries(reader):
        if isinstance(entry, TarProblem):
            where = f"{rel}@{entry.offset}" + (f" ({entry.name!r})" if entry.name else "")
            sink.issue(where, entry.message)
            continue
        if not _sample_member(sink, entry, rel):
            continue
        file_id, ext = split_name(entry.name)
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
        if walk is not None:
            walk.member(entry, ext)
            if walk.skips(ext):
                base = dict(file_id=file_id, label=label, split=split, ext=ext, origin="tar")
                sink.add("media", **base, bytes=entry.size)
                continue
        window = SliceReader(reader, entry.offset_data, entry.size)
        members.add_sample_file(
            sink, file_id, ext, label, split, window, f"{rel}:{entry.name}", "tar"
        )


def _sample_member(sink: Sink, m: TarMember, rel: str) -> bool:
    """A regular file named ``{file_id}.{json,mp4,npz,wav}``; anything else is reported."""
    if m.type != "file" or unsafe_name_reason(m.name):
        return False  # iter_entries already reported it
    if split_name(m.name) is None:
        sink.issue(f"{rel}:{m.name}", "member is not named {file_id}.{json,mp4,npz,wav}")
        return False
    return True


def _parse_object(
    sink: Sink,
    store: ObjectStore,
    key: str,
    rel: str,
    info: ObjectInfo,
    probes: tuple[str, ...] | None,
) -> None:
    reader = store.reader(key, info)
    try:
        if probes is None:
            parse_tar(sink, reader, rel)
        else:
            walk = RemoteWalk(reader, probes)
            parse_tar(sink, walk, rel, walk)
    finally:
        close = getattr(reader, "close", None)
        if close:
            close()


def _has_tars(folder: Path) -> bool:
    """Any ``.tar`` where the Hub layout puts them (files of a batch folder, or above)."""
    for _, resolved, subdirs, names in walk_resolved(folder):
        if any(n.endswith(".tar") for n in names):
            return True
        if BATCH_DIR_RE.search(resolved):
            subdirs.clear()  # below a batch folder: a tree's archive folders, not tars
    return False


def _fingerprint(info: ObjectInfo) -> str:
    return info.sha256 or info.etag or str(info.size)


@dataclass(frozen=True)
class TarSource:
    location: str
    store: ObjectStore
    tars: tuple[tuple[str, str, ObjectInfo], ...]  # (key in store, archive path, info)
    remote_probes: tuple[str, ...] | None = None  # None: local, probe every medium

    def claims(self) -> Iterable[tuple[str, str]]:
        """The local files this source reads (see :mod:`.folder`)."""
        if isinstance(self.store, LocalStore):
            for key, _, _ in self.tars:
                yield os.path.join(self.store.root, *key.split("/")), "file"

    def units(self) -> Iterable[Unit]:
        local = isinstance(self.store, LocalStore)
        for key, rel, info in self.tars:
            yield Unit(
                f"tar:{rel}",
                "tar",
                self.location,
                _fingerprint(info),
                partial(
                    _parse_object,
                    store=self.store,
                    key=key,
                    rel=rel,
                    info=info,
                    probes=self.remote_probes,
                ),
                local=local,
                size=info.size,
            )


def tar_source(location: str, settings: Settings) -> TarSource | None:
    """A ``.tar`` file, a folder holding tars in the Hub layout, or a remote store of them."""
    path = Path(location)
    if path.is_file() and path.suffix == ".tar":
        rel = relative(TAR_RE, path.resolve().as_posix())
        if rel is None:
            raise UsageError(
                f"{location} is not at a Hub path: a tar's path must end in {TAR_LAYOUT} "
                "(label improvised or naturalistic, split train, dev or test; e.g. "
                "improvised/dev/0000/0003.tar), because the catalog reads label, split, "
                "batch and archive from it: move or link it there (as `hf download` lays "
                "the tars out), then ingest it or its folder"
            )
        store = LocalStore(path.parent)
        info = store.info(path.name)
        return TarSource(location, store, ((path.name, rel, info),))
    if not (path.is_dir() or location.startswith("hf://")):
        return None
    if path.is_dir() and not _has_tars(path):
        return None  # e.g. a local tree: not worth a stat of every file
    store = open_store(location, settings)
    if path.is_dir():
        base = path.resolve().as_posix() + "/"
    else:  # hf://datasets/ORG/NAME/improvised/dev: keys are relative to the subdir
        sub = getattr(store, "subdir", "")
        base = f"/{sub}/" if sub else "/"
    tars = []
    for info in store.list():
        rel = relative(TAR_RE, base + info.key) if info.key.endswith(".tar") else None
        if rel:
            tars.append((info.key, rel, info))
    probes = None if isinstance(store, LocalStore) else tuple(settings.remote_probes)
    return TarSource(location, store, tuple(tars), probes) if tars else None
