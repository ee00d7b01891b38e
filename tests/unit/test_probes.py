from __future__ import annotations

import contextlib
import io
import random
import struct
import tarfile
import wave
import zipfile

import numpy as np
import pytest

from seamless_catalog.errors import MediaFormatError
from seamless_catalog.formats.probes import probe_mp4, probe_npz, probe_wav
from seamless_catalog.formats.readers import BytesReader, CountingReader, SliceReader
from seamless_catalog.formats.tarindex import iter_members

# ---------------------------------------------------------------- wav builders

FLOAT_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def chunk(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


def fmt_body(code=3, channels=1, rate=48_000, bits=32, extensible_code=None) -> bytes:
    align = channels * bits // 8
    body = struct.pack("<HHIIHH", code, channels, rate, rate * align, align, bits)
    if extensible_code is not None:
        ext = struct.pack("<HI", bits, 0) + struct.pack("<H", extensible_code) + FLOAT_GUID_TAIL
        body += struct.pack("<H", len(ext)) + ext
    elif code == 3:
        body += struct.pack("<H", 0)  # cbSize, as float writers do
    return body


def wav(fmt: bytes, n_bytes: int, present: int | None = None, extra: bytes = b"") -> bytes:
    """A wav whose data chunk declares ``n_bytes`` but holds only ``present`` of them."""
    present = n_bytes if present is None else present
    body = b"WAVE" + extra + chunk(b"fmt ", fmt)
    body += b"data" + struct.pack("<I", n_bytes) + b"\x01" * present
    return b"RIFF" + struct.pack("<I", 4 + len(body) - 4 + n_bytes - present) + body


def test_real_shape_float_wav_declares_the_true_length():
    n = 48_000 * 226
    data = wav(fmt_body(), 4 * n, present=4000)
    facts = probe_wav(BytesReader(data))
    assert (facts.sample_rate, facts.channels, facts.sample_format) == (48_000, 1, "float32")
    assert facts.n_samples == n and facts.duration_s == pytest.approx(226.0)
    assert facts.truncated and not facts.placeholder
    assert facts.data_offset == len(data) - 4000


def test_placeholder_wav_is_58_bytes():
    data = wav(fmt_body(), 0).replace(b"data", chunk(b"fact", b"\0" * 4) + b"data")
    data = b"RIFF" + struct.pack("<I", len(data) - 8) + data[8:]
    assert len(data) == 58
    facts = probe_wav(BytesReader(data))
    assert facts.placeholder and facts.n_samples == 0 and facts.duration_s == 0
    assert not facts.truncated and facts.sample_format == "float32"


def test_pcm16_matches_the_wave_module():
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44_100)
        w.writeframes(b"\x01\x02\x03\x04" * 1234)
    data = buf.getvalue()
    with wave.open(io.BytesIO(data)) as w:
        ref = (w.getframerate(), w.getnchannels(), w.getnframes())
    facts = probe_wav(BytesReader(data))
    assert (facts.sample_rate, facts.channels, facts.n_samples) == ref
    assert facts.sample_format == "int16" and not facts.truncated
    assert facts.duration_s == pytest.approx(1234 / 44_100)


@pytest.mark.parametrize(
    "fmt,expected",
    [
        (fmt_body(code=0xFFFE, extensible_code=3), "float32"),
        (fmt_body(code=0xFFFE, bits=24, channels=2, extensible_code=1), "int24"),
        (fmt_body(code=1, bits=32), "int32"),
        (fmt_body(code=3, bits=64), "float64"),
        (fmt_body(code=1, bits=8), "uint8"),
        (fmt_body(code=6, bits=8), "alaw"),
    ],
)
def test_sample_formats(fmt, expected):
    facts = probe_wav(BytesReader(wav(fmt, 6 * 100)))
    assert facts.sample_format == expected
    assert facts.n_samples == 600 // facts.block_align


