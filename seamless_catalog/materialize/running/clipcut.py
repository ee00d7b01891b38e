"""Cut planned clips (items of kind ``clip``, planning/clips.py) from their source, by range.

The tar member or per-file object is opened as a :class:`~...formats.readers.RangeReader`
(``store.reader`` windowed to the member) and handed to the format's cutter: wav reads its
header and one range of samples, mp4 its box headers, moov and the window's samples, npz its
central directory and the prefix of each wanted member that holds the window's rows. A
per-file npz (one ``.npy`` object per feature) fetches only the wanted features' objects.
The json clip is the planned document.

The windows of one source are cut together (:func:`groups`, :func:`cut_items`): the header,
moov or directory is read once, the byte ranges of overlapping windows once (their union),
and each npz member inflated once, up to the last window's end. A run's :class:`SpanCache`
(spancache.py) keeps the metadata reads and npz prefixes for windows of the same source cut
in other groups.
"""

from __future__ import annotations

import bisect
import io
import json
from dataclasses import dataclass, field

import numpy as np

from ...errors import MediaFormatError, SampleUnavailable
from ...formats import mp4clip, npzclip, wavclip
from ...formats.readers import CountingReader, RangeReader, SliceReader, share
from ...layout import FRAME_STRIDE, feature_wanted
from ...remote import ObjectStore
from ..planning.clips import group_fps
from ..planning.items import MERGE_NPZ, OBJECT, Item
from .spancache import CachedReader, SpanCache

__all__ = ["ClipOutput", "SpanCache", "cut_item", "cut_items", "groups", "source_identity"]

GROUP_MAX = 32  # windows of one source cut together at most (their clips are held in memory)


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
    duration_s: float | None  # the recording's (sizes an npz member's first read)

    @classmethod
    def of(cls, item: Item) -> _Spec:
        c = item.clip or {}
        features = tuple(c["features"]) if c.get("features") else None
        return cls(item.file_id, float(c["start_s"]), float(c["end_s"]), dict(c.get("fps") or {}),
                   features, bool(c.get("exact")), c.get("duration_s"))  # fmt: skip

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


def source_identity(item: Item) -> tuple:
    """What the clips of one source share: the extension and the bytes they are cut from.
    Items with the same identity are cut together by :func:`cut_items`."""
    if item.ext == "json" or item.state == "failed" or not item.parts:
        return ("single", id(item))
    return (item.ext, (item.clip or {}).get("from"),
            tuple((p.key, p.offset, p.length, p.etag) for p in item.parts))  # fmt: skip


def groups(items: list[Item], size: int = GROUP_MAX) -> list[list[Item]]:
    """``items`` by :func:`source_identity`, in order of first appearance, at most ``size``
    windows a group (a group's clips are held in memory together)."""
    by: dict[tuple, list[list[Item]]] = {}
    order: list[list[Item]] = []
    for item in items:
        chunks = by.setdefault(source_identity(item), [])
        if not chunks or len(chunks[-1]) >= size:
            chunks.append([])
            order.append(chunks[-1])
        chunks[-1].append(item)
    return order


def cut_item(store: ObjectStore | None, item: Item, cache: SpanCache | None = None) -> ClipOutput:
    """The clip's bytes; :class:`SampleUnavailable` when its source is missing or unreadable.
    ``cache``: the metadata reads (wav header, moov, npz directory) shared by a run."""
    out = cut_items(store, [item], cache)[0]
    if isinstance(out, SampleUnavailable):
        raise out
    return out


