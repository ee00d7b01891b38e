"""The per-file layout on S3 (``s3://BUCKET/PREFIX``) or over HTTPS (the CDN), driven by the
filelist, since the CDN cannot be listed.

For each file of the filelist: ``{label}/{split}/metadata/transcript/{id}.jsonl``,
``metadata/vad/{id}.jsonl``, and ``annotations/{1P-IS,1P-R}/{id}.json`` where
``has_annotation_1p``, ``annotations/{3P-IS,3P-R,3P-V}/{id}.json`` where ``has_annotation_3p``
(JSON Lines despite the name; with the 5-column filelist, whose flags are unknown, no
annotation is fetched). One GET each, no HEAD first; 403/404 mean absent. Rows are made by
:func:`perfile.add_metadata`, the same code as the local per-file layout. Media are not
read here (the materializer fetches them).

Units: one per filelist archive ``(label, split, batch, archive)``, about ten files and a few
dozen small requests, parsed concurrently by the run. A unit's fingerprint is made of its
filelist rows (ids and flags), so it costs no request: a unit is read again when its rows
change. An object replaced on the server under the same name is not noticed; re-ingest it
by removing the catalog's units for this source (or into a new catalog).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..config import Settings
from ..errors import UsageError
from ..layout import ANNOTATION_PREFIX, ANNOTATIONS_1P, ANNOTATIONS_3P, FileRef
from ..remote import ObjectStore, open_store
from . import filelist, perfile
from .filelist import FLAGS
from .sink import RowSink, Sink
from .units import Unit

FilesProvider = Callable[[], list[FileRef]]


def rows_from_columns(cols: dict[str, list]) -> list[FileRef]:
    """FileRefs from columns of the ``files`` table (a filelist parse or a catalog snapshot)."""
    n = len(cols.get("file_id", []))
    flags = {k: cols.get(k) or [None] * n for k in FLAGS}
    return [
        FileRef(
            cols["file_id"][i],
            cols["label"][i],
            cols["split"][i],
            cols["batch_idx"][i],
            cols["archive_idx"][i],
            *(flags[k][i] for k in FLAGS),
        )
        for i in range(n)
    ]


def rows_from_filelist(data: bytes, location: str) -> list[FileRef]:
    sink = RowSink("")
    filelist.parse(data, location, sink)
    return rows_from_columns(sink.columns.get("files", {}))


def object_keys(row: FileRef) -> list[tuple[str, str]]:
    """``(role, key)`` of every metadata object worth asking for."""
    out = [(f"metadata/{k}", row.perfile_key(f"metadata:{k}")) for k in ("transcript", "vad")]
    kinds = (ANNOTATIONS_1P if row.has_annotation_1p else ()) + (
        ANNOTATIONS_3P if row.has_annotation_3p else ()
    )  # unknown flags (the 5-column filelist): no annotation is asked for
    out += [(f"annotations/{k}", row.perfile_key(ANNOTATION_PREFIX + k)) for k in kinds]
    return out


def parse_archive(sink: Sink, store: ObjectStore, rows: tuple[FileRef, ...]) -> None:
    for row in rows:
        found = []
        for role, key in object_keys(row):
            data = store.fetch(key)
            if data is not None:
                found.append((role, f"{store.uri}/{key}", data))
        perfile.add_metadata(sink, row.file_id, row.label, row.split, found)


def _fingerprint(rows: Iterable[FileRef]) -> str:
    h = hashlib.sha1(b"remote-perfile-v1\n")
    for r in sorted(rows, key=lambda r: r.file_id):
        h.update(f"{r.file_id}\0{r.has_annotation_1p}\0{r.has_annotation_3p}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class RemotePerFileSource:
    location: str
    store: ObjectStore
    files: FilesProvider | None = field(default=None, compare=False)
    needs_filelist = True  # sources.resolve() hands it the run's filelist rows

    def units(self) -> Iterable[Unit]:
        rows = self.files() if self.files is not None else []
        if not rows:
            raise UsageError(
                f"{self.location}: the per-file copy cannot be listed, and no filelist is known: "
                "pass --filelist (or ingest one first)"
            )
        groups: dict[tuple[str, str, int, int], list[FileRef]] = defaultdict(list)
        for r in rows:
            groups[(r.label, r.split, r.batch_idx, r.archive_idx)].append(r)
        for (label, split, batch, archive), members in sorted(groups.items()):
            group = tuple(sorted(members, key=lambda r: r.file_id))
            yield Unit(
                f"cdn:{label}/{split}/{batch:04d}/{archive:04d}@{self.location}",
                "cdn",
                self.location,
                _fingerprint(group),
                lambda sink, g=group: parse_archive(sink, self.store, g),
            )


def remote_perfile_source(location: str, settings: Settings) -> RemotePerFileSource | None:
    if not location.startswith(("s3://", "https://", "http://")):
        return None
    return RemotePerFileSource(location, open_store(location, settings))