def test_list_chunk_with_odd_size_is_skipped():
    extra = chunk(b"LIST", b"INFOISFT\x03\0\0\0ab\0")  # 15 bytes, padded to 16
    facts = probe_wav(BytesReader(wav(fmt_body(code=1, bits=16), 200, extra=extra)))
    assert facts.n_samples == 100 and facts.sample_format == "int16"


def test_rf64_takes_the_size_from_ds64():
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, 6 * 10**9, 0, 0))
    data = bytearray(wav(fmt_body(), 16, extra=ds64))
    data[:4] = b"RF64"
    data[-20:-16] = b"\xff\xff\xff\xff"  # the data chunk's 32-bit size
    facts = probe_wav(BytesReader(bytes(data)))
    assert facts.n_samples == 1_500_000_000 and facts.truncated


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "cut off"),
        (b"RIFF\x10\0\0\0WAVEfmt \x10\0\0\0\x03\0", "cut off"),  # truncated header
        (b"RIFX" + b"\0" * 60, "not RIFF"),
        (b"OggS" + b"\0" * 60, "not RIFF"),
        (b"RIFF\0\0\0\0WAVE" + chunk(b"data", b""), "before any fmt"),
        (b"RIFF\0\0\0\0WAVE" + chunk(b"fmt ", fmt_body()), "no data chunk"),
        (b"RIFF\0\0\0\0WAVE" + chunk(b"fmt ", b"\0" * 16) + chunk(b"data", b""), "0 channels"),
    ],
)
def test_bad_wavs_raise(data, reason):
    with pytest.raises(MediaFormatError, match=reason):
        probe_wav(BytesReader(data))


def test_wav_probe_is_one_small_read():
    r = CountingReader(BytesReader(wav(fmt_body(), 4 * 500_000)))
    probe_wav(r)
    assert r.reads == 1 and r.bytes_read <= 64 * 1024


# ---------------------------------------------------------------- mp4 builders


def box(btype: bytes, *children: bytes) -> bytes:
    body = b"".join(children)
    return struct.pack(">I4s", 8 + len(body), btype) + body


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 1, 2, timescale, duration)
    else:
        times = struct.pack(">IIII", 1, 2, timescale, duration)
    return box(b"mvhd", bytes([version, 0, 0, 0]) + times + b"\0" * 80)


def trak(handler: bytes) -> bytes:
    hdlr = box(b"hdlr", b"\0" * 8 + handler + b"\0" * 12 + b"Handler\0")
    return box(b"trak", box(b"tkhd", b"\0" * 84), box(b"mdia", box(b"mdhd", b"\0" * 24), hdlr))


FTYP = box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41")


def test_moov_first_version0():
    moov = box(b"moov", mvhd(1000, 226_500), trak(b"vide"), trak(b"soun"))
    data = FTYP + moov + box(b"mdat", b"\0" * 1000)
    facts = probe_mp4(BytesReader(data))
    assert facts.duration_s == pytest.approx(226.5) and facts.timescale == 1000
    assert facts.has_video and facts.has_audio and facts.major_brand == "isom"
    assert not facts.placeholder and not facts.truncated and facts.moov_offset == len(FTYP)


def test_moov_at_end_version1_after_a_64bit_mdat():
    payload = b"\0" * 3_000_000
    mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + len(payload)) + payload
    moov = box(b"moov", box(b"udta", b"\0" * 30), mvhd(90_000, 2**33, version=1), trak(b"vide"))
    r = CountingReader(BytesReader(FTYP + box(b"free") + mdat + moov))
    facts = probe_mp4(r)
    assert facts.duration_s == pytest.approx(2**33 / 90_000) and facts.has_video
    assert r.reads == 2 and r.bytes_read < 200_000  # the start, then moov: mdat is jumped


def test_size_zero_box_runs_to_the_end():
    data = FTYP + box(b"moov", mvhd(600, 1200), trak(b"soun")) + struct.pack(">I4s", 0, b"mdat")
    facts = probe_mp4(BytesReader(data + b"\0" * 500))
    assert facts.duration_s == 2.0 and facts.has_video is False and not facts.truncated


