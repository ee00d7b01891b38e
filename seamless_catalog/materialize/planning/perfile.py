"""Plan items for a per-file source (the CDN, S3, or a local folder in their layout).

Media are copied as they are. With ``merge`` the per-feature ``.npy`` of a file become one
``{file_id}.npz`` keyed ``group:feature`` and its JSON Lines one ``{file_id}.json``, as the
upstream toolkit writes them; without, each object keeps its per-file path.
"""

from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ...layout import (
    ANNOTATION_PREFIX,
    BOXES,
    JSON_GROUPS,
    MOVEMENT,
    NPZ_GROUPS,
    SMPLH,
    FileRef,
)
from ...remote import ObjectInfo, ObjectStore
from ...store.catalogdb import CatalogDB
from .items import MERGE_JSON, MERGE_NPZ, OBJECT, Item, Part, Plan

_FEATURE_RE = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Wanted:
    """One object a file may be made of."""

    key: str
    name: str  # "smplh:body_pose", "metadata:vad", "annotations:3P-IS", "audio", "video"
    group: str  # the fine modality: smplh, transcript, audio...
    required: bool


def _catalog_features(cat: CatalogDB, file_ids: list[str]) -> dict[str, list[str]]:
    """``group:feature`` keys the catalog knows per file (from ingested npz or .npy)."""
    if "features" not in cat.tables():
        return {}
    rows = cat.sql(
        "select distinct file_id, key from raw.features "
        "where file_id in (select unnest(?::varchar[])) order by 1, 2",
        [file_ids],
    ).fetchall()
    out: dict[str, list[str]] = defaultdict(list)
    for file_id, key in rows:
        group, _, feature = key.partition(":")
        if group in NPZ_GROUPS and _FEATURE_RE.match(feature):
            out[file_id].append(key)
    return out


def _npz_keys(row: FileRef, known: list[str] | None) -> list[tuple[str, bool]]:
    """(group:feature, required) for one file: the catalog's keys, else the release's lists."""
    if known:
        return [(k, not k.startswith("movement_v4:")) for k in known]
    keys = [(f"smplh:{f}", True) for f in SMPLH]
    keys += [(f"boxes_and_keypoints:{f}", True) for f in BOXES]
    if row.has_imitator_movement is not False:  # unknown (5-column filelist): optional
        keys += [(f"movement:{f}", bool(row.has_imitator_movement)) for f in MOVEMENT]
    return keys


def wanted_objects(row: FileRef, groups: set[str], known: list[str] | None) -> list[Wanted]:
    out: list[Wanted] = []
    for name in ("audio", "video"):
        if name in groups:
            out.append(Wanted(row.perfile_key(name), name, name, True))
    for key, required in _npz_keys(row, known):
        group = key.split(":", 1)[0]
        if group in groups:
            out.append(Wanted(row.perfile_key(key), key, group, required))
    for kind, required in (("transcript", False), ("vad", True)):
        if kind in groups:
            name = f"metadata:{kind}"
            out.append(Wanted(row.perfile_key(name), name, kind, required))
    if "annotations" in groups:
        for kind in row.annotation_types:
            name = ANNOTATION_PREFIX + kind
            out.append(Wanted(row.perfile_key(name), name, "annotations", False))
    return out


def _infos(store: ObjectStore, keys: list[str], workers: int) -> dict[str, ObjectInfo | None]:
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip(keys, pool.map(store.info, keys)))


def plan_perfile(
    cat: CatalogDB,
    store: ObjectStore,
    rows: list[FileRef],
    groups: set[str],
    merge: bool,
    plan: Plan,
    workers: int = 4,
) -> None:
    """Append to ``plan`` the items of ``rows``: one HEAD per object to learn its size."""
    features = _catalog_features(cat, [r.file_id for r in rows])
    wanted = {r.file_id: wanted_objects(r, groups, features.get(r.file_id)) for r in rows}
    infos = _infos(store, [w.key for ws in wanted.values() for w in ws], workers)
    for row in rows:
        media = [w for w in wanted[row.file_id] if w.group in ("audio", "video")]
        for w in media:
            ext = "wav" if w.group == "audio" else "mp4"
            plan.items.append(_object_item(row, w, infos[w.key], ext, row.path(ext), store.uri))
        rest = [w for w in wanted[row.file_id] if w not in media]
        if not merge:
            for w in rest:
                ext = w.key.rsplit(".", 1)[1]
                if infos[w.key] is not None or w.required:
                    plan.items.append(_object_item(row, w, infos[w.key], ext, w.key, store.uri))
            continue
        for ext, kind, member_groups in (
            ("npz", MERGE_NPZ, NPZ_GROUPS),
            ("json", MERGE_JSON, JSON_GROUPS),
        ):
            if groups & set(member_groups):
                ws = [w for w in rest if w.group in member_groups]
                plan.items.append(_merged_item(row, ws, infos, ext, kind, row.path(ext), store.uri))


def _object_item(
    row: FileRef, w: Wanted, info: ObjectInfo | None, ext: str, dest: str, uri: str
) -> Item:
    item = Item(row.file_id, ext, w.name, dest, OBJECT, uri)
    if info is None:
        item.state, item.reason = "failed", f"absent at the source: {w.key}"
    else:
        item.parts = (Part(w.key, 0, info.size, w.name, info.etag),)
        item.size, item.sha256 = info.size, info.sha256
    return item


def _merged_item(
    row: FileRef,
    ws: list[Wanted],
    infos: dict[str, ObjectInfo | None],
    ext: str,
    kind: str,
    dest: str,
    uri: str,
) -> Item:
    item = Item(row.file_id, ext, ext, dest, kind, uri)
    parts = []
    for w in ws:
        info = infos[w.key]
        if info is not None:
            parts.append(Part(w.key, 0, info.size, w.name, info.etag))
    item.parts = tuple(parts)
    item.absent = tuple(w.key for w in ws if infos[w.key] is None and not w.required)
    missing = [w.key for w in ws if infos[w.key] is None and w.required]
    if missing or (kind == MERGE_NPZ and not parts):
        item.state = "failed"
        item.reason = "absent at the source: " + (", ".join(missing) or "every feature")
    return item
