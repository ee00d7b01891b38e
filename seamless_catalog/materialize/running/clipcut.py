"""Cut one planned clip (an item of kind ``clip``, planning/clips.py) from its source, by range.

The tar member or per-file object is opened as a :class:`~...formats.readers.RangeReader`
(``store.reader`` windowed to the member) and handed to the format's cutter: wav reads its
header and one range of samples, mp4 its box headers, moov and the window's samples, npz its
central directory and the wanted members. A per-file npz (one ``.npy`` object per feature)
fetches only the wanted features' objects. The json clip is the planned document.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...errors import MediaFormatError, SampleUnavailable
from ...formats import mp4clip, npzclip, wavclip
from ...formats.readers import CountingReader, RangeReader, SliceReader
from ...layout import FRAME_STRIDE, feature_wanted
from ...remote import ObjectStore
from ..planning.clips import group_fps
from ..planning.items import MERGE_NPZ, OBJECT, Item


@dataclass
class ClipOutput:
    item: Item
    data: bytes
    covers: dict = field(default_factory=dict)  # what the clip holds (times in s of the source)
    fetched: int = 0  # bytes read from the source
    requests: int = 0  # ranged reads


@dataclass(frozen=True)
class _Spec:
    """An item's clip record, read once."""

    file_id: str
    start_s: float
    end_s: float
    fps: dict[str, float]
    features: tuple[str, ...] | None
    exact: bool

    @classmethod
    def of(cls, item: Item) -> _Spec:
        c = item.clip or {}
        features = tuple(c["features"]) if c.get("features") else None
        return cls(item.file_id, float(c["start_s"]), float(c["end_s"]), dict(c.get("fps") or {}),
                   features, bool(c.get("exact")))  # fmt: skip

    def group_fps(self, group: str) -> float:
        return group_fps(self.file_id, self.fps, group)

    @property
    def stem(self) -> str:
        return f"{self.file_id} {self.start_s:.3f}-{self.end_s:.3f} s"


def source_reader(store: ObjectStore, item: Item) -> RangeReader:
    """The bytes the clip is cut from: the tar member (a window of the tar) or the object."""
    part = item.parts[0]
    info = part.whole_object() if (item.clip or {}).get("from") == OBJECT else None
    return SliceReader(store.reader(part.key, info), part.offset, part.length)


