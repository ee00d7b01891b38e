"""Catalog.clips: windows selected with SQL, cut by range from the local tars and from the
suite's Hub server (the real huggingface_hub client), checked against the generator's whole
files: wav sample for sample, npz frames as the source slice, mp4 decoding to the window's
frames, the json clip holding exactly the overlapping words with clip-relative times."""

from __future__ import annotations

import csv
import io
import json

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.config import Settings
from seamless_catalog.layout import nominal_fps
from tests.access_helpers import (
    by_id,
    check_json_clip,
    check_npz_clip,
    check_wav_clip,
    media_ids,
    second_vad,
    tree_path,
)

HUB = "hf://datasets/facebook/seamless-interaction"


@pytest.fixture(scope="module")
def ids(hf_catalog) -> list[str]:
    with Catalog.open(hf_catalog) as cat:
        return media_ids(cat, 4)


def test_clips_from_the_local_tars_are_the_window_of_the_files(hf_catalog, release, ids):
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        chosen = cat.clips(second_vad(ids), modalities="json,npz,wav", source=str(release / "hf"))
        assert len(chosen) == len(ids) and not chosen.invalid
        for clip in chosen:
            row = rows[clip.file_id]
            check_wav_clip(clip, release, row)
            check_npz_clip(clip, release, row)
            check_json_clip(clip, release, row)
            member = sum(tree_path(release, row, e).stat().st_size for e in ("wav", "npz"))
            assert clip.fetched < member  # only the window's samples and the npz members
            assert clip.covers["wav"]["samples"] == len(clip.sample.audio)


def test_clips_from_the_hub_server_with_padding_and_features(make_hub_server, hf_catalog,
                                                             release, ids):  # fmt: skip
    pytest.importorskip("av")
    from tests.media_helpers import decoded_indices

    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    rows = by_id(release)
    with (release / "truth.csv").open(newline="") as fh:
        truth = {r["file_id"]: r for r in csv.DictReader(fh)}
    with Catalog.open(hf_catalog) as cat:
        chosen = cat.clips(second_vad(ids[:2]), pad=0.5, modalities="wav,npz,mp4", features="smplh",
                           source=HUB, settings=settings)  # fmt: skip
        for clip in chosen:
            row, w = rows[clip.file_id], clip.window
            assert w.requested_start_s is not None  # padded
            check_wav_clip(clip, release, row)
            assert {k.split(":")[0] for k in clip.sample.npz} == {"smplh"}
            check_npz_clip(clip, release, row)
            indices, times = decoded_indices(clip.blobs["mp4"])
            fps, n_video = nominal_fps(clip.file_id), int(truth[clip.file_id]["n_video_frames"])
            shown = [i for i in range(n_video) if w.start_s - 1e-9 <= i / fps < w.end_s - 1e-9]
            assert indices == shown and times[0] == pytest.approx(0.0, abs=1e-3)
            assert clip.requests <= 12


def test_invalid_windows_are_reported_not_cut(hf_catalog, release, ids):
    sql = (
        f"select '{ids[0]}' as file_id, 2.0 as start_s, 1.0 as end_s union all "
        f"select '{ids[0]}', 1.0, 1.5"
    )
    with Catalog.open(hf_catalog) as cat:
        chosen = cat.clips(sql, modalities="json")
        assert [w.row for w in chosen.windows] == [2]
        (bad,) = chosen.invalid
        assert bad.row == 1 and "end" in bad.reason
        (clip,) = list(chosen)
        assert set(clip.blobs) == {"json"} and clip.fetched == 0
        assert io.BytesIO(clip.blobs["json"]).read(1) == b"{"


