"""A window of an mp4, by stream copy: the samples that cover it and a new ``moov`` for them.

The GOP rule. A decoder can only start at a sync sample (keyframe), so for each video
track the clip holds, in decode order, every sample from the last sync sample at or before
the first frame shown in the window to the last sample shown before its end (with B-frames
a few later-presented samples come along: they are decoded before frames of the window).
Audio and other tracks keep the samples that overlap the window. The new ``moov`` (written
before the ``mdat``, so a browser can start at once) has one edit per track whose
``media_time`` is the media time of ``start_s`` and whose duration is the window's: players
that honour edit lists (Chromium, FFmpeg/PyAV, QuickTime) present exactly
``[start_s, end_s)``; one that ignores them shows the pre-roll from the keyframe first (at
most one GOP, 1-2 s in the release). Nothing is re-encoded: the samples are the source's
bytes, fetched as a few byte ranges (one per run of adjacent samples).

:func:`cut` plans a clip from a parsed :class:`~.mp4.Movie`: the source byte ranges to fetch
(``spans``) and the bytes to write before them (``head``: ``ftyp``, ``moov``, ``mdat``
header). The clip file is ``head`` followed by the spans' bytes, in order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from ..errors import MediaFormatError
from .mp4 import Movie, Track, parse_moov, read_moov
from .readers import RangeReader

EPS = 1e-9  # seconds: a frame exactly at start_s belongs to the window
FTYP = b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"


@dataclass(frozen=True)
class TrackCut:
    track: Track
    first: int  # decode-order index of the first sample kept
    stop: int  # one past the last
    media_time: int  # new edit start, media timescale, from the first kept sample's dts
    segment: int  # edit duration, movie timescale


@dataclass(frozen=True)
class Cut:
    start_s: float
    end_s: float
    tracks: tuple[TrackCut, ...]
    spans: tuple[tuple[int, int], ...]  # (offset, length) in the source file, in clip order
    head: bytes  # ftyp + moov + mdat header

    @property
    def size(self) -> int:
        return len(self.head) + sum(n for _, n in self.spans)

    @property
    def preroll_s(self) -> float:
        """How much before ``start_s`` the kept video starts (what the edit list hides)."""
        video = next((c for c in self.tracks if c.track.handler == b"vide"), None)
        if video is None:
            return 0.0
        return max(0.0, self.start_s - float(video.track.pts[video.first : video.stop].min()))


def _fail(reason: str) -> MediaFormatError:
    return MediaFormatError("mp4", reason)


def _select(track: Track, start_s: float, end_s: float) -> tuple[int, int] | None:
    pts = track.pts
    if track.handler == b"vide":  # the window's frames: presented in [start_s, end_s)
        needed = np.flatnonzero((pts >= start_s - EPS) & (pts < end_s - EPS))
    else:  # audio and the rest: every sample that overlaps the window
        shown_until = pts + track.durations / track.timescale
        needed = np.flatnonzero((pts < end_s) & (shown_until > start_s))
    if not len(needed):
        return None
    first = int(needed.min())
    syncs = np.flatnonzero(track.sync[: first + 1])
    if not len(syncs):
        raise _fail(f"track {track.track_id} has no sync sample before {start_s:.3f} s")
    return int(syncs[-1]), int(needed.max()) + 1


def cut(movie: Movie, start_s: float, end_s: float) -> Cut:
    """Plan the stream-copied clip of ``[start_s, end_s)`` (seconds of presentation)."""
    if not end_s > start_s >= 0:
        raise _fail(f"window {start_s}..{end_s} s is empty")
    cuts = []
    for track in movie.tracks:
        if not track.n:
            continue
        picked = _select(track, start_s, end_s)
        if picked is None:
            continue
        first, stop = picked
        ts = track.timescale
        origin = int(track.dts[first])
        media_time = round((start_s - track.empty_s) * ts) + track.media_time - origin
        shown = track.dts[first:stop] + track.cts[first:stop] - origin
        media_time = max(media_time, int(shown.min()))
        end_media = int((shown + track.durations[first:stop]).max())
        segment = round(min(end_s - start_s, (end_media - media_time) / ts) * movie.timescale)
        cuts.append(TrackCut(track, first, stop, media_time, segment))
    if not any(c.track.handler == b"vide" for c in cuts):
        raise _fail(f"no video frame is shown between {start_s:.3f} s and {end_s:.3f} s")
    return _build(movie, start_s, end_s, cuts)


def _layout(cuts: list[TrackCut]) -> tuple[list[tuple[int, int]], dict[int, np.ndarray]]:
    """Source spans in file order (runs of adjacent samples) and, per track, each kept
    sample's position in the concatenation of the spans."""
    rows = []
    for i, c in enumerate(cuts):
        idx = np.arange(c.first, c.stop)
        rows.append(np.stack([c.track.offsets[idx], c.track.sizes[idx],
                              np.full(len(idx), i), idx], axis=1))  # fmt: skip
    table = np.concatenate(rows)
    table = table[np.argsort(table[:, 0], kind="stable")]
    offsets, sizes = table[:, 0], table[:, 1]
    if np.any(offsets[1:] < offsets[:-1] + sizes[:-1]):
        raise _fail("samples overlap in the file")
    new = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    breaks = np.flatnonzero(offsets[1:] != offsets[:-1] + sizes[:-1]) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(table)]))
    spans = [
        (int(offsets[a]), int(new[b - 1] + sizes[b - 1] - new[a])) for a, b in zip(starts, ends)
    ]
    positions = {}
    for i in range(len(cuts)):
        mine = table[:, 2] == i
        order = np.argsort(table[mine, 3])
        positions[i] = new[mine][order]
    return spans, positions


