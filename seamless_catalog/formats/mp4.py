"""The sample tables of an ISO BMFF (mp4) file: where every sample is and when it plays.

A clip is cut by stream copy, so we need, per track, each sample's byte range, decode time,
composition offset and sync flag: ``stts`` (durations), ``ctts`` (composition offsets),
``stss`` (sync samples), ``stsc`` + ``stsz`` + ``stco``/``co64`` (chunks, sizes, offsets),
``mdhd`` (the track's timescale) and ``elst`` (where the presentation starts). The tables
are expanded into numpy arrays (a 226 s video has about 6,800 samples).

:func:`locate_moov` finds the ``moov`` by walking the top-level box headers through a
:class:`~.readers.RangeReader`, jumping over the ``mdat`` whether it comes before or after
(the release's placement is not known, so both are read). :func:`read_moov` returns its
bytes; :func:`parse_moov` the :class:`Movie`. Nothing else of the file is read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import MediaFormatError
from .readers import RangeReader, ReadAheadReader

TOP_READAHEAD = 64 * 1024  # the first read: ftyp and, with the moov first, most of the moov
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}


@dataclass(frozen=True)
class Box:
    type: bytes
    offset: int  # of the header
    body: int  # of the payload
    end: int  # declared end

    @property
    def size(self) -> int:
        return self.end - self.offset


def _fail(reason: str) -> MediaFormatError:
    return MediaFormatError("mp4", reason)


def iter_boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes of ``data[start:end]`` (in memory), one level deep."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if size == 1:
            if pos + 16 > end:
                raise _fail(f"64-bit box size at byte {pos} is cut off")
            size = struct.unpack_from(">Q", data, body)[0]
            body += 8
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            raise _fail(f"box {kind!r} at byte {pos} declares {size} bytes, {end - pos} remain")
        yield Box(kind, pos, body, pos + size)
        pos += size


def child(data: bytes | memoryview, parent: Box, kind: bytes) -> Box | None:
    return next((b for b in iter_boxes(data, parent.body, parent.end) if b.type == kind), None)


def need(data: bytes | memoryview, parent: Box, kind: bytes) -> Box:
    found = child(data, parent, kind)
    if found is None:
        raise _fail(f"{parent.type.decode('latin-1')} has no {kind.decode('latin-1')} box")
    return found


# ------------------------------------------------------------------- top level, by range


@dataclass(frozen=True)
class TopLevel:
    """Where the file's top-level boxes are (from their headers only)."""

    boxes: tuple[Box, ...]
    size: int

    def first(self, kind: bytes) -> Box | None:
        return next((b for b in self.boxes if b.type == kind), None)

    @property
    def moov_first(self) -> bool:
        kinds = [b.type for b in self.boxes]
        return b"moov" in kinds and (
            b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat")
        )


def top_level(r: RangeReader, readahead: int = TOP_READAHEAD) -> TopLevel:
    """The top-level boxes, by one header read each (a readahead window serves the nearby
    ones). A box running past the end of the file (a truncated download) is kept with its
    declared end: the caller decides whether what it needs is still there."""
    r = ReadAheadReader(r, readahead)
    boxes, pos = [], 0
    while pos + 8 <= r.size:
        head = r.read_at(pos, 16)
        size, kind = struct.unpack_from(">I4s", head)
        body = pos + 8
        if size == 1:
            if len(head) < 16:
                raise _fail(f"64-bit box size at byte {pos} is cut off")
            size, body = struct.unpack_from(">Q", head, 8)[0], pos + 16
        elif size == 0:
            size = r.size - pos
        if size < body - pos or not all(32 <= c < 127 for c in kind):
            raise _fail(f"no valid box at byte {pos} ({kind!r})")
        boxes.append(Box(kind, pos, body, pos + size))
        pos += size
    return TopLevel(tuple(boxes), r.size)


def locate_moov(r: RangeReader) -> Box:
    """The ``moov`` box (before or after the ``mdat``); :class:`MediaFormatError` when the
    file has none or it is cut off."""
    top = top_level(r)
    moov = top.first(b"moov")
    if moov is None:
        raise _fail("no moov box (a placeholder, or the download stopped before the moov)")
    if moov.end > r.size:
        raise _fail(f"the moov box ends at byte {moov.end}, after the end of the file ({r.size})")
    return moov


def read_moov(r: RangeReader) -> tuple[Box, bytes]:
    """The ``moov`` box and its bytes (header included). The box walk's last read window
    serves the moov when it holds it (a small moov before the ``mdat``: one read in all)."""
    r = ReadAheadReader(r, TOP_READAHEAD)
    moov = locate_moov(r)
    data = r.read_at(moov.offset, moov.size)
    if len(data) < moov.size:
        raise _fail(f"the moov box is cut off at {len(data)} of {moov.size} bytes")
    return moov, data


