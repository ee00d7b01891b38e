"""Media facts read from headers only: wav (RIFF chunks), mp4 (ISO BMFF boxes), npz (zip + npy).

Each probe takes a :class:`~seamless_catalog.formats.readers.RangeReader` over one file's bytes (a
local file or a tar member's window), reads the few header bytes it needs and jumps over
payloads. Bytes that are not the expected format raise
:class:`~seamless_catalog.errors.MediaFormatError` with the reason, so the ingest can
quarantine the record. Declared sizes are trusted over the bytes present: a file cut short
reports ``truncated=True`` instead of failing.
"""

from __future__ import annotations

import ast
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import MediaFormatError
from .readers import BytesReader, RangeReader, ReadAheadReader, ReaderFile

HEADER_READAHEAD = 64 * 1024  # one request covers a wav header, a moov start, an npz tail


# ast.literal_eval is not thread-safe on CPython 3.11 (shared AST recursion-depth state raises
# "SystemError: AST constructor recursion depth mismatch"); ingest probes from worker threads.
_LITERAL_EVAL = threading.Lock()


def _need(r: RangeReader, offset: int, n: int, kind: str, what: str) -> bytes:
    data = r.read_at(offset, n)
    if len(data) < n:
        raise MediaFormatError(kind, f"{what} at byte {offset} is cut off (file has {r.size})")
    return data


# ---------------------------------------------------------------- wav


@dataclass(frozen=True)
class WavFacts:
    sample_rate: int
    channels: int
    sample_format: str  # "float32", "int16", "int24", "int32", "uint8", "float64", "alaw"...
    bits_per_sample: int
    block_align: int
    n_samples: int  # frames per channel, from the data chunk's declared size
    duration_s: float
    data_offset: int
    data_size: int  # declared
    placeholder: bool  # no samples
    truncated: bool  # the declared data runs past the end of the file


_WAV_CODES = {1: "int", 3: "float", 6: "alaw", 7: "mulaw"}
_EXTENSIBLE = 0xFFFE
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def probe_wav(r: RangeReader, readahead: int = HEADER_READAHEAD) -> WavFacts:
    """Format and declared length of a RIFF/WAVE (or RF64) file (``readahead``: the bytes of
    the first read; a clip's plan reads a few kB, not a whole window, for a 58-byte header)."""
    r = ReadAheadReader(r, readahead)
    head = _need(r, 0, 12, "wav", "RIFF header")
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise MediaFormatError("wav", f"starts with {head[:12]!r}, not RIFF....WAVE")
    fmt: tuple[int, int, int, int, int] | None = None
    rf64_data_size: int | None = None
    for cid, off, size in _riff_chunks(r):
        if cid == b"ds64":
            rf64_data_size = struct.unpack("<Q", _need(r, off, 16, "wav", "ds64 chunk")[8:16])[0]
        elif cid == b"fmt ":
            fmt = _wav_fmt(_need(r, off, min(size, 40), "wav", "fmt chunk"))
        elif cid == b"data":
            if fmt is None:
                raise MediaFormatError("wav", "data chunk comes before any fmt chunk")
            if size == 0xFFFFFFFF and rf64_data_size is not None:
                size = rf64_data_size
            return _wav_facts(fmt, off, size, r.size)
    raise MediaFormatError("wav", "no data chunk" if fmt else "no fmt chunk")


def _riff_chunks(r: RangeReader) -> Iterator[tuple[bytes, int, int]]:
    """(id, data offset, declared size) of each chunk; odd sizes are padded to even."""
    pos = 12
    while pos + 8 <= r.size:
        cid, size = struct.unpack("<4sI", _need(r, pos, 8, "wav", "chunk header"))
        yield cid, pos + 8, size
        pos += 8 + size + (size & 1)
    if pos < r.size or pos == 12:
        raise MediaFormatError("wav", f"chunk header at byte {pos} is cut off")