def test_placeholder_without_video():
    moov = box(b"moov", mvhd(1000, 0), box(b"udta", b"\0" * 89))
    data = FTYP + box(b"free") + box(b"mdat") + moov
    facts = probe_mp4(BytesReader(data))
    assert facts.placeholder and facts.duration_s == 0 and facts.has_video is False


def test_no_moov_is_a_placeholder():
    facts = probe_mp4(BytesReader(FTYP + box(b"mdat", b"\0" * 100)))
    assert facts.placeholder and facts.duration_s is None and facts.has_video is None


def test_truncated_mp4_with_moov_at_end():
    data = FTYP + box(b"mdat", b"\0" * 10_000) + box(b"moov", mvhd(1000, 5000), trak(b"vide"))
    facts = probe_mp4(BytesReader(data[:5000]))
    assert facts.truncated and not facts.placeholder and facts.duration_s is None


def test_truncated_mp4_with_moov_first_keeps_its_duration():
    data = FTYP + box(b"moov", mvhd(1000, 5000), trak(b"vide")) + box(b"mdat", b"\0" * 10_000)
    facts = probe_mp4(BytesReader(data[:5000]))
    assert facts.truncated and facts.duration_s == 5.0 and facts.has_video


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "starts with"),
        (wav(fmt_body(), 100), "not an ftyp"),
        (b"hello world, this is text\n" * 10, "not an ftyp"),
        (FTYP + b"\0\0\0\x04abcd", "no valid file box"),
        (FTYP + box(b"moov", trak(b"vide")), "no mvhd"),
        (FTYP + box(b"moov", mvhd(0, 10)), "timescale is 0"),
    ],
)
def test_bad_mp4s_raise(data, reason):
    with pytest.raises(MediaFormatError, match=reason):
        probe_mp4(BytesReader(data))


# ---------------------------------------------------------------- npz


def features(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "boxes_and_keypoints:box": rng.random((n, 4), dtype=np.float32),
        "boxes_and_keypoints:is_valid_box": rng.random(n) > 0.5,
        "boxes_and_keypoints:keypoints": rng.random((n, 133, 3), dtype=np.float32),
        "smplh:body_pose": rng.random((n, 21, 3), dtype=np.float32),
        "smplh:translation": np.full((n, 3), 1e12, dtype=np.float32),
        "movement:is_valid": np.ones((n, 1), dtype=np.float32),
        "scalar": np.float64(3.5),
        "fortran": np.asfortranarray(rng.random((n, 2))),
        "ints": np.arange(n, dtype=">i8"),
    }


def npz(arrays: dict[str, np.ndarray], compressed: bool) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def assert_matches_numpy(data: bytes) -> list:
    facts = probe_npz(BytesReader(data))
    with np.load(io.BytesIO(data)) as ref:
        assert [f.key for f in facts] == list(ref.keys())
        for f in facts:
            arr = ref[f.key]
            dtype = str(arr.dtype) if arr.dtype.fields else arr.dtype.name
            assert (f.dtype, f.shape) == (dtype, arr.shape)
            assert f.n_frames == (arr.shape[0] if arr.ndim else None)
            assert f.fortran_order == (arr.flags.f_contiguous and not arr.flags.c_contiguous)
    return facts


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("n", [0, 1, 300])
def test_npz_matches_numpy_load(compressed, n):
    facts = assert_matches_numpy(npz(features(n, np.random.default_rng(42)), compressed))
    assert {f.compressed for f in facts} == {compressed}
    by_key = {f.key: f for f in facts}
    assert by_key["boxes_and_keypoints:keypoints"].shape == (n, 133, 3)
    assert by_key["boxes_and_keypoints:is_valid_box"].dtype == "bool"