# ---------------------------------------------------------------------------- the tables


@dataclass
class Track:
    """One ``trak``: its boxes (to copy into a clip) and every sample, in decode order."""

    track_id: int
    handler: bytes  # b"vide", b"soun", ...
    timescale: int  # mdhd
    sizes: np.ndarray  # int64 bytes per sample
    offsets: np.ndarray  # int64 file offset per sample
    dts: np.ndarray  # int64 decode time per sample, media timescale
    durations: np.ndarray  # int64 per sample (stts)
    cts: np.ndarray  # int64 composition offset per sample (ctts; zeros without)
    sync: np.ndarray  # bool per sample (all true without stss)
    description: np.ndarray  # int32 sample description index per sample (stsc)
    media_time: int = 0  # where the presentation starts in the media (elst), media timescale
    empty_s: float = 0.0  # empty edit before it (seconds)
    has_ctts: bool = False
    ctts_version: int = 0
    has_stss: bool = False
    raw: dict[bytes, bytes] = field(default_factory=dict)  # tkhd, mdhd, hdlr, vmhd, dinf, stsd

    @property
    def n(self) -> int:
        return len(self.sizes)

    @property
    def pts(self) -> np.ndarray:
        """Presentation time of each sample in seconds from the start of the presentation."""
        return (self.dts + self.cts - self.media_time) / self.timescale + self.empty_s

    @property
    def duration_s(self) -> float:
        return float(self.durations.sum()) / self.timescale


@dataclass
class Movie:
    timescale: int  # mvhd
    duration: int  # mvhd, movie timescale
    tracks: list[Track]
    mvhd: bytes

    def track(self, handler: bytes) -> Track | None:
        return next((t for t in self.tracks if t.handler == handler), None)


def _full_box(data: bytes | memoryview, box: Box) -> tuple[int, int]:
    """(version, payload offset after version/flags)."""
    return data[box.body], box.body + 4


def _u32s(data, offset: int, count: int, per: int = 1) -> np.ndarray:
    end = offset + 4 * count * per
    if end > len(data):
        raise _fail("a sample table is longer than its box")
    return np.frombuffer(bytes(data[offset:end]), ">u4").astype(np.int64).reshape(-1, per)


def _stts(data, box: Box) -> np.ndarray:
    _, pos = _full_box(data, box)
    (n,) = struct.unpack_from(">I", data, pos)
    runs = _u32s(data, pos + 4, n, 2)
    return np.repeat(runs[:, 1], runs[:, 0])


def _ctts(data, box: Box) -> tuple[np.ndarray, int]:
    version, pos = _full_box(data, box)
    (n,) = struct.unpack_from(">I", data, pos)
    runs = _u32s(data, pos + 4, n, 2)
    offsets = runs[:, 1]
    offsets = np.where(offsets >= 1 << 31, offsets - (1 << 32), offsets)  # signed in v1
    return np.repeat(offsets, runs[:, 0]), version


def _stsz(data, box: Box) -> np.ndarray:
    _, pos = _full_box(data, box)
    fixed, n = struct.unpack_from(">II", data, pos)
    if fixed:
        return np.full(n, fixed, np.int64)
    return _u32s(data, pos + 8, n)[:, 0]


def _chunk_offsets(data, stbl: Box) -> np.ndarray:
    stco = child(data, stbl, b"stco")
    if stco is not None:
        _, pos = _full_box(data, stco)
        (n,) = struct.unpack_from(">I", data, pos)
        return _u32s(data, pos + 4, n)[:, 0]
    co64 = need(data, stbl, b"co64")
    _, pos = _full_box(data, co64)
    (n,) = struct.unpack_from(">I", data, pos)
    end = pos + 4 + 8 * n
    if end > len(data):
        raise _fail("co64 is longer than its box")
    return np.frombuffer(bytes(data[pos + 4 : end]), ">u8").astype(np.int64)