def _wav_fmt(b: bytes) -> tuple[int, int, int, int, int]:
    if len(b) < 16:
        raise MediaFormatError("wav", f"fmt chunk of {len(b)} bytes, need 16")
    code, channels, rate, _, align, bits = struct.unpack("<HHIIHH", b[:16])
    if code == _EXTENSIBLE:
        if len(b) < 40 or b[26:40] != _GUID_TAIL:
            raise MediaFormatError("wav", "WAVE_FORMAT_EXTENSIBLE without a valid subformat GUID")
        code = struct.unpack("<H", b[24:26])[0]
    if channels == 0 or rate == 0 or align == 0:
        raise MediaFormatError("wav", f"fmt says {channels} channels, {rate} Hz, align {align}")
    return code, channels, rate, align, bits


def _sample_format(code: int, bits: int) -> str:
    base = _WAV_CODES.get(code)
    if base is None:
        return f"format_0x{code:04x}"
    if base == "int" and bits == 8:
        return "uint8"
    return f"{base}{bits}" if base in ("int", "float") else base


def _wav_facts(fmt: tuple[int, int, int, int, int], off: int, size: int, fsize: int) -> WavFacts:
    code, channels, rate, align, bits = fmt
    n = size // align
    return WavFacts(
        sample_rate=rate, channels=channels, sample_format=_sample_format(code, bits),
        bits_per_sample=bits, block_align=align, n_samples=n, duration_s=n / rate,
        data_offset=off, data_size=size, placeholder=n == 0, truncated=off + size > fsize,
    )  # fmt: skip


# ---------------------------------------------------------------- mp4


@dataclass(frozen=True)
class Mp4Facts:
    duration_s: float | None  # from moov/mvhd; None without moov
    timescale: int | None
    has_video: bool | None  # a trak whose hdlr is 'vide'; None without moov
    has_audio: bool | None
    major_brand: str | None
    moov_offset: int | None
    placeholder: bool  # complete file with no moov or a zero duration
    truncated: bool  # a top-level box runs past the end of the file


_FIRST_BOXES = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pdin", b"uuid"}


@dataclass(frozen=True)
class _Box:
    type: bytes
    offset: int
    body: int  # offset of the payload
    end: int  # declared end


def probe_mp4(r: RangeReader) -> Mp4Facts:
    """Duration and track kinds of an ISO BMFF file from ``ftyp``/``moov``; ``mdat`` is skipped."""
    r = ReadAheadReader(r, HEADER_READAHEAD)
    head = r.read_at(0, 12)
    if head[4:8] not in _FIRST_BOXES:
        raise MediaFormatError("mp4", f"starts with {head[:8]!r}, not an ftyp/moov/mdat box")
    brand = head[8:12].decode("latin-1") if head[4:8] == b"ftyp" else None
    boxes = list(_boxes(r, 0, r.size, top=True))
    truncated = boxes[-1].end > r.size
    moov = next((b for b in boxes if b.type == b"moov" and b.end <= r.size), None)
    if moov is None:
        return Mp4Facts(None, None, None, None, brand, None, not truncated, truncated)
    timescale, duration = _mvhd(r, moov)
    handlers = set(_handlers(r, moov))
    placeholder = not truncated and duration == 0
    return Mp4Facts(
        duration, timescale, b"vide" in handlers, b"soun" in handlers, brand,
        moov.offset, placeholder, truncated,
    )  # fmt: skip


def _boxes(r: RangeReader, start: int, end: int, top: bool = False) -> Iterator[_Box]:
    pos = start
    while pos + 8 <= end:
        size, btype = struct.unpack(">I4s", _need(r, pos, 8, "mp4", "box header"))
        body = pos + 8
        if size == 1:
            size = struct.unpack(">Q", _need(r, body, 8, "mp4", "64-bit box size"))[0]
            body += 8
        elif size == 0:
            size = end - pos
        if size < body - pos or not _is_fourcc(btype):
            where = "file" if top else "box"
            raise MediaFormatError("mp4", f"no valid {where} box at byte {pos} ({btype!r})")
        yield _Box(btype, pos, body, pos + size)
        pos += size
    if top and 0 < end - pos < 8:
        raise MediaFormatError("mp4", f"trailing {end - pos} bytes after the last box")


def _is_fourcc(t: bytes) -> bool:
    return all(32 <= c < 127 for c in t) or t == b"\xa9too"


