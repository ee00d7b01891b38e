"""Plan items for a per-file source (the CDN, S3, or a local folder in their layout).

Media are copied as they are. With ``merge`` the per-feature ``.npy`` of a file become one
``{file_id}.npz`` keyed ``group:feature`` and its JSON Lines one ``{file_id}.json``, as the
upstream toolkit writes them; without, each object keeps its per-file path.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..catalog import Catalog
from ..remote import ObjectInfo, ObjectStore
from .plan import MERGE_JSON, MERGE_NPZ, OBJECT, Item, Part, Plan
from .selection import FileRow

SMPLH = ("body_pose", "global_orient", "is_valid", "left_hand_pose", "right_hand_pose",
         "translation")  # fmt: skip
BOXES = ("box", "is_valid_box", "keypoints")
MOVEMENT = (
    "EmotionArousalToken", "EmotionValenceToken", "FAUToken", "FAUValue",
    "alignment_head_rotation", "alignment_translation", "emotion_arousal", "emotion_scores",
    "emotion_valence", "expression", "frame_latent", "gaze_encodings", "head_encodings",
    "hypernet_features", "is_valid",
)  # fmt: skip
NPZ_GROUPS = ("smplh", "boxes_and_keypoints", "movement", "movement_v4")
JSON_GROUPS = ("transcript", "vad", "annotations")
ANNOTATIONS_1P = ("1P-IS", "1P-R")
ANNOTATIONS_3P = ("3P-IS", "3P-R", "3P-V")
_FEATURE_RE = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Wanted:
    """One object a file may be made of."""

    key: str
    name: str  # "smplh:body_pose", "metadata:vad", "annotations:3P-IS", "audio", "video"
    group: str  # the fine modality: smplh, transcript, audio...
    required: bool


def _catalog_features(cat: Catalog, file_ids: list[str]) -> dict[str, list[str]]:
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


def _npz_keys(row: FileRow, known: list[str] | None) -> list[tuple[str, bool]]:
    """(group:feature, required) for one file: the catalog's keys, else the release's lists."""
    if known:
        return [(k, not k.startswith("movement_v4:")) for k in known]
    keys = [(f"smplh:{f}", True) for f in SMPLH]
    keys += [(f"boxes_and_keypoints:{f}", True) for f in BOXES]
    if row.has_imitator_movement is not False:  # unknown (5-column filelist): optional
        keys += [(f"movement:{f}", bool(row.has_imitator_movement)) for f in MOVEMENT]
    return keys


def _annotation_types(row: FileRow) -> list[str]:
    types = []
    if row.has_annotation_1p is not False:
        types += ANNOTATIONS_1P
    if row.has_annotation_3p is not False:
        types += ANNOTATIONS_3P
    return types


def wanted_objects(row: FileRow, groups: set[str], known: list[str] | None) -> list[Wanted]:
    base, fid = f"{row.label}/{row.split}", row.file_id
    out: list[Wanted] = []
    if "audio" in groups:
        out.append(Wanted(f"{base}/audio/{fid}.wav", "audio", "audio", True))
    if "video" in groups:
        out.append(Wanted(f"{base}/video/{fid}.mp4", "video", "video", True))
    for key, required in _npz_keys(row, known):
        group, feature = key.split(":", 1)
        if group in groups:
            out.append(Wanted(f"{base}/{group}/{feature}/{fid}.npy", key, group, required))
    for kind, required in (("transcript", False), ("vad", True)):
        if kind in groups:
            key = f"{base}/metadata/{kind}/{fid}.jsonl"
            out.append(Wanted(key, f"metadata:{kind}", kind, required))
    if "annotations" in groups:
        for kind in _annotation_types(row):
            key = f"{base}/annotations/{kind}/{fid}.json"
            out.append(Wanted(key, f"annotations:{kind}", "annotations", False))
    return out


def _infos(store: ObjectStore, keys: list[str], workers: int) -> dict[str, ObjectInfo | None]:
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return dict(zip(keys, pool.map(store.info, keys)))


def plan_perfile(
    cat: Catalog,
    store: ObjectStore,
    rows: list[FileRow],
    groups: set[str],
    merge: bool,
    plan: Plan,
    dest: Callable[[FileRow, str], str],
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
            plan.items.append(_object_item(row, w, infos[w.key], ext, dest(row, ext), store.uri))
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
                plan.items.append(
                    _merged_item(row, ws, infos, ext, kind, dest(row, ext), store.uri)
                )


def _object_item(
    row: FileRow, w: Wanted, info: ObjectInfo | None, ext: str, dest: str, uri: str
) -> Item:
    item = Item(row.file_id, ext, w.name, dest, OBJECT, uri)
    if info is None:
        item.state, item.reason = "failed", f"absent at the source: {w.key}"
    else:
        item.parts = (Part(w.key, 0, info.size, w.name, info.etag),)
        item.size, item.sha256 = info.size, info.sha256
    return item


def _merged_item(
    row: FileRow,
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