def cut_items(
    store: ObjectStore | None, items: list[Item], cache: SpanCache | None = None
) -> list[ClipOutput | SampleUnavailable]:
    """The clips of windows of one source (one :func:`source_identity`), cut together: the
    source's metadata is read once, the byte ranges of overlapping windows once, and an npz
    member inflated once up to the last window's end. One result per item, in order: the
    clip, or the :class:`SampleUnavailable` that says why it cannot be cut (a window past a
    truncated file's end fails alone). Bytes and requests are shared out evenly."""
    first = items[0]
    if first.ext == "json":
        return [_json(item) for item in items]
    if first.state == "failed" or not first.parts:
        return [SampleUnavailable(i.file_id, i.reason or f"no {i.ext} planned") for i in items]
    specs = [_Spec.of(item) for item in items]
    try:
        if (first.clip or {}).get("from") == MERGE_NPZ:
            r = _Tally()
            outs = _perfile_npz(store, first, specs, r)
        else:
            r = CountingReader(source_reader(store, first))
            meta: RangeReader = r
            if cache is None:
                outs = _CUTTERS[first.ext](r, meta, specs)
            else:
                part = first.parts[0]
                meta = CachedReader(r, cache, (part.key, part.offset, part.etag))
                if first.ext == "npz":  # member prefixes: read once for the run's windows
                    ranges = cache.ranges(source_identity(first))
                    with ranges.lock:
                        outs = _npz(ranges.reader(r), meta, specs)
                else:
                    outs = _CUTTERS[first.ext](r, meta, specs)
    except MediaFormatError as e:  # the source itself (header, moov, directory) is unreadable
        outs = [e] * len(items)
    done: list[ClipOutput | SampleUnavailable] = []
    for i, (item, spec, out) in enumerate(zip(items, specs, outs)):
        if isinstance(out, MediaFormatError):
            done.append(SampleUnavailable(item.file_id, f"{item.ext} clip {spec.stem}: {out}"))
            continue
        out.item = item
        out.fetched = share(r.bytes_read, len(items), i)
        out.requests = share(r.reads, len(items), i)
        done.append(out)
    return done


@dataclass
class _Tally:
    """Bytes and requests of reads made without a reader (the per-file objects)."""

    bytes_read: int = 0
    reads: int = 0


def _json(item: Item) -> ClipOutput:
    spec = _Spec.of(item)
    doc = (item.clip or {}).get("doc") or {}
    covers = {"start_s": spec.start_s, "end_s": spec.end_s}
    return ClipOutput(item, json.dumps(doc, indent=4).encode(), covers)


Outs = list  # of ClipOutput | MediaFormatError, one per spec


def _spans(wanted: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """The union of every window's (offset, length) reads: overlapping or touching ones
    merged, so bytes two windows share are read once."""
    flat = sorted((a, a + n) for reads in wanted for a, n in reads if n > 0)
    out: list[list[int]] = []
    for a, b in flat:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b - a) for a, b in out]


class _Fetched:
    """The merged spans of a group, read once; each window takes its bytes from them."""

    def __init__(self, r: RangeReader, wanted: list[list[tuple[int, int]]]) -> None:
        spans = _spans(wanted)
        self.starts = [a for a, _ in spans]
        self.data = [r.read_at(a, n) for a, n in spans]

    def take(self, offset: int, n: int) -> bytes | None:
        """``n`` bytes at ``offset``, or None when the source ended before them."""
        if n == 0:
            return b""
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return None
        got = self.data[i][offset - self.starts[i] : offset - self.starts[i] + n]
        return got if len(got) == n else None


def _each(cut, specs: list[_Spec]) -> list:
    """``cut(spec)`` of each window, or the MediaFormatError of a window that cannot be cut
    (it fails alone: the others are still cut)."""
    cuts: list = []
    for spec in specs:
        try:
            cuts.append(cut(spec))
        except MediaFormatError as e:
            cuts.append(e)
    return cuts


def _wav(r: RangeReader, meta: RangeReader, specs: list[_Spec]) -> Outs:
    facts = wavclip.wav_facts(meta)
    cuts = _each(lambda spec: wavclip.cut(facts, spec.start_s, spec.end_s), specs)
    got = _Fetched(r, [[(c.offset, c.length)] for c in cuts if not isinstance(c, Exception)])
    outs: Outs = []
    for c in cuts:
        if isinstance(c, Exception):
            outs.append(c)
            continue
        data = got.take(c.offset, c.length)
        if data is None:
            outs.append(wavclip.cut_off(c))
            continue
        covers = {"start_s": c.first / c.rate, "end_s": (c.first + c.n) / c.rate,
                  "samples": c.n, "sample_rate": c.rate}  # fmt: skip
        outs.append(ClipOutput(None, c.head + data, covers))
    return outs


