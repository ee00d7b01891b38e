"""The member bytes of selected samples, without writing a file.

A :class:`SampleReader` looks in a materialized folder first (the upstream layout
``{media}/{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext}``) and reads what is
not there from the source through the materializer's own plan: ``plan_files`` gives each
output's byte ranges (tar members from ``raw.members`` or tar headers, per-file objects by
HEAD), ``build_requests`` merges the adjacent members of a sample into one ranged read,
the store retries and resumes inside ``copy_range``, and every output is checked against
its expected size (and sha256 when the source publishes one) before it is used.

``plan`` runs on the caller's thread (it queries the catalog); ``fetch`` only touches the
store and the file system, so it may run on a pool.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..config import Settings
from ..errors import SampleUnavailable
from ..layout import EXTENSIONS, FileRef, parse_modalities, wanted_exts
from ..materialize.planning.items import MERGED, Item, Request, build_requests
from ..materialize.planning.sources import plan_files
from ..materialize.running.fetch import merged_bytes
from ..remote import ObjectStore, open_store
from ..store.catalogdb import CatalogDB
from ..store.snapshots import default_source


@dataclass
class RawSample:
    row: FileRef
    blobs: dict[str, bytes]  # ext -> bytes
    paths: dict[str, Path] = field(default_factory=dict)  # ext -> materialized file
    sources: dict[str, str] = field(default_factory=dict)  # ext -> where it was read from

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.blobs.values())


@dataclass
class FilePlan:
    """How to get one file's missing members from the source."""

    local: dict[str, Path]
    requests: list[Request] = field(default_factory=list)
    merged: list[Item] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # reasons


class SampleReader:
    def __init__(
        self,
        cat: CatalogDB,
        modalities: str | tuple[str, ...] = EXTENSIONS,
        source: str | None = None,
        media: str | Path | None = None,
        settings: Settings | None = None,
        read_video: bool = True,
    ) -> None:
        self.cat = cat
        self.modalities = parse_modalities(modalities)
        self.exts = wanted_exts(self.modalities)
        self.media = Path(media) if media is not None else None
        if source is None and media is None:
            source = default_source(cat.root)
        self.source = source
        self.settings = settings or config.from_env()
        self.read_video = read_video  # False: a materialized mp4 is given as a path only
        self._store: ObjectStore | None = None

    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            self._store = open_store(self.source, self.settings)
        return self._store

    def _local(self, row: FileRef) -> dict[str, Path]:
        if self.media is None:
            return {}
        folder = self.media / row.folder
        found = {e: folder / f"{row.file_id}.{e}" for e in self.exts}
        return {e: p for e, p in found.items() if p.is_file()}

    def plan(self, rows: list[FileRef]) -> dict[str, FilePlan]:
        """Per file: what is on disk, and the reads that fetch the rest."""
        plans = {r.file_id: FilePlan(self._local(r)) for r in rows}
        remote = [r for r in rows if len(plans[r.file_id].local) < len(self.exts)]
        if not remote:
            return plans
        if self.source is None:
            for r in remote:
                missing = [e for e in self.exts if e not in plans[r.file_id].local]
                plans[r.file_id].failed.append(f"{', '.join(missing)} not under {self.media}")
            return plans
        plan = plan_files(self.cat, self.store, remote, self.modalities, merge=True)
        items: dict[str, list[Item]] = {}
        for item in plan.items:
            fp = plans[item.file_id]
            if item.ext in fp.local or item.ext not in self.exts:
                continue
            if item.state == "failed":
                fp.failed.append(item.reason)
            elif item.kind in MERGED:
                fp.merged.append(item)
            else:
                items.setdefault(item.file_id, []).append(item)
        for file_id, its in items.items():
            plans[file_id].requests = build_requests(its)
        return plans

    def fetch(self, row: FileRef, fp: FilePlan) -> RawSample:
        """The file's member bytes (thread-safe); :class:`SampleUnavailable` if any is missing."""
        if fp.failed:
            raise SampleUnavailable(row.file_id, "; ".join(dict.fromkeys(fp.failed)))
        out = RawSample(row, {})
        for ext, path in fp.local.items():
            out.paths[ext] = path
            out.sources[ext] = str(path)
            if ext != "mp4" or self.read_video:
                out.blobs[ext] = path.read_bytes()
        for req in fp.requests:
            self._read_request(row, req, out)
        for item in fp.merged:
            out.blobs[item.ext] = merged_bytes(self.store, item)
            out.sources[item.ext] = self.source or ""
        missing = [e for e in self.exts if e not in out.blobs and e not in out.paths]
        if missing:
            raise SampleUnavailable(row.file_id, f"no {', '.join(missing)} at {self.source}")
        return out

    def _read_request(self, row: FileRef, req: Request, out: RawSample) -> None:
        buf = io.BytesIO()
        self.store.copy_range(req.key, req.offset, req.length, buf, req.known)
        data = buf.getbuffer()
        for item in req.items:
            part = item.parts[0]
            start = part.offset - req.offset
            blob = bytes(data[start : start + part.length])
            _check(row, item, blob)
            out.blobs[item.ext] = blob
            out.sources[item.ext] = f"{self.source}:{req.key}@{part.offset}"


def _check(row: FileRef, item: Item, blob: bytes) -> None:
    """The materializer's checks, in memory: size, and sha256 when the source gave one."""
    if item.size is not None and len(blob) != item.size:
        raise SampleUnavailable(
            row.file_id, f"{item.ext}: got {len(blob)} bytes, expected {item.size}"
        )
    if item.sha256 is not None and hashlib.sha256(blob).hexdigest() != item.sha256:
        raise SampleUnavailable(row.file_id, f"{item.ext}: sha256 differs from the source's")
