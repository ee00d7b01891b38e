"""npz clips by partial inflate (formats/npzclip.py): a deflated member is fetched only up to
the compressed prefix that holds the window's last row, in a bounded number of reads, and
the clip is the source's slice exactly; a stored member is read by exact ranges; a member
smaller than one range is read whole; a corrupt member is a clear error naming it.

The arrays are random floats (deflate gains little on them, as on the release's features)
beside the generator's position-encoding arrays, so both poorly and well compressing members
are covered; the needed prefix is measured independently by inflating growing prefixes."""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np
import pytest

from seamless_catalog.errors import MediaFormatError
from seamless_catalog.formats import npzclip
from seamless_catalog.formats.readers import BytesReader, CountingReader

N = 6_000  # frames: 200 s at 30 Hz
FPS = 30.0
DURATION = N / FPS


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


def _zip(arrays: dict[str, np.ndarray], stored: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for key, a in arrays.items():
            method = zipfile.ZIP_STORED if key in stored else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(f"{key}.npy"), _npy(a), compress_type=method)
    return buf.getvalue()


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(15)
    return {
        "boxes_and_keypoints:box": rng.standard_normal((N, 4)).astype(np.float32),
        "boxes_and_keypoints:is_valid_box": rng.random(N) > 0.1,  # small: read whole
        "boxes_and_keypoints:keypoints": rng.standard_normal((N, 133, 3)).astype(np.float32),
        "smplh:body_pose": (np.arange(N * 63, dtype=np.float32) % 997).reshape(N, 21, 3),
        "smplh:is_valid": np.ones(N, bool),
    }


@pytest.fixture(scope="module")
def npz(arrays) -> bytes:
    return _zip(arrays)


def _entries(data: bytes) -> dict[str, tuple[int, int, zipfile.ZipInfo]]:
    """key -> (local header offset, next member's offset, info)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = sorted(z.infolist(), key=lambda i: i.header_offset)
        ends = [i.header_offset for i in infos[1:]] + [z.start_dir]
        return {i.filename[:-4]: (i.header_offset, e, i) for i, e in zip(infos, ends)}


def _data_start(data: bytes, offset: int) -> int:
    n, extra = (
        int.from_bytes(data[offset + 26 : offset + 28], "little"),
        int.from_bytes(data[offset + 28 : offset + 30], "little"),
    )
    return offset + 30 + n + extra


def _needed_prefix(data: bytes, key: str, stop_row: int) -> int:
    """Compressed bytes (to 256 B) that inflate to the npy header plus ``stop_row`` rows."""
    offset, _, info = _entries(data)[key]
    begin = _data_start(data, offset)
    raw = zlib.decompress(data[begin : begin + info.compress_size], -15)
    head = npzclip.npy_head(key, raw)
    goal = head.size + stop_row * head.row
    d, out, n = zlib.decompressobj(-15), 0, 0
    while out < goal:
        out += len(d.decompress(data[begin + n : begin + n + 256]))
        n += 256
    return n


def _read_of(r: CountingReader, entries, key: str) -> tuple[int, int]:
    """(bytes, reads) of ``r`` (its directory read left out) that fall in ``key``'s entry."""
    a, b, _ = entries[key]
    hits = [(o, n) for o, n in r.calls[1:] if o < b and o + n > a]  # after the directory
    return sum(min(o + n, b) - max(o, a) for o, n in hits), len(hits)


def _check(clip: npzclip.NpzClip, arrays, start: float, end: float) -> None:
    with np.load(io.BytesIO(clip.data)) as got:
        assert sorted(got.files) == sorted(arrays)
        for key, a in arrays.items():
            first, stop = npzclip.frame_range(start, end, FPS, len(a))
            assert got[key].dtype == a.dtype and got[key].shape[1:] == a.shape[1:]
            assert got[key].tobytes() == a[first:stop].tobytes(), key
            assert clip.rows[key] == (first, stop)


@pytest.mark.parametrize("window", [(0.0, 5.0), (97.3, 102.3), (195.0, 200.0), (199.9, 260)])
def test_a_window_reads_the_prefix_that_holds_its_last_row(npz, arrays, window):
    start, end = window
    r = CountingReader(BytesReader(npz))
    clip = npzclip.clip(r, start, end, lambda g: FPS, duration_s=DURATION)
    _check(clip, arrays, start, end)
    entries = _entries(npz)
    stop = min(N, npzclip.frame_range(start, end, FPS, N)[1])
    for key in ("boxes_and_keypoints:keypoints", "smplh:body_pose"):
        got, reads = _read_of(r, entries, key)
        need = _needed_prefix(npz, key, stop)
        whole = entries[key][1] - entries[key][0]
        assert reads <= npzclip.MAX_READS
        # stops early: the needed prefix, the estimate's margin and slack, not the member
        assert got <= min(whole, need * 1.06 + 2 * npzclip.SLACK + npzclip.LOCAL_ROOM + 64)
        assert got >= min(whole, need)
    assert r.reads <= 1 + 2 * len(arrays)  # the directory, then a few reads per member