def test_npz_probe_reads_headers_not_arrays():
    arrays = features(3000, np.random.default_rng(0))
    data = npz(arrays, compressed=True)
    r = CountingReader(BytesReader(data))
    facts = probe_npz(r)
    assert len(facts) == len(arrays)
    assert len(data) > 5_000_000
    assert r.reads <= 1 + len(arrays)  # the tail, then one read per member
    assert r.bytes_read < 8192 + 2048 * len(arrays)


def test_small_npz_is_read_once():
    r = CountingReader(BytesReader(npz(features(0, np.random.default_rng(0)), compressed=True)))
    probe_npz(r)
    assert r.reads == 1


def test_long_npy_header_is_reread():
    arrays = {"big_struct": np.zeros(3, dtype=[(f"field_{i}", "f4") for i in range(40)])}
    facts = assert_matches_numpy(npz(arrays, compressed=True))
    assert facts[0].dtype.startswith("[(") and facts[0].shape == (3,)


def test_zip64_end_records_and_extras(monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 100)  # force ZIP64 records on a small file
    data = npz(features(50, np.random.default_rng(1)), compressed=True)
    assert b"PK\x06\x06" in data[-2000:]
    assert_matches_numpy(data)


def test_npz_inside_a_tar_member():
    data = npz(features(10, np.random.default_rng(2)), compressed=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, blob in [("a.json", b"{}"), ("a.npz", data), ("a.wav", wav(fmt_body(), 400))]:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    tar = BytesReader(buf.getvalue())
    members = {m.name: m for m in iter_members(tar)}
    window = SliceReader(tar, members["a.npz"].offset_data, members["a.npz"].size)
    assert len(probe_npz(window)) == 9
    wav_window = SliceReader(tar, members["a.wav"].offset_data, members["a.wav"].size)
    assert probe_wav(wav_window).n_samples == 100


def test_non_npy_members_are_skipped():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("x.npy", _npy_bytes(np.zeros((4, 2), dtype=np.int16)))
    facts = probe_npz(BytesReader(buf.getvalue()))
    assert [(f.key, f.shape, f.dtype) for f in facts] == [("x", (4, 2), "int16")]


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _zip_with(name: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, payload)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "no zip end"),
        (b"PK\x03\x04" + b"\0" * 5000, "no zip end"),
        (npz(features(5, np.random.default_rng(3)), True)[:-30], "no zip end"),
        (_zip_with("x.npy", b"not an npy file at all"), "not an .npy"),
        (_zip_with("x.npy", b"\x93NUMPY\x09\x00" + b"\0" * 100), "unknown npy version"),
        (_zip_with("x.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4}  "), "bad npy header"),
        (_zip_with("x.npy", _npy_bytes(np.zeros(3))[:40]), "cut off"),
    ],
)
def test_bad_npz_raise(data, reason):
    with pytest.raises(MediaFormatError, match=reason):
        probe_npz(BytesReader(data))


def _mutants(seed: bytes, count: int, rng: random.Random):
    for _ in range(count):
        d = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.6 and d:
                d[rng.randrange(len(d))] = rng.randrange(256)
            elif op < 0.8:
                del d[rng.randrange(len(d) + 1) :]
            else:
                at = rng.randrange(len(d) + 1)
                d[at:at] = rng.randbytes(rng.randint(1, 8))
        yield bytes(d)


@pytest.mark.parametrize(
    "probe,seed",
    [
        (probe_wav, wav(fmt_body(code=0xFFFE, extensible_code=3), 400)),
        (probe_mp4, FTYP + box(b"moov", mvhd(1000, 5), trak(b"vide")) + box(b"mdat", b"1" * 50)),
        (probe_npz, npz({"a:b": np.zeros((2, 3), np.float32), "c": np.ones(2, bool)}, True)),
        (probe_npz, npz({"a:b": np.zeros((2, 3), np.float32), "c": np.ones(2, bool)}, False)),
    ],
)
def test_corrupt_bytes_raise_only_media_format_error(probe, seed):
    for data in _mutants(seed, 500, random.Random(42)):
        with contextlib.suppress(MediaFormatError):
            probe(BytesReader(data))
