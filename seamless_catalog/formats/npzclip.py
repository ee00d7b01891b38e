"""A window of an npz: the chosen members' zip entries by range, their frames sliced out.

The central directory comes from one read of the file's tail; each wanted member is then
a byte range from its local header to the next member's (adjacent members share a read).
:func:`member_arrays` inflates fetched members and :func:`npz_bytes` writes the clip: the
release's way (deflated members ``{key}.npy``, sorted), with fixed timestamps so the same
clip is the same bytes. :func:`frame_range` is the window-to-frames rule.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import MediaFormatError
from .readers import BytesReader, RangeReader, ReadAheadReader, ReaderFile

TAIL_READ = 4096  # the end-of-central-directory record and the directory of 24 members
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
EPS = 1e-9
CLIP_LEVEL = 1  # deflate level of a clip's members: a clip is small, and made often


@dataclass(frozen=True)
class Member:
    key: str  # "smplh:body_pose"
    offset: int  # of the local header
    end: int  # where the next member (or the central directory) starts
    method: int
    compress_size: int
    file_size: int


def members(r: RangeReader) -> list[Member]:
    """The ``.npy`` members of an npz, in file order, from its central directory."""
    if r.size <= TAIL_READ:
        r = BytesReader(r.read_at(0, r.size))
    tail = ReadAheadReader(r, TAIL_READ)
    tail.read_at(max(0, r.size - TAIL_READ), TAIL_READ)
    try:
        with zipfile.ZipFile(ReaderFile(tail)) as z:
            infos = sorted(z.infolist(), key=lambda i: i.header_offset)
            directory = z.start_dir
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, struct.error) as e:
        raise MediaFormatError("npz", f"bad zip directory ({e})") from None
    out = []
    for i, info in enumerate(infos):
        end = infos[i + 1].header_offset if i + 1 < len(infos) else directory
        if info.filename.endswith(".npy"):
            out.append(Member(info.filename[:-4], info.header_offset, end, info.compress_type,
                              info.compress_size, info.file_size))  # fmt: skip
    return out


def spans(chosen: list[Member]) -> list[tuple[int, int]]:
    """(offset, length) reads covering ``chosen`` (in file order; adjacent ones merged)."""
    out: list[list[int]] = []
    for m in sorted(chosen, key=lambda m: m.offset):
        if out and out[-1][0] + out[-1][1] == m.offset:
            out[-1][1] += m.end - m.offset
        else:
            out.append([m.offset, m.end - m.offset])
    return [(a, n) for a, n in out]


def member_array(m: Member, data: bytes | memoryview) -> np.ndarray:
    """The array of one member from the bytes of its zip entry (local header first)."""
    if bytes(data[:4]) != b"PK\x03\x04":
        raise MediaFormatError("npz", f"no local header for {m.key!r}")
    n, extra = struct.unpack_from("<HH", data, 26)
    start = 30 + n + extra
    raw = bytes(data[start : start + m.compress_size])
    if len(raw) < m.compress_size:
        raise MediaFormatError("npz", f"member {m.key!r} is cut off")
    if m.method == zipfile.ZIP_DEFLATED:
        try:
            raw = zlib.decompressobj(-15).decompress(raw)
        except zlib.error as e:
            raise MediaFormatError("npz", f"member {m.key!r}: bad deflate data ({e})") from None
    elif m.method != zipfile.ZIP_STORED:
        raise MediaFormatError("npz", f"member {m.key!r} uses zip method {m.method}")
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError) as e:
        raise MediaFormatError("npz", f"member {m.key!r}: {e}") from None


def frame_range(
    start_s: float, end_s: float, rate: float, n: int, stride: int = 1
) -> tuple[int, int]:
    """Rows of ``[start_s, end_s)`` in an array of ``n`` rows, one per ``stride`` frames at
    ``rate`` Hz: frame ``i`` (at ``i / rate`` s) is in the window when
    ``start_s <= i / rate < end_s``; a row of ``stride`` frames when any of them is."""
    first = max(0, math.ceil(start_s * rate - EPS))
    stop = max(first, math.ceil(end_s * rate - EPS))
    if stride > 1:
        first, stop = first // stride, -(-stop // stride)
    return min(first, n), min(stop, n)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Deflated ``{key}.npy`` members, keys sorted, fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, npy.getvalue(), compresslevel=CLIP_LEVEL)
    return buf.getvalue()


@dataclass(frozen=True)
class NpzClip:
    data: bytes  # the clip's npz
    rows: dict[str, tuple[int, int]]  # key -> (first, stop) rows of the source array kept
    fps: dict[str, float]  # feature group -> the frame rate used
    fetched: int  # bytes of member entries read (the directory read not included)


def clip(
    r: RangeReader,
    start_s: float,
    end_s: float,
    fps: Callable[[str], float],
    wanted: Callable[[str], bool] = lambda key: True,
    strides: Mapping[str, int] | None = None,
) -> NpzClip:
    """The rows of ``[start_s, end_s)`` of the wanted keys of the npz behind ``r``.

    ``fps(group)`` is the group's frame rate (the catalog's ``frame_rates.clip_fps``, else
    nominal); ``strides``: keys with one row per that many frames. Only the wanted members'
    zip entries are read (adjacent ones in one read); a member is inflated whole, as zip
    entries cannot be read from the middle."""
    chosen = [m for m in members(r) if wanted(m.key)]
    if not chosen:
        raise MediaFormatError("npz", "none of the requested features is in the file")
    arrays, rows, rates, fetched = {}, {}, {}, 0
    for offset, length in spans(chosen):
        data = r.read_at(offset, length)
        fetched += len(data)
        for m in (m for m in chosen if offset <= m.offset < offset + length):
            a = member_array(m, memoryview(data)[m.offset - offset : m.end - offset])
            group = m.key.split(":", 1)[0]
            rates[group] = fps(group)
            if a.ndim == 0:
                raise MediaFormatError("npz", f"member {m.key!r} is a scalar, not per frame")
            stride = (strides or {}).get(m.key, 1)
            first, stop = frame_range(start_s, end_s, rates[group], len(a), stride)
            arrays[m.key], rows[m.key] = a[first:stop], (first, stop)
    return NpzClip(npz_bytes(arrays), rows, rates, fetched)
