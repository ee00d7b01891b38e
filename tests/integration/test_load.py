"""Catalog.load / load_pair: equal to the generator's files, from every place they can come from."""

from __future__ import annotations

import json
import shutil
import struct

import numpy as np
import pytest

from seamless_catalog.access.decode import decode_wav
from seamless_catalog.catalog import Catalog
from seamless_catalog.config import Settings
from seamless_catalog.errors import SampleUnavailable
from tests.access_helpers import IN_TARS, by_id, tree_path, wav_samples

HUB = "hf://datasets/facebook/seamless-interaction"


def _assert_matches_tree(sample, release, row) -> None:
    assert sample.json == json.loads(tree_path(release, row, "json").read_bytes())
    with np.load(tree_path(release, row, "npz")) as z:
        assert set(sample.npz) == set(z.files)
        for k in z.files:
            assert sample.npz[k].dtype == z[k].dtype and np.array_equal(sample.npz[k], z[k])
    rate, expected = wav_samples(tree_path(release, row, "wav").read_bytes())
    assert sample.sample_rate == rate and sample.audio.dtype == np.float32
    assert np.array_equal(sample.audio, expected)
    video = sample.video if isinstance(sample.video, bytes) else sample.video.read_bytes()
    assert video == tree_path(release, row, "mp4").read_bytes()


@pytest.fixture(scope="module")
def ids(hf_catalog) -> list[str]:
    with Catalog.open(hf_catalog) as cat:
        return [r[0] for r in cat.sql(IN_TARS + " order by 1").fetchall()]


def test_load_from_the_local_tars_equals_the_generator(hf_catalog, release, ids):
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        for fid in ids[:6]:
            s = cat.load(fid, source=str(release / "hf"))
            assert isinstance(s.video, bytes) and s.file_id == fid
            _assert_matches_tree(s, release, rows[fid])


def test_truncated_wav_is_reported_not_padded(hf_catalog, release, ids, tmp_path):
    src = tree_path(release, by_id(release)[ids[0]], "wav")
    local = tmp_path / src.relative_to(release / "tree")
    local.parent.mkdir(parents=True)
    local.write_bytes(src.read_bytes()[: 58 + 4 * 1000 + 2])  # a download cut short
    with Catalog.open(hf_catalog) as cat:
        s = cat.load(ids[0], modalities="wav", media=tmp_path)
    info = s.audio_info
    assert info.n_samples == len(s.audio) == 1000 < info.n_samples_declared and info.truncated
    assert s.json is None and s.npz is None and s.video is None


def test_load_from_materialized_files_gives_the_video_path(hf_catalog, release, ids):
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        s = cat.load(ids[1], media=release / "tree")
    assert s.video == tree_path(release, rows[ids[1]], "mp4")
    assert all(not v.startswith(str(release / "hf")) for v in s.sources.values())
    _assert_matches_tree(s, release, rows[ids[1]])


def test_missing_materialized_modalities_come_from_the_source(hf_catalog, release, ids, tmp_path):
    row = by_id(release)[ids[2]]
    local = tmp_path / tree_path(release, row, "json").relative_to(release / "tree")
    local.parent.mkdir(parents=True)
    shutil.copy(tree_path(release, row, "json"), local)
    with Catalog.open(hf_catalog) as cat:
        s = cat.load(ids[2], media=tmp_path, source=str(release / "hf"))
        assert s.sources["json"] == str(local) and "0000.tar@" in s.sources["wav"]
        _assert_matches_tree(s, release, row)
        with pytest.raises(SampleUnavailable, match="not under"):
            cat.load(ids[2], media=tmp_path)  # no source: nothing to fall back on


def test_load_from_the_hub_server(make_hub_server, hf_catalog, release, ids):
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        for fid in ids[-3:]:
            _assert_matches_tree(cat.load(fid, source=HUB, settings=settings), release, rows[fid])


def test_load_pair_is_aligned_as_in_pairs(hf_catalog, release):
    with Catalog.open(hf_catalog) as cat:
        key, a, b = cat.sql(
            "select interaction_key, file_id_a, file_id_b from pairs "
            f"where file_id_a in ({IN_TARS}) and file_id_b in ({IN_TARS}) order by 1 limit 1"
        ).fetchall()[0]
        sa, sb = cat.load_pair(key, modalities="json,wav", source=str(release / "hf"))
    assert (sa.file_id, sb.file_id) == (a, b) and sa.interaction_key == sb.interaction_key == key
    assert sa.json["id"] == a and sb.json["id"] == b


def _wav(fmt_code: int, bits: int, channels: int, payload: bytes, declared: int | None = None):
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_code, channels, 16000, 16000 * align, align, bits)
    size = len(payload) if declared is None else declared
    body = b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


@pytest.mark.parametrize(
    ("code", "bits", "payload", "expected"),
    [
        (1, 16, struct.pack("<3h", 0, 16384, -32768), [0.0, 0.5, -1.0]),
        (1, 24, b"\x00\x00\x40" + b"\x00\x00\xc0" + b"\xff\xff\xff", [0.5, -0.5, -(2.0**-23)]),
        (1, 32, struct.pack("<2i", 2**30, -(2**31)), [0.5, -1.0]),
        (1, 8, bytes([128, 192, 0]), [0.0, 0.5, -1.0]),
        (3, 64, struct.pack("<2d", 0.25, -0.75), [0.25, -0.75]),
    ],
)
def test_pcm_and_float_formats_become_float32(code, bits, payload, expected):
    samples, info = decode_wav(_wav(code, bits, 1, payload))
    assert samples.dtype == np.float32 and info.sample_rate == 16000
    assert np.allclose(samples, expected, atol=1e-7) and not info.truncated


def test_stereo_and_cut_short_wav():
    payload = struct.pack("<4h", 1, 2, 3, 4)
    samples, info = decode_wav(_wav(1, 16, 2, payload, declared=16))
    assert samples.shape == (2, 2) and info.channels == 2
    assert info.n_samples == 2 and info.n_samples_declared == 4 and info.truncated
