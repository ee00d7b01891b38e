from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seamless_catalog.formats.readers import (
    BytesReader,
    CountingReader,
    FileReader,
    RangeReader,
    ReadAheadReader,
    SliceReader,
)

DATA = bytes(random.Random(42).randrange(256) for _ in range(5000))


@pytest.fixture
def file_reader(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(DATA)
    with FileReader(path) as r:
        yield r


def _padded_slice(_tmp) -> SliceReader:
    return SliceReader(BytesReader(b"x" * 100 + DATA + b"y" * 100), 100, len(DATA))


def _file(tmp) -> FileReader:
    path = tmp / "blob.bin"
    path.write_bytes(DATA)
    return FileReader(path)


# every reader, each over the bytes of DATA: the RangeReader contract holds for all of them
READERS: dict[str, Callable[..., RangeReader]] = {
    "file": _file,
    "bytes": lambda _tmp: BytesReader(DATA),
    "memoryview": lambda _tmp: BytesReader(memoryview(bytearray(DATA))),
    "slice": _padded_slice,
    "read-ahead": lambda _tmp: ReadAheadReader(BytesReader(DATA), readahead=700),
    "counting": lambda _tmp: CountingReader(BytesReader(DATA)),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_every_reader_reads_at_offsets_short_at_eof_and_checks_arguments(kind, tmp_path):
    r = READERS[kind](tmp_path)
    assert r.size == len(DATA)
    for offset, n in [(0, 1), (0, 5000), (1234, 1), (777, 2000), (4999, 1), (3000, 700)]:
        assert r.read_at(offset, n) == DATA[offset : offset + n], (offset, n)
    assert r.read_at(4990, 50) == DATA[4990:]  # short: the object ends first
    assert r.read_at(0, 9999) == DATA
    assert r.read_at(5000, 10) == b"" and r.read_at(9999, 1) == b""
    assert r.read_at(2500, 0) == b""
    for offset, n in [(-1, 4), (0, -1), (-5, -5)]:
        with pytest.raises(ValueError, match="offset >= 0 and n >= 0"):
            r.read_at(offset, n)
    if isinstance(r, FileReader):
        r.close()


def test_a_refused_read_is_not_counted():
    r = CountingReader(BytesReader(DATA))
    with pytest.raises(ValueError):
        r.read_at(-1, 10)
    assert (r.reads, r.bytes_read, r.calls) == (0, 0, [])


def test_slice_bounds_are_checked():
    for start, size in [(-1, 10), (0, -1)]:
        with pytest.raises(ValueError, match="start >= 0 and size >= 0"):
            SliceReader(BytesReader(DATA), start, size)
    assert SliceReader(BytesReader(DATA), 5000, 0).read_at(0, 10) == b""


def test_a_file_that_shrinks_under_the_reader_reads_short(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(DATA)
    with FileReader(path) as r:
        with open(path, "r+b") as fh:
            fh.truncate(3000)
        assert r.size == len(DATA)  # as it was when opened
        assert r.read_at(2990, 100) == DATA[2990:3000]
        assert r.read_at(3000, 100) == b""


def test_file_reader_reads_at_offsets_and_short_at_eof(file_reader):
    assert file_reader.size == len(DATA)
    assert file_reader.read_at(100, 50) == DATA[100:150]
    assert file_reader.read_at(4990, 50) == DATA[4990:]
    assert file_reader.read_at(5000, 10) == b""
    assert file_reader.read_at(9999, 10) == b""
    assert file_reader.read_at(0, 0) == b""


def test_file_reader_closes(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    with FileReader(path) as r:
        assert r.read_at(1, 5) == b"bc"
    with pytest.raises(OSError):
        r.read_at(0, 1)
    r.close()  # idempotent


@pytest.mark.parametrize("args", [(-1, 4), (0, -1)])
def test_negative_arguments_are_refused(args):
    for r in (BytesReader(DATA), SliceReader(BytesReader(DATA), 0, 10)):
        with pytest.raises(ValueError):
            r.read_at(*args)


def test_slice_reader_is_a_window():
    r = SliceReader(BytesReader(DATA), 1000, 300)
    assert r.size == 300
    assert r.read_at(0, 10) == DATA[1000:1010]
    assert r.read_at(290, 100) == DATA[1290:1300]  # clamped to the window
    assert r.read_at(300, 1) == b""
    inner = SliceReader(r, 50, 10)
    assert inner.read_at(0, 100) == DATA[1050:1060]


def test_slice_past_the_base_end_reads_short():
    r = SliceReader(BytesReader(DATA), 4900, 500)  # a truncated tar member
    assert r.size == 500
    assert r.read_at(0, 500) == DATA[4900:]


def test_read_ahead_serves_nearby_reads_from_one_base_read():
    base = CountingReader(BytesReader(DATA))
    r = ReadAheadReader(base, readahead=1024)
    assert r.read_at(0, 12) == DATA[:12]
    assert r.read_at(12, 8) == DATA[12:20]
    assert r.read_at(500, 524) == DATA[500:1024]
    assert base.reads == 1
    assert r.read_at(3000, 10) == DATA[3000:3010]
    assert base.reads == 2 and base.calls[-1] == (3000, 1024)


def test_read_ahead_fetches_a_large_read_whole_and_refetches_outside_its_window():
    base = CountingReader(BytesReader(DATA))
    r = ReadAheadReader(base, readahead=100)
    assert r.read_at(1000, 300) == DATA[1000:1300]  # more than readahead: one read of all of it
    assert base.calls == [(1000, 300)]
    assert r.read_at(1299, 1) == DATA[1299:1300] and base.reads == 1  # the window's last byte
    assert r.read_at(999, 1) == DATA[999:1000]  # before the window: a new one, [999, 1099)
    assert r.read_at(1000, 99) == DATA[1000:1099]  # inside it
    assert base.calls == [(1000, 300), (999, 100)]
    assert r.read_at(1050, 60) == DATA[1050:1110]  # runs past its end
    assert base.calls[-1] == (1050, 100) and base.reads == 3


def test_read_ahead_at_eof_does_not_refetch():
    base = CountingReader(BytesReader(DATA))
    r = ReadAheadReader(base, readahead=1024)
    assert r.read_at(4500, 10) == DATA[4500:4510]
    assert r.read_at(4990, 100) == DATA[4990:]
    assert r.read_at(5000, 100) == b""
    assert base.reads == 1


@given(st.integers(0, 6000), st.integers(0, 3000), st.integers(0, 6000), st.integers(0, 2000))
def test_readers_agree_with_slicing(offset, n, start, size):
    want = DATA[start : start + size][offset : offset + n]
    window = SliceReader(BytesReader(DATA), start, size)
    assert window.read_at(offset, n) == want
    assert ReadAheadReader(window, readahead=700).read_at(offset, n) == want
    assert BytesReader(DATA).read_at(offset, n) == DATA[offset : offset + n]


def test_counting_reader_counts():
    r = CountingReader(BytesReader(DATA))
    r.read_at(0, 10)
    r.read_at(4995, 10)
    assert (r.reads, r.bytes_read, r.calls) == (2, 15, [(0, 10), (4995, 10)])