def _sample_offsets(data, stbl: Box, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(file offset, sample description index) of every sample, from stsc and the chunks."""
    chunks = _chunk_offsets(data, stbl)
    stsc = need(data, stbl, b"stsc")
    _, pos = _full_box(data, stsc)
    (n,) = struct.unpack_from(">I", data, pos)
    entries = _u32s(data, pos + 4, n, 3)  # first_chunk (1-based), samples_per_chunk, desc
    per_chunk = np.zeros(len(chunks), np.int64)
    desc = np.ones(len(chunks), np.int32)
    for i, (first, count, index) in enumerate(entries):
        stop = entries[i + 1][0] - 1 if i + 1 < len(entries) else len(chunks)
        per_chunk[first - 1 : stop] = count
        desc[first - 1 : stop] = index
    if per_chunk.sum() < len(sizes):
        raise _fail(f"stsc places {per_chunk.sum()} samples, stsz has {len(sizes)}")
    chunk_of = np.repeat(np.arange(len(chunks)), per_chunk)[: len(sizes)]
    first_in_chunk = np.concatenate(([0], np.cumsum(per_chunk)[:-1]))[chunk_of]
    within = np.cumsum(sizes) - sizes  # bytes before each sample, counted from sample 0
    offsets = chunks[chunk_of] + within - within[first_in_chunk]
    return offsets, desc[chunk_of]


def _edit(data, trak: Box, movie_ts: int) -> tuple[int, float]:
    """(media_time of the first non-empty edit, seconds of empty edits before it)."""
    edts = child(data, trak, b"edts")
    elst = child(data, edts, b"elst") if edts else None
    if elst is None:
        return 0, 0.0
    version, pos = _full_box(data, elst)
    (n,) = struct.unpack_from(">I", data, pos)
    layout, width = (">Qq", 16) if version == 1 else (">Ii", 8)
    empty = 0.0
    for i in range(n):
        duration, media_time = struct.unpack_from(layout, data, pos + 4 + i * (width + 4))
        if media_time == -1:
            empty += duration / movie_ts
            continue
        return media_time, empty
    return 0, empty


def _mdhd(data, mdia: Box) -> int:
    mdhd = need(data, mdia, b"mdhd")
    version, pos = _full_box(data, mdhd)
    timescale = struct.unpack_from(">I", data, pos + (16 if version == 1 else 8))[0]
    if not timescale:
        raise _fail("mdhd timescale is 0")
    return timescale


def _track(data, trak: Box, movie_ts: int) -> Track:
    tkhd = need(data, trak, b"tkhd")
    version = data[tkhd.body]
    (track_id,) = struct.unpack_from(">I", data, tkhd.body + (20 if version == 1 else 12))
    mdia = need(data, trak, b"mdia")
    hdlr = need(data, mdia, b"hdlr")
    handler = bytes(data[hdlr.body + 8 : hdlr.body + 12])
    minf = need(data, mdia, b"minf")
    stbl = need(data, minf, b"stbl")
    durations = _stts(data, need(data, stbl, b"stts"))
    sizes = _stsz(data, need(data, stbl, b"stsz"))
    if len(durations) != len(sizes):
        raise _fail(f"stts has {len(durations)} samples, stsz {len(sizes)}")
    offsets, desc = _sample_offsets(data, stbl, sizes)
    ctts_box, stss_box = child(data, stbl, b"ctts"), child(data, stbl, b"stss")
    cts, ctts_version = _ctts(data, ctts_box) if ctts_box else (np.zeros(len(sizes), np.int64), 0)
    if len(cts) < len(sizes):
        raise _fail(f"ctts covers {len(cts)} of {len(sizes)} samples")
    sync = np.ones(len(sizes), bool)
    if stss_box is not None:
        _, pos = _full_box(data, stss_box)
        (n,) = struct.unpack_from(">I", data, pos)
        sync[:] = False
        sync[_u32s(data, pos + 4, n)[:, 0] - 1] = True
    media_time, empty = _edit(data, trak, movie_ts)
    kept = (tkhd, need(data, mdia, b"mdhd"), hdlr, need(data, stbl, b"stsd"))
    raw = {b.type: bytes(data[b.offset : b.end]) for b in kept}
    for kind in (b"vmhd", b"smhd", b"nmhd", b"sthd", b"dinf"):
        found = child(data, minf, kind)
        if found is not None:
            raw[kind] = bytes(data[found.offset : found.end])
    dts = np.concatenate(([0], np.cumsum(durations)[:-1])).astype(np.int64)
    return Track(
        track_id, handler, _mdhd(data, mdia), sizes, offsets, dts, durations,
        cts[: len(sizes)], sync, desc, media_time, empty, ctts_box is not None, ctts_version,
        stss_box is not None, raw,
    )  # fmt: skip


def parse_moov(data: bytes) -> Movie:
    """The movie header and the sample tables of every track of a ``moov`` (its bytes)."""
    moov = next(iter_boxes(data), None)
    if moov is None or moov.type != b"moov":
        raise _fail("expected the bytes of a moov box")
    mvhd = need(data, moov, b"mvhd")
    version, pos = _full_box(data, mvhd)
    timescale, duration = struct.unpack_from(">IQ" if version == 1 else ">II", data,
                                             pos + (16 if version == 1 else 8))  # fmt: skip
    if not timescale:
        raise _fail("mvhd timescale is 0")
    try:
        tracks = [_track(data, b, timescale) for b in iter_boxes(data, moov.body, moov.end)
                  if b.type == b"trak"]  # fmt: skip
    except (struct.error, IndexError) as e:
        raise _fail(f"bad sample table ({e})") from None
    return Movie(timescale, duration, tracks, bytes(data[mvhd.offset : mvhd.end]))