def test_clips_from_the_per_file_layout_fetch_only_the_wanted_features(hf_catalog, release, ids):
    """The CDN/S3 layout: wav as one object read by range; npz as one .npy object per
    feature, only the requested ones fetched."""
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        chosen = cat.clips(second_vad(ids[:2]), modalities="wav,npz,json",
                           source=str(release / "cdn"),
                           features="smplh:body_pose,boxes_and_keypoints")  # fmt: skip
        for clip in chosen:
            row = rows[clip.file_id]
            check_wav_clip(clip, release, row)
            assert set(clip.sample.npz) == {"smplh:body_pose", "boxes_and_keypoints:box",
                                            "boxes_and_keypoints:is_valid_box",
                                            "boxes_and_keypoints:keypoints"}  # fmt: skip
            check_npz_clip(clip, release, row)
            check_json_clip(clip, release, row)
            assert clip.requests == 2 + 4  # wav header + samples; one object per feature


def test_the_readme_moments_to_clips_example_runs(hf_catalog, release):
    """The README's Python block, run as written against the test release's tars."""
    from tests.paths import REPO

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Moments → clips", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "p.relationship = 'familiar'" in block
    block = block.replace("'familiar'", "'stranger'")  # the test release's 32 files have none
    with Catalog.open(hf_catalog) as cat:

        class Local:  # the README reads the Hub; here the same tars from a folder
            def clips(self, sql, **options):
                return cat.clips(sql, source=str(release / "hf"), **options)

        ns = {"cat": Local(), "print": lambda *a: None}
        exec(block, ns)
        strangers = {
            r[0]
            for r in cat.sql(
                "select interaction_key from pairs where relationship = 'stranger'"
            ).fetchall()
        }
    windows = ns["clips"].windows
    assert windows and {w.interaction_key for w in windows} <= strangers
    sides = {(w.interaction_key, w.start_s) for w in windows}
    assert len(windows) == 2 * len(sides)  # both sides of every shift
    assert {k.split(":")[0] for k in ns["clip"].sample.npz} == {"smplh"}


def test_export_webdataset_writes_one_sample_per_window(hf_catalog, release, ids, tmp_path):
    import tarfile

    sql = second_vad(ids[:3]) + f" union all select '{ids[0]}', 5.0, 4.0, 'bad'"
    with Catalog.open(hf_catalog) as cat:
        r = cat.export(sql, tmp_path / "wds", source=str(release / "hf"),
                       modalities="json,wav")  # fmt: skip
        expected = {c.window.stem: c for c in cat.clips(second_vad(ids[:3]), modalities="json,wav",
                                                        source=str(release / "hf"))}  # fmt: skip
    assert [x[1][:16] for x in r.skipped] == ["selection row 4:"]
    with tarfile.open(tmp_path / "wds" / r.shards[0]["name"]) as tar:
        names = tar.getnames()
        assert names == [f"{k}.{e}" for k in sorted(expected) for e in ("json", "wav")]
        for key, clip in expected.items():
            assert tar.extractfile(f"{key}.wav").read() == clip.blobs["wav"]
    assert {s["key"] for s in r.samples} == set(expected)


def test_a_clip_that_cannot_be_cut_raises_or_is_skipped(hf_catalog, release):
    from seamless_catalog.errors import SampleUnavailable

    quirks = json.loads((release / "release.json").read_text())["quirks"]
    if not quirks.get("truncated_mp4"):
        pytest.skip("the release has no truncated mp4 (made without PyAV)")
    (cut,) = quirks["truncated_mp4"]
    with Catalog.open(hf_catalog) as cat:
        if not cat.value(f"select count(*) from raw.members where file_id = '{cut}'"):
            pytest.skip(f"{cut} is not in the tars")
        sql = f"select file_id, duration_s - 2 as start_s, duration_s as end_s from files " \
              f"where file_id = '{cut}'"  # fmt: skip
        options = {"modalities": "wav,mp4", "source": str(release / "hf")}
        with pytest.raises(SampleUnavailable, match="mp4 clip"):
            list(cat.clips(sql, **options))
        (clip,) = list(cat.clips(sql, errors="skip", **options))
    assert set(clip.blobs) == {"wav"} and "cut off" in clip.missing["mp4"]
    assert len(clip.sample.audio) == 2 * clip.sample.sample_rate