def _build(movie: Movie, start_s: float, end_s: float, cuts: list[TrackCut]) -> Cut:
    spans, positions = _layout(cuts)
    duration = max(c.segment for c in cuts)
    payload = sum(n for _, n in spans)

    def moov(base: int) -> bytes:
        traks = [_trak(c, positions[i] + base, movie) for i, c in enumerate(cuts)]
        return _box(b"moov", _patch_duration(movie.mvhd, duration), *traks)

    ftyp = _box(b"ftyp", FTYP)
    mdat_header = _mdat_header(payload)
    size = len(moov(0))  # the offsets' values do not change the moov's size (see _stco)
    head = ftyp + moov(len(ftyp) + size + len(mdat_header)) + mdat_header
    return Cut(start_s, end_s, tuple(cuts), tuple(spans), head)


def _mdat_header(payload: int) -> bytes:
    if payload + 8 < 1 << 32:
        return struct.pack(">I4s", payload + 8, b"mdat")
    return struct.pack(">I4sQ", 1, b"mdat", payload + 16)


def _box(kind: bytes, *payload: bytes) -> bytes:
    data = b"".join(payload)
    return struct.pack(">I", 8 + len(data)) + kind + data


def _full(kind: bytes, version: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version << 24), *payload)


# where the duration field starts after a full box's 12-byte header, (version 1, version 0):
# tkhd has a track_ID and a reserved word where mvhd and mdhd have a timescale
_DURATION_AT = {b"mvhd": (20, 12), b"mdhd": (20, 12), b"tkhd": (24, 16)}


def _patch_duration(box: bytes, duration: int) -> bytes:
    """``box`` (an mvhd, tkhd or mdhd, header included) with its duration set."""
    out = bytearray(box)
    v1, v0 = _DURATION_AT[bytes(out[4:8])]
    if out[8] == 1:
        struct.pack_into(">Q", out, 12 + v1, duration)
    else:
        struct.pack_into(">I", out, 12 + v0, duration)
    return bytes(out)


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """Run-length encoding: (count, value)."""
    if not len(values):
        return []
    breaks = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], breaks))
    counts = np.diff(np.concatenate((starts, [len(values)])))
    return [(int(n), int(values[s])) for n, s in zip(counts, starts)]


def _table(kind: bytes, version: int, runs: list[tuple[int, int]], fmt: str = ">II") -> bytes:
    body = b"".join(struct.pack(fmt, *r) for r in runs)
    return _full(kind, version, struct.pack(">I", len(runs)), body)