def test_without_the_recording_length_reads_are_still_bounded(npz, arrays):
    r = CountingReader(BytesReader(npz))
    clip = npzclip.clip(r, 30.0, 35.0, lambda g: FPS)
    _check(clip, arrays, 30.0, 35.0)
    entries = _entries(npz)
    got, reads = _read_of(r, entries, "boxes_and_keypoints:keypoints")
    assert reads <= npzclip.MAX_READS
    need = _needed_prefix(npz, "boxes_and_keypoints:keypoints", 35 * 30)
    assert got <= need * 1.06 + 2 * npzclip.SLACK + npzclip.FIRST_GUESS


def test_a_start_that_compresses_worse_than_the_average_is_extended():
    # the first half random, the rest zeros: the directory's average ratio underestimates
    # the prefix, so the first read falls short and further reads, sized by the ratio
    # seen so far, reach the window's end
    rng = np.random.default_rng(3)
    a = np.zeros((N, 64), np.float32)
    a[: N // 2] = rng.standard_normal((N // 2, 64))
    data = _zip({"movement:expression": a})
    r = CountingReader(BytesReader(data))
    clip = npzclip.clip(r, 90.0, 95.0, lambda g: FPS, duration_s=DURATION)
    _check(clip, {"movement:expression": a}, 90.0, 95.0)
    got, reads = _read_of(r, _entries(data), "movement:expression")
    need = _needed_prefix(data, "movement:expression", 95 * 30)
    assert 2 <= reads <= npzclip.MAX_READS
    assert need <= got <= need * 1.06 + 3 * npzclip.SLACK + npzclip.LOCAL_ROOM


def test_a_member_smaller_than_one_range_is_read_whole_with_its_neighbour(npz, arrays):
    r = CountingReader(BytesReader(npz))
    small = ("boxes_and_keypoints:is_valid_box", "smplh:is_valid")
    clip = npzclip.clip(r, 60.0, 61.0, lambda g: FPS, lambda k: k in small, None, DURATION)
    _check(clip, {k: arrays[k] for k in small}, 60.0, 61.0)
    entries = _entries(npz)
    for key in small:
        a, b, _ = entries[key]
        assert any(o <= a and b <= o + n for o, n in r.calls), key  # whole, in one read
    assert r.reads == 3  # the directory, one read each (they are not neighbours in the file)


def test_a_stored_member_is_read_by_exact_ranges(arrays):
    data = _zip(arrays, stored=("boxes_and_keypoints:keypoints",))
    key = "boxes_and_keypoints:keypoints"
    r = CountingReader(BytesReader(data))
    clip = npzclip.clip(r, 100.0, 105.0, lambda g: FPS, lambda k: k == key, None, DURATION)
    _check(clip, {key: arrays[key]}, 100.0, 105.0)
    offset, _, info = _entries(data)[key]
    begin = _data_start(data, offset)
    head = npzclip.npy_head(key, data[begin : begin + 4096])
    rows = (begin + head.size + 3000 * head.row, 150 * head.row)
    assert r.calls[-1] == rows  # the window's rows, to the byte
    assert r.reads == 3  # the directory, the local and npy headers, the rows
    assert clip.fetched <= rows[1] + npzclip.LOCAL_ROOM + len(key) + 4 + npzclip.NPY_HEAD


def test_windows_cut_together_read_each_member_once(npz, arrays):
    windows = [(10.0, 15.0), (120.0, 125.0), (40.0, 41.5)]
    r = CountingReader(BytesReader(npz))
    got = npzclip.clips(r, windows, lambda g: FPS, duration_s=DURATION)
    for clip, (start, end) in zip(got, windows):
        _check(clip, arrays, start, end)
    member_reads = sorted(r.calls[1:])
    for (a, n), (b, _) in zip(member_reads, member_reads[1:]):
        assert a + n <= b  # no byte read twice
    key = "boxes_and_keypoints:keypoints"
    assert _read_of(r, _entries(npz), key)[0] <= _needed_prefix(npz, key, 125 * 30) * 1.06 + (
        2 * npzclip.SLACK + npzclip.LOCAL_ROOM + 64
    )
    assert sum(c.fetched for c in got) == sum(n for _, n in r.calls[1:])


def _corrupt(npz: bytes, key: str, at: float | None, patch: bytes) -> bytes:
    """``patch`` written into ``key``'s compressed data, at its start or ``at`` of the way."""
    offset, _, info = _entries(npz)[key]
    begin = _data_start(npz, offset)
    i = begin + (int(info.compress_size * at) if at is not None else 0)
    out = bytearray(npz)
    out[i : i + len(patch)] = patch
    return bytes(out)


def test_a_corrupt_member_is_a_clear_error_naming_it(npz):
    key = "boxes_and_keypoints:keypoints"
    # a first block of the reserved type 3 (BFINAL 0, BTYPE 11): zlib refuses it at once
    bad = _corrupt(npz, key, None, b"\x06")
    with pytest.raises(MediaFormatError, match=f"{key}.*bad deflate data"):
        npzclip.clip(BytesReader(bad), 10.0, 15.0, lambda g: FPS, duration_s=DURATION)
    # damage in the middle: raw deflate has no checksum of its own, so what inflates is
    # caught by zlib when it breaks the code, else by the zip's CRC-32 once the member is
    # read to its end
    bad = _corrupt(npz, key, 0.5, bytes(range(256)) * 16)
    caught = "bad deflate data|CRC-32|declares|stream ends"
    with pytest.raises(MediaFormatError, match=f"{key}.*({caught})"):
        npzclip.clip(BytesReader(bad), 195.0, 200.0, lambda g: FPS, duration_s=DURATION)
    # a window that ends before the damage never reads it: that clip is still exact
    clip = npzclip.clip(BytesReader(bad), 0.0, 5.0, lambda g: FPS, lambda k: k == key)
    with np.load(io.BytesIO(npz)) as src, np.load(io.BytesIO(clip.data)) as got:
        assert got[key].tobytes() == src[key][:150].tobytes()


def test_a_member_read_to_its_end_is_checked_against_its_crc(npz, arrays):
    key = "boxes_and_keypoints:keypoints"
    _, _, info = _entries(npz)[key]
    at = npz.rindex(b"PK\x01\x02", 0, npz.rindex(f"{key}.npy".encode()))  # its directory entry
    bad = bytearray(npz)  # the central directory's CRC-32 of the member, changed
    bad[at + 16 : at + 20] = (info.CRC ^ 1).to_bytes(4, "little")
    with pytest.raises(MediaFormatError, match=f"{key}.*CRC-32 mismatch"):
        npzclip.clip(BytesReader(bytes(bad)), 195.0, 200.0, lambda g: FPS, duration_s=DURATION)
    clip = npzclip.clip(BytesReader(bytes(bad)), 10.0, 15.0, lambda g: FPS, duration_s=DURATION)
    _check(clip, arrays, 10.0, 15.0)  # not read to its end: nothing to check it against


class _EndsAt(BytesReader):
    """A source whose bytes stop at ``end`` (a truncated upload), its directory kept."""

    def __init__(self, data: bytes, end: int) -> None:
        super().__init__(data)
        self.end, self.tail = end, len(data) - npzclip.TAIL_READ

    def read_at(self, offset: int, n: int) -> bytes:
        data = super().read_at(offset, n)
        return data if offset >= self.tail else data[: max(0, self.end - offset)]


def test_a_member_cut_off_at_the_source_says_where(npz):
    key = "boxes_and_keypoints:keypoints"
    offset, end, _ = _entries(npz)[key]
    r = _EndsAt(npz, offset + (end - offset) // 3)
    with pytest.raises(MediaFormatError, match=f"{key}.*cut off at byte"):
        npzclip.clip(r, 150.0, 155.0, lambda g: FPS, lambda k: k == key, None, DURATION)


def test_a_member_that_is_not_an_npy_array_or_disagrees_with_the_directory():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("smplh:body_pose.npy", b"not an array at all" * 5000)
    with pytest.raises(MediaFormatError, match="smplh:body_pose.*not an npy array"):
        npzclip.clip(BytesReader(buf.getvalue()), 0.0, 1.0, lambda g: FPS)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:  # header says more rows
        raw = bytearray(_npy(np.zeros((100, 3), np.float32)))
        raw[:128] = _npy(np.zeros((200, 3), np.float32))[:128]
        zf.writestr("smplh:translation.npy", bytes(raw))
    with pytest.raises(MediaFormatError, match="smplh:translation.*declares"):
        npzclip.clip(BytesReader(buf.getvalue()), 0.0, 1.0, lambda g: FPS)
