"""Windows of an npz: the chosen members' frames, read as far into each member as they reach.

The central directory comes from one read of the file's tail. A deflated member cannot be
entered in the middle (deflate has no access points), but it can be *left* early: the rows of
a window end at a known uncompressed offset (the npy header's shape and dtype give each row's
bytes), so only the compressed prefix that inflates to that offset is fetched. Its length is
estimated from the directory's sizes (``compress_size * needed / file_size``, plus a margin)
and, when the member compresses worse at its start than on average, extended by further
ranges estimated from the ratio seen so far (at most :data:`MAX_READS` per member, the last
one taking the rest). Output before the window's first row is inflated and dropped. A stored
member is read exactly: its npy header, then the window's rows. Members smaller than
:data:`SMALL` are read whole, and reads of neighbouring members less than :data:`MERGE_GAP`
apart are one read.

:func:`clips` cuts several windows of one file together: each member is inflated once, up
to the last window's end, and every window slices its rows from that. :func:`npz_bytes`
writes a clip the release's way (deflated members ``{key}.npy``, sorted) with fixed
timestamps, so the same clip is the same bytes. :func:`frame_range` is the window-to-rows rule.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MediaFormatError
from .readers import BytesReader, RangeReader, ReadAheadReader, ReaderFile, share

TAIL_READ = 4096  # the end-of-central-directory record and the directory of 24 members
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
EPS = 1e-9
CLIP_LEVEL = 1  # deflate level of a clip's members: a clip is small, and made often
SMALL = 64 << 10  # compressed members this small are read whole, in one read with neighbours
MERGE_GAP = 16 << 10  # reads of members closer than this are one read
SLACK = 8 << 10  # compressed bytes read beyond an estimate (deflate's ratio varies locally)
MARGIN = 1.03  # ... and the estimate itself scaled by this
FIRST_GUESS = 64 << 10  # a member's first read when the recording's length is unknown
MAX_READS = 4  # reads of one member at most: the last one takes the rest of it
LOCAL_ROOM = 30 + 64  # a local header: 30 bytes, the name and its extra fields (zip64: 20)
NPY_HEAD = 4096  # bytes of output that always hold an npy header (numpy writes 128)


@dataclass(frozen=True)
class Member:
    key: str  # "smplh:body_pose"
    offset: int  # of the local header
    end: int  # where the next member (or the central directory) starts
    method: int
    compress_size: int
    file_size: int
    crc: int = 0  # CRC-32 of the uncompressed member (checked when it is read to its end)


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
                              info.compress_size, info.file_size, info.CRC))  # fmt: skip
    return out


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


def _fail(reason: str) -> MediaFormatError:
    return MediaFormatError("npz", reason)


@dataclass(frozen=True)
class NpyHead:
    """An npy member's header: what a row is and where the rows start."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    size: int  # bytes of the header, before the first row

    @property
    def row(self) -> int:
        return self.dtype.itemsize * math.prod(self.shape[1:])

    @property
    def rows_apart(self) -> bool:
        """Rows are not contiguous (Fortran order of more than one axis): read it whole."""
        return self.fortran and len(self.shape) > 1


def npy_head(key: str, data: bytes) -> NpyHead | None:
    """The header at the start of ``data``, or None when ``data`` is too short to hold it."""
    if len(data) < 12:
        return None
    if data[:6] != b"\x93NUMPY":
        raise _fail(f"member {key!r} is not an npy array (no npy magic)")
    if data[6] == 1:
        size = 10 + struct.unpack_from("<H", data, 8)[0]
    elif data[6] in (2, 3):
        size = 12 + struct.unpack_from("<I", data, 8)[0]
    else:
        raise _fail(f"member {key!r}: npy format version {data[6]} is not supported")
    if len(data) < size:
        return None
    fp = io.BytesIO(data[:size])
    try:
        version = np.lib.format.read_magic(fp)
        read = np.lib.format.read_array_header_1_0 if version[0] == 1 else (
            np.lib.format.read_array_header_2_0)  # fmt: skip
        shape, fortran, dtype = read(fp)
    except ValueError as e:
        raise _fail(f"member {key!r}: bad npy header ({e})") from None
    if dtype.hasobject:
        raise _fail(f"member {key!r} holds Python objects, which a clip cannot read safely")
    if not shape:
        raise _fail(f"member {key!r} is a scalar, not per frame")
    return NpyHead(tuple(shape), dtype, bool(fortran), size)