class SpanCache:
    """npz spans (the directory's tail, member entries) read recently, shared by the clips of
    one run: a deflated member cannot be read in part, so the windows of one recording read
    its members once, not once each. Bounded by bytes (least recently used dropped); a span
    one thread is reading is waited for by the others."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._spans: OrderedDict[tuple, _Span] = OrderedDict()
        self._bytes = 0

    def read(self, key: tuple, load: Callable[[], bytes]) -> bytes:
        with self._lock:
            span = self._spans.get(key)
            mine = span is None
            if mine:
                span = self._spans[key] = _Span()
            else:
                self._spans.move_to_end(key)
        if not mine:
            span.ready.wait()
            return span.data if span.data is not None else load()
        try:
            span.data = load()
        finally:
            span.ready.set()
            with self._lock:
                if span.data is None:
                    self._spans.pop(key, None)
                else:
                    self._bytes += len(span.data)
                    while self._bytes > self.max_bytes and len(self._spans) > 1:
                        _, old = self._spans.popitem(last=False)
                        self._bytes -= len(old.data or b"")
        return span.data


@dataclass
class _Span:
    ready: threading.Event = field(default_factory=threading.Event)
    data: bytes | None = None


class _CachedReader:
    """A reader whose reads go through a :class:`SpanCache` (keyed by object and range)."""

    def __init__(self, base: RangeReader, cache: SpanCache, identity: tuple) -> None:
        self.base, self.cache, self.identity, self.size = base, cache, identity, base.size

    def read_at(self, offset: int, n: int) -> bytes:
        return self.cache.read((*self.identity, offset, n), lambda: self.base.read_at(offset, n))


def cut_item(store: ObjectStore | None, item: Item, cache: SpanCache | None = None) -> ClipOutput:
    """The clip's bytes; :class:`SampleUnavailable` when its source is missing or unreadable.
    ``cache``: npz spans shared by the clips of one run (see :class:`SpanCache`)."""
    spec = _Spec.of(item)
    if item.ext == "json":
        doc = (item.clip or {}).get("doc") or {}
        covers = {"start_s": spec.start_s, "end_s": spec.end_s}
        return ClipOutput(item, json.dumps(doc, indent=4).encode(), covers)
    if item.state == "failed" or not item.parts:
        raise SampleUnavailable(item.file_id, item.reason or f"no {item.ext} planned")
    try:
        if (item.clip or {}).get("from") == MERGE_NPZ:
            return _perfile_npz(store, item, spec)
        r = CountingReader(source_reader(store, item))
        if cache is not None and item.ext == "npz":
            part = item.parts[0]
            reader = _CachedReader(r, cache, (part.key, part.offset, part.etag))
        else:
            reader = r
        out = _CUTTERS[item.ext](reader, spec)
    except MediaFormatError as e:
        raise SampleUnavailable(item.file_id, f"{item.ext} clip {spec.stem}: {e}") from None
    out.item, out.fetched, out.requests = item, r.bytes_read, r.reads
    return out


def _wav(r: RangeReader, spec: _Spec) -> ClipOutput:
    data, c = wavclip.clip(r, spec.start_s, spec.end_s)
    covers = {"start_s": c.first / c.rate, "end_s": (c.first + c.n) / c.rate, "samples": c.n,
              "sample_rate": c.rate}  # fmt: skip
    return ClipOutput(None, data, covers)


def _mp4(r: RangeReader, spec: _Spec) -> ClipOutput:
    if spec.exact:
        from ...formats import mp4exact

        data, covers = mp4exact.clip(r, spec.start_s, spec.end_s)
        return ClipOutput(None, data, covers)
    data, c = mp4clip.clip(r, spec.start_s, spec.end_s)
    covers = {"start_s": spec.start_s, "end_s": spec.end_s, "preroll_s": c.preroll_s,
              "stream_copy": True}  # fmt: skip
    return ClipOutput(None, data, covers)


def _npz(r: RangeReader, spec: _Spec) -> ClipOutput:
    c = npzclip.clip(r, spec.start_s, spec.end_s, spec.group_fps,
                     lambda k: feature_wanted(k, spec.features), FRAME_STRIDE)  # fmt: skip
    return ClipOutput(None, c.data, {"rows": c.rows, "fps": c.fps})


def _perfile_npz(store: ObjectStore, item: Item, spec: _Spec) -> ClipOutput:
    """Per-file layout: each wanted feature is its own ``.npy`` object, fetched whole."""
    arrays, rows, rates, fetched, n = {}, {}, {}, 0, 0
    for part in item.parts:
        if not feature_wanted(part.name, spec.features):
            continue
        buf = io.BytesIO()
        fetched += store.copy_range(part.key, part.offset, part.length, buf, part.whole_object())
        n += 1
        try:
            a = np.load(io.BytesIO(buf.getvalue()), allow_pickle=False)
        except (ValueError, OSError) as e:
            raise SampleUnavailable(item.file_id, f"{part.key}: not a readable npy ({e})") from None
        a = a.astype(np.float32) if a.dtype == np.float64 else a  # as the merged npz has it
        group = part.name.split(":", 1)[0]
        rates[group] = spec.group_fps(group)
        first, stop = npzclip.frame_range(spec.start_s, spec.end_s, rates[group], len(a),
                                          FRAME_STRIDE.get(part.name, 1))  # fmt: skip
        arrays[part.name], rows[part.name] = a[first:stop], (first, stop)
    if not arrays:
        raise SampleUnavailable(item.file_id, "none of the requested features is in the source")
    return ClipOutput(item, npzclip.npz_bytes(arrays), {"rows": rows, "fps": rates}, fetched, n)


_CUTTERS = {"wav": _wav, "mp4": _mp4, "npz": _npz}