def _child(r: RangeReader, parent: _Box, btype: bytes) -> _Box | None:
    return next((b for b in _boxes(r, parent.body, parent.end) if b.type == btype), None)


def _mvhd(r: RangeReader, moov: _Box) -> tuple[int, float | None]:
    mvhd = _child(r, moov, b"mvhd")
    if mvhd is None:
        raise MediaFormatError("mp4", "moov has no mvhd box")
    version = _need(r, mvhd.body, 1, "mp4", "mvhd")[0]
    layout, n = (">16xIQ", 32) if version == 1 else (">8xII", 20)
    timescale, duration = struct.unpack(layout, _need(r, mvhd.body + 4, n - 4, "mp4", "mvhd"))
    if timescale == 0:
        raise MediaFormatError("mp4", "mvhd timescale is 0")
    unknown = duration == (1 << (64 if version == 1 else 32)) - 1
    return timescale, None if unknown else duration / timescale


def _handlers(r: RangeReader, moov: _Box) -> Iterator[bytes]:
    for trak in _boxes(r, moov.body, moov.end):
        if trak.type != b"trak":
            continue
        mdia = _child(r, trak, b"mdia")
        hdlr = _child(r, mdia, b"hdlr") if mdia else None
        if hdlr is not None:
            yield _need(r, hdlr.body + 8, 4, "mp4", "hdlr")


# ---------------------------------------------------------------- npz


@dataclass(frozen=True)
class NpyFacts:
    key: str  # member name without ".npy", e.g. "smplh:body_pose"
    dtype: str  # "float32", "bool", ...
    shape: tuple[int, ...]
    n_frames: int | None  # shape[0]; None for a 0-d array
    fortran_order: bool
    compressed: bool  # deflate member (savez_compressed) rather than stored
    compressed_size: int
    file_size: int  # the .npy member's uncompressed size, header included


_NPY_MAGIC = b"\x93NUMPY"
NPY_MEMBER_READAHEAD = 2048  # local header + name + extra + start of the data
NPY_FIRST = 256  # npy header of a <= 3-d array is 128 bytes; a longer one costs a re-read
NPY_HEADER_MAX = 1 << 20


NPZ_TAIL = 8192  # one read: the end-of-central-directory record and, mostly, the directory


def probe_npz(r: RangeReader) -> list[NpyFacts]:
    """dtype and shape of every ``.npy`` member, from the zip directory and each npy header.

    Reads: the file's tail (one read, holding the directory that ``zipfile`` parses), then
    one small read per member (its local header and the start of its data, inflating only
    enough to parse the npy header). A file smaller than the readahead window is read once.
    """
    if r.size <= HEADER_READAHEAD:
        r = BytesReader(r.read_at(0, r.size))
    tail = ReadAheadReader(r, NPZ_TAIL)
    tail.read_at(max(0, r.size - NPZ_TAIL), NPZ_TAIL)  # zipfile's reads near the end are free
    try:
        with zipfile.ZipFile(ReaderFile(tail)) as z:
            entries = [e for e in z.infolist() if e.filename.endswith(".npy")]
    except zipfile.BadZipFile as e:
        reason = "no zip end-of-central-directory record" if "not a zip" in str(e) else str(e)
        raise MediaFormatError("npz", reason) from None
    except (ValueError, EOFError, OSError, struct.error, NotImplementedError) as e:  # it lies
        raise MediaFormatError("npz", f"bad zip directory ({e})") from None
    members = ReadAheadReader(r, NPY_MEMBER_READAHEAD)
    return [_probe_member(members, e) for e in entries]