RowsOf = Callable[[NpyHead], tuple[int, int]]


@dataclass
class _Rows:
    head: NpyHead
    lo: int  # first row held
    data: bytes  # rows [lo, lo + len(data) // row)


def _local_start(r: RangeReader, m: Member, buf: bytes) -> tuple[bytes, int]:
    """``buf`` (from the member's local header on) long enough to hold that header, and
    where the member's data starts in it."""
    if len(buf) < 30:
        buf += r.read_at(m.offset + len(buf), LOCAL_ROOM + len(m.key) + 4 - len(buf))
    if buf[:4] != b"PK\x03\x04":
        raise _fail(f"no local header for {m.key!r} at byte {m.offset}")
    n, extra = struct.unpack_from("<HH", buf, 26)
    start = 30 + n + extra
    if len(buf) < start:
        buf += r.read_at(m.offset + len(buf), start - len(buf))
    if len(buf) < start:
        raise _fail(f"member {m.key!r} is cut off in its local header")
    return buf, start


def _check_size(m: Member, head: NpyHead) -> None:
    declared = head.size + head.row * head.shape[0]
    if declared != m.file_size:
        raise _fail(f"member {m.key!r}: its npy header declares {declared} bytes, the zip "
                    f"directory {m.file_size}")  # fmt: skip


def _window(m: Member, head: NpyHead, rows_of: RowsOf) -> tuple[int, int]:
    lo, hi = (0, head.shape[0]) if head.rows_apart else rows_of(head)
    return lo, max(lo, hi)


def _read_stored(r: RangeReader, m: Member, buf: bytes, start: int, rows_of: RowsOf) -> _Rows:
    """A stored member by exact ranges: its npy header, then the rows."""
    if m.compress_size != m.file_size:
        raise _fail(f"stored member {m.key!r} has {m.compress_size} bytes for {m.file_size}")
    base = m.offset + start  # of the npy data in the source
    have = buf[start : start + m.file_size]
    head = npy_head(m.key, have)
    if head is None:
        have += r.read_at(base + len(have), min(NPY_HEAD, m.file_size) - len(have))
        head = npy_head(m.key, have)
        if head is None:
            raise _fail(f"member {m.key!r} is cut off in its npy header")
    _check_size(m, head)
    lo, hi = _window(m, head, rows_of)
    a, b = head.size + lo * head.row, head.size + hi * head.row
    data = have[a:b]
    if len(data) < b - a:
        got = max(a, len(have))
        data = have[a:got] + r.read_at(base + got, b - got)
    if len(data) < b - a:
        raise _fail(f"member {m.key!r} is cut off (rows {lo}..{hi} need {b} bytes of it)")
    return _Rows(head, lo, data)