def _chunks(offsets: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Chunks = runs of samples adjacent in the clip: (chunk offsets, samples per chunk)."""
    breaks = np.flatnonzero(offsets[1:] != offsets[:-1] + sizes[:-1]) + 1
    starts = np.concatenate(([0], breaks))
    counts = np.diff(np.concatenate((starts, [len(offsets)])))
    return offsets[starts], [int(n) for n in counts]


def _stbl(c: TrackCut, offsets: np.ndarray) -> bytes:
    t, sl = c.track, slice(c.first, c.stop)
    descriptions = np.unique(t.description[sl])
    if len(descriptions) != 1:
        raise _fail(f"track {t.track_id} changes sample description inside the window")
    sizes = t.sizes[sl]
    parts = [t.raw[b"stsd"], _table(b"stts", 0, _runs(t.durations[sl]))]
    if t.has_ctts:
        cts = t.cts[sl]
        fmt = ">Ii" if t.ctts_version == 1 or cts.min() < 0 else ">II"
        parts.append(_table(b"ctts", 1 if fmt == ">Ii" else 0, _runs(cts), fmt))
    if t.has_stss:
        keys = np.flatnonzero(t.sync[sl]) + 1
        parts.append(_full(b"stss", 0, struct.pack(">I", len(keys)),
                           keys.astype(">u4").tobytes()))  # fmt: skip
    starts, counts = _chunks(offsets, sizes)
    stsc = []
    for i, n in enumerate(counts):
        if not stsc or stsc[-1][1] != n:
            stsc.append((i + 1, n, int(descriptions[0])))
    parts.append(_table(b"stsc", 0, stsc, ">III"))
    parts.append(_full(b"stsz", 0, struct.pack(">II", 0, len(sizes)),
                       sizes.astype(">u4").tobytes()))  # fmt: skip
    parts.append(_stco(starts))
    return _box(b"stbl", *parts)


def _stco(starts: np.ndarray) -> bytes:
    """Always co64 when any offset could pass 4 GiB; the table's size does not depend on
    the values, so the moov can be measured before its offsets are known."""
    if len(starts) and int(starts.max()) >= 1 << 32:
        return _full(b"co64", 0, struct.pack(">I", len(starts)), starts.astype(">u8").tobytes())
    return _full(b"stco", 0, struct.pack(">I", len(starts)), starts.astype(">u4").tobytes())


def _trak(c: TrackCut, offsets: np.ndarray, movie: Movie) -> bytes:
    t = c.track
    media_duration = int(t.durations[c.first : c.stop].sum())
    elst = _full(b"elst", 1, struct.pack(">I", 1),
                 struct.pack(">QqHH", c.segment, c.media_time, 1, 0))  # fmt: skip
    header = [t.raw[k] for k in (b"vmhd", b"smhd", b"nmhd", b"sthd") if k in t.raw]
    minf = _box(b"minf", *header, t.raw.get(b"dinf", _dinf()), _stbl(c, offsets))
    mdia = _box(b"mdia", _patch_duration(t.raw[b"mdhd"], media_duration), t.raw[b"hdlr"], minf)
    return _box(b"trak", _patch_duration(t.raw[b"tkhd"], c.segment), _box(b"edts", elst), mdia)


def _dinf() -> bytes:
    url = _box(b"url ", struct.pack(">I", 1))  # flags 1: the media is in this file
    return _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1), url))


def clip(r: RangeReader, start_s: float, end_s: float) -> tuple[bytes, Cut]:
    """The stream-copied clip of ``[start_s, end_s)`` read from ``r``: the top-level box
    headers, the ``moov``, then one read per run of adjacent samples."""
    _, moov = read_moov(r)
    c = cut(parse_moov(moov), start_s, end_s)
    parts = [c.head]
    for offset, length in c.spans:
        data = r.read_at(offset, length)
        if len(data) < length:
            raise cut_off(offset)
        parts.append(data)
    return b"".join(parts), c


def cut_off(offset: int) -> MediaFormatError:
    """The error of a window whose samples the file does not hold (a truncated file)."""
    return _fail(f"samples at byte {offset} are cut off (a truncated file)")