def _mp4(r: RangeReader, meta: RangeReader, specs: list[_Spec]) -> Outs:
    if any(spec.exact for spec in specs):  # re-encoded: each window decodes its own GOPs
        return [_mp4_exact(r, spec) for spec in specs]
    from ...formats.mp4 import parse_moov, read_moov

    movie = parse_moov(read_moov(meta)[1])
    cuts = _each(lambda spec: mp4clip.cut(movie, spec.start_s, spec.end_s), specs)
    got = _Fetched(r, [list(c.spans) for c in cuts if not isinstance(c, Exception)])
    outs: Outs = []
    for spec, c in zip(specs, cuts):
        if isinstance(c, Exception):
            outs.append(c)
            continue
        parts = [got.take(a, n) for a, n in c.spans]
        bad = next((a for (a, _), p in zip(c.spans, parts) if p is None), None)
        if bad is not None:
            outs.append(mp4clip.cut_off(bad))
            continue
        covers = {"start_s": spec.start_s, "end_s": spec.end_s, "preroll_s": c.preroll_s,
                  "stream_copy": True}  # fmt: skip
        outs.append(ClipOutput(None, b"".join([c.head, *parts]), covers))
    return outs


def _mp4_exact(r: RangeReader, spec: _Spec) -> ClipOutput | MediaFormatError:
    from ...formats import mp4exact

    try:
        data, covers = mp4exact.clip(r, spec.start_s, spec.end_s)
    except MediaFormatError as e:
        return e
    return ClipOutput(None, data, covers)


def _npz(r: RangeReader, meta: RangeReader, specs: list[_Spec]) -> Outs:
    spec = specs[0]  # one source: the same features and rates for every window
    cut = npzclip.clips(r, [(s.start_s, s.end_s) for s in specs], spec.group_fps,
                        lambda k: feature_wanted(k, spec.features), FRAME_STRIDE,
                        spec.duration_s, npzclip.members(meta))  # fmt: skip
    return [ClipOutput(None, c.data, {"rows": c.rows, "fps": c.fps}) for c in cut]


def _perfile_npz(store: ObjectStore, item: Item, specs: list[_Spec], tally: _Tally) -> Outs:
    """Per-file layout: each wanted feature is its own ``.npy`` object, fetched whole once
    for all the windows."""
    spec, loaded = specs[0], {}
    for part in item.parts:
        if not feature_wanted(part.name, spec.features):
            continue
        buf = io.BytesIO()
        tally.bytes_read += store.copy_range(part.key, part.offset, part.length, buf,
                                             part.whole_object())  # fmt: skip
        tally.reads += 1
        try:
            a = np.load(io.BytesIO(buf.getvalue()), allow_pickle=False)
        except (ValueError, OSError) as e:
            raise MediaFormatError("npz", f"{part.key}: not a readable npy ({e})") from None
        loaded[part.name] = a.astype(np.float32) if a.dtype == np.float64 else a  # as merged
    if not loaded:
        raise MediaFormatError("npz", "none of the requested features is in the source")
    outs: Outs = []
    for s in specs:
        arrays, rows, rates = {}, {}, {}
        for name, a in loaded.items():
            group = name.split(":", 1)[0]
            rates[group] = s.group_fps(group)
            first, stop = npzclip.frame_range(s.start_s, s.end_s, rates[group], len(a),
                                              FRAME_STRIDE.get(name, 1))  # fmt: skip
            arrays[name], rows[name] = a[first:stop], (first, stop)
        outs.append(ClipOutput(None, npzclip.npz_bytes(arrays), {"rows": rows, "fps": rates}))
    return outs


_CUTTERS = {"wav": _wav, "mp4": _mp4, "npz": _npz}