def _read_deflated(r: RangeReader, m: Member, buf: bytes, start: int, rows_of: RowsOf) -> _Rows:
    """A deflated member inflated from its start up to its last wanted row, the compressed
    bytes fetched as they are needed (see the module); output before the rows is dropped."""
    begin, end = m.offset + start, m.offset + start + m.compress_size  # compressed data
    pos = m.offset + len(buf)  # the next source byte to read
    pending: bytes = buf[start : start + m.compress_size]
    d = zlib.decompressobj(-15)
    out = bytearray()  # before the header is known: everything; then rows [lo, hi) only
    produced, head, goal, cut, reads, lo = 0, None, NPY_HEAD, (0, 0), 1, 0
    crc = None  # of the output, kept only when the rows reach the member's end
    while produced < goal:
        if pending:
            try:
                chunk = d.decompress(pending, goal - produced)
            except zlib.error as e:
                raise _fail(f"member {m.key!r}: bad deflate data ({e})") from None
            pending = d.unconsumed_tail
            if crc is not None:
                crc = zlib.crc32(chunk, crc)
            a, b = max(cut[0], produced), min(cut[1], produced + len(chunk))
            if head is None:
                out += chunk
            elif b > a:
                out += chunk[a - produced : b - produced]
            produced += len(chunk)
        if head is None:
            head = npy_head(m.key, bytes(out))
            if head is not None:
                _check_size(m, head)
                lo, hi = _window(m, head, rows_of)
                cut = (head.size + lo * head.row, head.size + hi * head.row)
                if cut[1] == m.file_size:  # read to its end: the zip's CRC-32 can be checked
                    crc = zlib.crc32(out)
                goal, out = cut[1], out[cut[0] : cut[1]]
                continue
            goal = produced + NPY_HEAD  # a header longer than NPY_HEAD: inflate further
        if produced >= goal or pending:
            continue
        if d.eof:
            raise _fail(f"member {m.key!r}: its deflate stream ends after {produced} of "
                        f"{m.file_size} bytes")  # fmt: skip
        if pos >= end:
            raise _fail(f"member {m.key!r} is cut off: {m.compress_size} compressed bytes "
                        f"inflate to {produced}, short of {goal}")  # fmt: skip
        n = FIRST_GUESS
        if head is not None and produced:
            n = math.ceil((goal - produced) * (pos - begin) / produced * MARGIN) + SLACK
        reads += 1
        n = end - pos if reads >= MAX_READS else min(n, end - pos)
        pending = r.read_at(pos, n)
        if len(pending) < n:
            raise _fail(f"member {m.key!r} is cut off at byte {pos + len(pending)} of the file")
        pos += n
    if head is None:  # goal reached only once the header is known
        raise _fail(f"member {m.key!r} has no npy header")
    if crc is not None and produced == m.file_size and crc != m.crc:
        raise _fail(f"member {m.key!r}: CRC-32 mismatch (the member is corrupt)")
    return _Rows(head, lo, bytes(out))


def _first_reads(chosen: list[Member], frac: float | None) -> list[tuple[int, int]]:
    """(offset, length) of the first read of the chosen members, neighbours merged: small
    members whole, others up to the estimate of the compressed prefix they need."""
    ranges = []
    for m in sorted(chosen, key=lambda m: m.offset):
        whole = m.end - m.offset
        if m.compress_size <= SMALL:
            n = whole
        elif m.method == zipfile.ZIP_STORED:
            n = LOCAL_ROOM + len(m.key) + 4 + NPY_HEAD
        elif frac is None:
            n = LOCAL_ROOM + len(m.key) + 4 + FIRST_GUESS
        else:
            n = LOCAL_ROOM + len(m.key) + 4 + math.ceil(m.compress_size * frac * MARGIN) + SLACK
        ranges.append([m.offset, min(n, whole)])
    out: list[list[int]] = []
    for a, n in ranges:
        if out and a - (out[-1][0] + out[-1][1]) <= MERGE_GAP:
            out[-1][1] = max(out[-1][1], a + n - out[-1][0])
        else:
            out.append([a, n])
    return [(a, n) for a, n in out]


def _read_member(r: RangeReader, m: Member, buf: bytes, rows_of: RowsOf) -> _Rows:
    buf, start = _local_start(r, m, buf)
    if m.method == zipfile.ZIP_DEFLATED:
        return _read_deflated(r, m, buf, start, rows_of)
    if m.method == zipfile.ZIP_STORED:
        return _read_stored(r, m, buf, start, rows_of)
    raise _fail(f"member {m.key!r} uses zip method {m.method} (only stored and deflated)")