def _probe_member(r: RangeReader, e: zipfile.ZipInfo) -> NpyFacts:
    name = e.filename
    if e.flag_bits & 1:
        raise MediaFormatError("npz", f"member {name!r} is encrypted")
    if e.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise MediaFormatError("npz", f"member {name!r} uses zip method {e.compress_type}")
    if not 0 <= e.header_offset < r.size:
        raise MediaFormatError("npz", f"local header of {name!r} at {e.header_offset} is outside")
    head = _need(r, e.header_offset, 30, "npz", f"local header of {name!r}")
    if head[:4] != b"PK\x03\x04":
        raise MediaFormatError("npz", f"no local header for {name!r} at {e.header_offset}")
    n, m = struct.unpack("<HH", head[26:30])
    data_off = e.header_offset + 30 + n + m
    prefix = _npy_prefix(r, data_off, e, NPY_FIRST)
    start, hlen = _npy_preamble(prefix, name)
    if len(prefix) < start + hlen and start + hlen <= min(e.file_size, NPY_HEADER_MAX):
        prefix = _npy_prefix(r, data_off, e, start + hlen)
    dtype, shape, fortran = _npy_header(prefix[start : start + hlen], hlen, start, name)
    return NpyFacts(
        key=name[: -len(".npy")], dtype=dtype, shape=shape,
        n_frames=shape[0] if shape else None, fortran_order=fortran,
        compressed=e.compress_type == zipfile.ZIP_DEFLATED, compressed_size=e.compress_size,
        file_size=e.file_size,
    )  # fmt: skip


def _npy_prefix(r: RangeReader, data_off: int, e: zipfile.ZipInfo, want: int) -> bytes:
    """The first ``want`` bytes of the member's npy file (fewer if it is shorter)."""
    want = min(want, e.file_size)
    if e.compress_type == zipfile.ZIP_STORED:
        return r.read_at(data_off, want)
    inflater, out, pos, chunk = zlib.decompressobj(-15), b"", data_off, 256
    end = data_off + e.compress_size
    while len(out) < want and pos < end and not inflater.eof:
        raw = r.read_at(pos, min(chunk, end - pos))
        if not raw:
            break
        try:
            out += inflater.decompress(inflater.unconsumed_tail + raw, want - len(out))
        except zlib.error as exc:
            reason = f"member {e.filename!r}: bad deflate data ({exc})"
            raise MediaFormatError("npz", reason) from None
        pos += len(raw)
        chunk *= 2
    return out


def _npy_preamble(b: bytes, name: str) -> tuple[int, int]:
    """(offset, length) of the npy header dict text, from the magic and version."""
    if b[:6] != _NPY_MAGIC or len(b) < 12:
        raise MediaFormatError("npz", f"member {name!r} is not an .npy file")
    major = b[6]
    if major == 1:
        return 10, struct.unpack("<H", b[8:10])[0]
    if major in (2, 3):
        return 12, struct.unpack("<I", b[8:12])[0]
    raise MediaFormatError("npz", f"member {name!r}: unknown npy version {major}")


def _npy_header(text: bytes, hlen: int, start: int, name: str) -> tuple[str, tuple[int, ...], bool]:
    if len(text) < hlen:
        raise MediaFormatError("npz", f"member {name!r}: npy header cut off at {hlen} bytes")
    try:
        with _LITERAL_EVAL:
            d = ast.literal_eval(text.decode("utf-8" if start == 12 else "latin-1"))
        dtype = np.lib.format.descr_to_dtype(d["descr"])
        shape = tuple(int(x) for x in d["shape"])
        fortran = bool(d["fortran_order"])
    except (ValueError, SyntaxError, KeyError, TypeError) as exc:
        raise MediaFormatError("npz", f"member {name!r}: bad npy header ({exc})") from None
    return (dtype.name if dtype.fields is None else str(dtype)), shape, fortran


def probe_npy(r: RangeReader, key: str) -> NpyFacts:
    """One ``.npy`` file (the per-feature files of the CDN layout), reported under ``key``."""
    prefix = r.read_at(0, NPY_FIRST)
    start, hlen = _npy_preamble(prefix, key)
    if len(prefix) < start + hlen:
        prefix = r.read_at(0, min(start + hlen, NPY_HEADER_MAX))
    dtype, shape, fortran = _npy_header(prefix[start : start + hlen], hlen, start, key)
    return NpyFacts(
        key=key, dtype=dtype, shape=shape, n_frames=shape[0] if shape else None,
        fortran_order=fortran, compressed=False, compressed_size=r.size, file_size=r.size,
    )  # fmt: skip
