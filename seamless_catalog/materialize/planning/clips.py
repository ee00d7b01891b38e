"""Clips: the windows of a selection, each modality planned as the source bytes it is cut from.

A :class:`ClipTask` is one clip file (``{file_id}_t{start_ms:07d}-{end_ms:07d}.{ext}`` in its
file's upstream folder). Its bytes come from the same plan as a whole file's
(:func:`~.sources.plan_files`): the tar member or per-file object it is cut from, read by
range. The json clip is made from the catalog alone (nothing is downloaded):

* ``metadata:transcript``: the segments that overlap the window, each with only its words
  that overlap it (a word ``[s, e)`` overlaps ``[start, end)`` when ``s < end`` and
  ``e > start``); a word without times is left out (it cannot be placed) and counted;
* ``metadata:vad`` and ``annotations:<type>``: the segments that overlap the window;
* every time is relative to the clip's start (``t - start_s``; a segment that began before the
  window keeps its negative start, so nothing is moved);
* a ``clip`` record: the window (and what was asked for), the frame rate of each npz group
  used (``frame_rates.clip_fps`` when the catalog has the view, else the nominal 30 Hz,
  29.97 for V03) and, once cut, what each modality covers.

The npz frame rule (formats/npzclip.py): frame ``i`` at ``i / fps`` s is in the clip when
``start_s <= i / fps < end_s``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ...layout import (
    ANNOTATION_PREFIX,
    EXTENSIONS,
    NPZ_GROUPS,
    TRANSCRIPT,
    VAD,
    nominal_fps,
    parse_modalities,
    wanted_exts,
)
from ...remote import ObjectStore
from ...select.windows import Window
from ...store.catalogdb import CatalogDB
from .items import CLIP, Item
from .sources import plan_files


@dataclass
class ClipTask:
    """One clip file: its window, and the item that makes it (kind ``clip``: the source item's
    parts, ``clip`` = the window and rules; in state ``failed`` with a reason when the file's
    plan failed)."""

    window: Window
    item: Item

    @property
    def ext(self) -> str:
        return self.item.ext


def clip_rates(cat: CatalogDB, file_ids: Iterable[str]) -> dict[str, dict[str, float]]:
    """file_id -> npz group -> ``frame_rates.clip_fps`` (groups without one are left out:
    the nominal rate applies, :func:`group_fps`)."""
    ids = sorted(set(file_ids))
    if not ids or "frame_rates" not in {name for name, _ in cat.views()}:
        return {}
    rows = cat.sql(
        "select file_id, feature_group, clip_fps from frame_rates "
        "where clip_fps is not null and file_id in (select unnest(?::varchar[]))",
        [ids],
    ).fetchall()
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for file_id, group, fps in rows:
        out[file_id][group] = float(fps)
    return dict(out)


def group_fps(file_id: str, rates: dict[str, float], group: str) -> float:
    """The rate of ``group``'s frames in ``file_id``: the catalog's, else nominal."""
    return rates.get(group, nominal_fps(file_id))


def clip_doc(cat: CatalogDB, w: Window) -> dict:
    """The json clip of ``w`` from the catalog (see the module's rules)."""
    return clip_docs(cat, [w])[0]


_WINDOWS = (
    "with w as (select unnest(?::varchar[]) as file_id, unnest(?::double[]) as ws, "
    "unnest(?::double[]) as we, unnest(?::integer[]) as i) "
)
_OVERLAP = "join w on t.file_id = w.file_id and t.start_s < w.we and t.end_s > w.ws"


def clip_docs(cat: CatalogDB, windows: list[Window]) -> list[dict]:
    """The json clips of ``windows``, one query per table for all of them (not per window:
    planning a thousand windows is then a few queries)."""
    if not windows:
        return []
    params = [[w.file_id for w in windows], [w.start_s for w in windows],
              [w.end_s for w in windows], list(range(len(windows)))]  # fmt: skip

    def rows(sql: str) -> list[tuple]:
        return cat.sql(_WINDOWS + sql, params).fetchall()

    words: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for i, seg, word, s, e, score in rows(
        "select w.i, t.segment_idx, t.word, t.start_s, t.end_s, t.score "
        f"from raw.transcript_words t {_OVERLAP} order by w.i, t.segment_idx, t.word_idx"
    ):
        start = windows[i].start_s
        words[(i, seg)].append(_word(word, s - start, e - start, score))
    docs = [{"id": w.file_id, TRANSCRIPT: [], VAD: []} for w in windows]
    for i, seg, s, e, text in rows(
        "select w.i, t.segment_idx, t.start_s, t.end_s, t.text "
        f"from raw.transcript_segments t {_OVERLAP} order by w.i, t.segment_idx"
    ):
        start = windows[i].start_s
        docs[i][TRANSCRIPT].append({"start": s - start, "end": e - start, "transcript": text,
                                    "words": words[(i, seg)]})  # fmt: skip
    for i, s, e in rows(
        f"select w.i, t.start_s, t.end_s from raw.vad_segments t {_OVERLAP} "
        "order by w.i, t.segment_idx"
    ):
        start = windows[i].start_s
        docs[i][VAD].append({"start": s - start, "end": e - start})
    for i, kind, text, s, e in rows(
        f"select w.i, t.annotation_type, t.text, t.start_s, t.end_s from raw.annotations t "
        f"{_OVERLAP} order by w.i, t.annotation_type, t.start_s, t.annotation_idx"
    ):
        start = windows[i].start_s
        docs[i].setdefault(f"{ANNOTATION_PREFIX}{kind}", []).append(
            {"annotation": text, "start_ts": s - start, "end_ts": e - start}
        )
    ids = sorted({w.file_id for w in windows})
    untimed = dict(cat.sql(
        "select file_id, count(*) from raw.transcript_words where start_s is null "
        "and file_id in (select unnest(?::varchar[])) group by 1", [ids],
    ).fetchall())  # fmt: skip
    for w, doc in zip(windows, docs):  # the same clip from any query: no selection_row
        record = {k: v for k, v in w.record.items() if k != "selection_row"}
        doc["clip"] = {**record, "untimed_words_left_out": int(untimed.get(w.file_id, 0))}
    return docs


def _word(word: str, s: float, e: float, score: float | None) -> dict:
    out = {"word": word, "start": s, "end": e}
    if score is not None:
        out["score"] = score
    return out


def plan_clips(
    cat: CatalogDB,
    store: ObjectStore | None,
    windows: Iterable[Window],
    modalities: str | tuple[str, ...] = EXTENSIONS,
    features: tuple[str, ...] | None = None,
    exact: bool = False,
    merge: bool = True,
) -> list[ClipTask]:
    """One task per window and wanted extension, in window order: each media clip made from
    the item of its file's plan (``plan_files``: tar member or per-file object), the json
    clip from its document (``store`` may be None when only json is wanted)."""
    windows = list(windows)
    mods = parse_modalities(modalities)
    exts = wanted_exts(mods)
    media = [m for m in mods if wanted_exts([m]) != ("json",)]
    items: dict[tuple[str, str], Item] = {}
    uri = store.uri if store is not None else "catalog"
    if media and windows:
        if store is None:
            raise ValueError("plan_clips needs a store for media clips")
        refs = {w.file_id: w.ref for w in windows}
        plan = plan_files(cat, store, [refs[k] for k in sorted(refs)], tuple(media), merge)
        items = {(i.file_id, i.ext): i for i in plan.items}
    rates = clip_rates(cat, (w.file_id for w in windows))
    docs = clip_docs(cat, windows) if "json" in exts else [None] * len(windows)
    tasks = []
    for w, doc in zip(windows, docs):
        fps = dict(rates.get(w.file_id, {}))
        for ext in exts:
            spec = {"start_s": w.start_s, "end_s": w.end_s}
            if ext == "json":
                doc["clip"]["npz_fps"] = {g: group_fps(w.file_id, fps, g) for g in NPZ_GROUPS}
                spec["doc"] = doc
                tasks.append(ClipTask(w, _item(w, ext, uri, None, spec)))
                continue
            src = items.get((w.file_id, ext))
            spec["from"] = src.kind if src is not None else None
            if ext == "npz":
                spec.update(fps=fps, features=list(features) if features else None,
                            duration_s=w.duration_s)  # fmt: skip
            if ext == "mp4":
                spec["exact"] = exact
            item = _item(w, ext, uri, src, spec)
            if src is None:
                item.state, item.reason = "failed", f"{w.file_id} has no {ext} in the source"
            elif src.state == "failed":
                item.state, item.reason = "failed", src.reason
            tasks.append(ClipTask(w, item))
    return tasks


def _item(w: Window, ext: str, uri: str, src: Item | None, spec: dict) -> Item:
    parts = src.parts if src is not None else ()
    share = w.duration / w.duration_s if w.duration_s else 1.0
    spec["estimate"] = round(min(1.0, share) * sum(p.length for p in parts))  # progress only
    return Item(w.file_id, ext, f"clip:{ext}", w.path(ext), CLIP, uri, parts, clip=spec)