@dataclass(frozen=True)
class NpzClip:
    data: bytes  # the clip's npz
    rows: dict[str, tuple[int, int]]  # key -> (first, stop) rows of the source array kept
    fps: dict[str, float]  # feature group -> the frame rate used
    fetched: int  # member bytes read for the clip (its share, when cut with others)


def clips(
    r: RangeReader,
    windows: Sequence[tuple[float, float]],
    fps: Callable[[str], float],
    wanted: Callable[[str], bool] = lambda key: True,
    strides: Mapping[str, int] | None = None,
    duration_s: float | None = None,
    directory: list[Member] | None = None,
) -> list[NpzClip]:
    """The rows of each window ``[start_s, end_s)`` of the wanted keys of the npz behind
    ``r``, every member read once for all of them (up to the last window's end).

    ``fps(group)`` is the group's frame rate (the catalog's ``frame_rates.clip_fps``, else
    nominal); ``strides``: keys with one row per that many frames; ``duration_s`` (the
    recording's length) sizes the first read of each member; ``directory``: the members,
    when already read. Raises :class:`MediaFormatError` naming the member that cannot be
    read (bad deflate data, a cut-off member, a header that contradicts the directory)."""
    if not windows:
        return []
    chosen = [m for m in (directory if directory is not None else members(r)) if wanted(m.key)]
    if not chosen:
        raise _fail("none of the requested features is in the file")
    strides = strides or {}
    rates = {m.key.split(":", 1)[0]: fps(m.key.split(":", 1)[0]) for m in chosen}
    last = max(e for _, e in windows)
    frac = None
    if duration_s and duration_s > 0:
        frac = min(1.0, (last + 1.0 / min(rates.values())) / duration_s)
    counter, held = _Counter(r), {}
    reads = {a: counter.read_at(a, n) for a, n in _first_reads(chosen, frac)}
    for m in chosen:
        a = max(o for o in reads if o <= m.offset)
        buf = reads[a][m.offset - a : m.end - a]
        rate, stride = rates[m.key.split(":", 1)[0]], strides.get(m.key, 1)

        def rows_of(head: NpyHead, rate: float = rate, stride: int = stride) -> tuple[int, int]:
            spans = [frame_range(s, e, rate, head.shape[0], stride) for s, e in windows]
            spans = [s for s in spans if s[1] > s[0]] or spans
            return min(s[0] for s in spans), max(s[1] for s in spans)

        held[m.key] = (_read_member(counter, m, buf, rows_of), rate, stride)
    return [_cut(held, s, e, rates, share(counter.bytes, len(windows), i))
            for i, (s, e) in enumerate(windows)]  # fmt: skip


def _cut(held: dict, start_s: float, end_s: float, rates: dict, fetched: int) -> NpzClip:
    arrays, rows = {}, {}
    for key, (got, rate, stride) in held.items():
        head = got.head
        first, stop = frame_range(start_s, end_s, rate, head.shape[0], stride)
        if head.rows_apart:
            a = np.frombuffer(got.data, head.dtype).reshape(head.shape, order="F")[first:stop]
        else:
            a = np.frombuffer(got.data, head.dtype).reshape(-1, *head.shape[1:])
            a = a[first - got.lo : stop - got.lo]
        arrays[key], rows[key] = a, (first, stop)
    return NpzClip(npz_bytes(arrays), rows, dict(rates), fetched)


class _Counter:
    """Bytes read through it (the member reads of one call)."""

    def __init__(self, base: RangeReader) -> None:
        self.base, self.size, self.bytes = base, base.size, 0

    def read_at(self, offset: int, n: int) -> bytes:
        data = self.base.read_at(offset, n)
        self.bytes += len(data)
        return data


def clip(
    r: RangeReader,
    start_s: float,
    end_s: float,
    fps: Callable[[str], float],
    wanted: Callable[[str], bool] = lambda key: True,
    strides: Mapping[str, int] | None = None,
    duration_s: float | None = None,
) -> NpzClip:
    """One window's clip: :func:`clips` of one window."""
    return clips(r, [(start_s, end_s)], fps, wanted, strides, duration_s)[0]
