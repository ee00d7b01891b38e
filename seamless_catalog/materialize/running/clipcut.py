"""Cut one planned clip (:class:`~..planning.clips.ClipTask`) from its source, by range.

The tar member or per-file object is opened as a :class:`~...formats.readers.RangeReader`
(``store.reader`` windowed to the member) and handed to the format's cutter: wav reads its
header and one range of samples, mp4 its box headers, moov and the window's samples, npz its
central directory and the wanted members. A per-file npz (one ``.npy`` object per feature)
fetches only the wanted features' objects. The json clip is the planned document.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...errors import MediaFormatError, SampleUnavailable
from ...formats import mp4clip, npzclip, wavclip
from ...formats.readers import CountingReader, RangeReader, SliceReader
from ...layout import FRAME_STRIDE, feature_wanted
from ...remote import ObjectStore
from ..planning.clips import ClipTask, group_fps
from ..planning.items import MERGE_NPZ, OBJECT


@dataclass
class ClipOutput:
    task: ClipTask
    data: bytes
    covers: dict = field(default_factory=dict)  # what the clip holds (times in s of the source)
    fetched: int = 0  # bytes read from the source
    requests: int = 0  # ranged reads


def source_reader(store: ObjectStore, task: ClipTask) -> RangeReader:
    """The bytes the clip is cut from: the tar member (a window of the tar) or the object."""
    part = task.item.parts[0]
    info = part.whole_object() if task.item.kind == OBJECT else None
    return SliceReader(store.reader(part.key, info), part.offset, part.length)


def cut_clip(
    store: ObjectStore | None,
    task: ClipTask,
    features: tuple[str, ...] | None = None,
    exact: bool = False,
) -> ClipOutput:
    """The clip's bytes; :class:`SampleUnavailable` when its source is missing or unreadable."""
    w = task.window
    if task.ext == "json":
        doc = task.doc or {}
        return ClipOutput(task, json.dumps(doc, indent=4).encode(), {"start_s": w.start_s,
                          "end_s": w.end_s})  # fmt: skip
    if task.reason or task.item is None:
        raise SampleUnavailable(w.file_id, task.reason or f"no {task.ext} planned")
    try:
        if task.item.kind == MERGE_NPZ:
            return _perfile_npz(store, task, features)
        r = CountingReader(source_reader(store, task))
        out = _CUTTERS[task.ext](r, task, features, exact)
    except MediaFormatError as e:
        raise SampleUnavailable(w.file_id, f"{task.ext} clip {w.stem}: {e}") from None
    out.fetched, out.requests = r.bytes_read, r.reads
    return out


def _wav(r: RangeReader, task: ClipTask, features, exact) -> ClipOutput:
    data, c = wavclip.clip(r, task.window.start_s, task.window.end_s)
    covers = {"start_s": c.first / c.rate, "end_s": (c.first + c.n) / c.rate, "samples": c.n,
              "sample_rate": c.rate}  # fmt: skip
    return ClipOutput(task, data, covers)


def _mp4(r: RangeReader, task: ClipTask, features, exact) -> ClipOutput:
    w = task.window
    if exact:
        from ...formats import mp4exact

        data, covers = mp4exact.clip(r, w.start_s, w.end_s)
        return ClipOutput(task, data, covers)
    data, c = mp4clip.clip(r, w.start_s, w.end_s)
    covers = {"start_s": w.start_s, "end_s": w.end_s, "preroll_s": c.preroll_s,
              "stream_copy": True}  # fmt: skip
    return ClipOutput(task, data, covers)


def _fps_of(task: ClipTask) -> Callable[[str], float]:
    return lambda group: group_fps(task.window.file_id, task.fps, group)


def _npz(r: RangeReader, task: ClipTask, features, exact) -> ClipOutput:
    w = task.window
    c = npzclip.clip(r, w.start_s, w.end_s, _fps_of(task),
                     lambda k: feature_wanted(k, features), FRAME_STRIDE)  # fmt: skip
    return ClipOutput(task, c.data, {"rows": c.rows, "fps": c.fps})


def _perfile_npz(store: ObjectStore, task: ClipTask, features) -> ClipOutput:
    """Per-file layout: each wanted feature is its own ``.npy`` object, fetched whole."""
    w, fps = task.window, _fps_of(task)
    arrays, rows, rates, fetched, n = {}, {}, {}, 0, 0
    for part in task.item.parts:
        if not feature_wanted(part.name, features):
            continue
        buf = io.BytesIO()
        fetched += store.copy_range(part.key, part.offset, part.length, buf, part.whole_object())
        n += 1
        try:
            a = np.load(io.BytesIO(buf.getvalue()), allow_pickle=False)
        except (ValueError, OSError) as e:
            raise SampleUnavailable(w.file_id, f"{part.key}: not a readable npy ({e})") from None
        a = a.astype(np.float32) if a.dtype == np.float64 else a  # as the merged npz has it
        group = part.name.split(":", 1)[0]
        rates[group] = fps(group)
        first, stop = npzclip.frame_range(w.start_s, w.end_s, rates[group], len(a),
                                          FRAME_STRIDE.get(part.name, 1))  # fmt: skip
        arrays[part.name], rows[part.name] = a[first:stop], (first, stop)
    if not arrays:
        raise SampleUnavailable(w.file_id, "none of the requested features is in the source")
    out = ClipOutput(task, npzclip.npz_bytes(arrays), {"rows": rows, "fps": rates})
    out.fetched, out.requests = fetched, n
    return out


_CUTTERS = {"wav": _wav, "mp4": _mp4, "npz": _npz}
