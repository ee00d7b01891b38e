"""The dashboard's moments (dashboard/moments.py, Data.moments, the timeline's moment rows):
on the generator's catalog, cut from its local tars, checked against Catalog.clips and the
generator's whole files."""

from __future__ import annotations

import importlib.util
import json

import pytest

pytest.importorskip("altair", reason="the dashboard extra is not installed")

from seamless_catalog.catalog import Catalog  # noqa: E402
from seamless_catalog.dashboard import charts, moments  # noqa: E402
from seamless_catalog.dashboard.data import Data  # noqa: E402
from seamless_catalog.errors import SourceNotFound, UsageError  # noqa: E402
from tests.access_helpers import by_id, tree_path, wav_samples  # noqa: E402

PAD = 0.5
# the generator writes decodable H.264 only with PyAV; without it an mp4 clip cannot be cut
needs_video = pytest.mark.skipif(
    importlib.util.find_spec("av") is None, reason="PyAV is not installed ([video] extra)"
)


@pytest.fixture(scope="module")
def data(hf_catalog) -> Data:
    return Data(hf_catalog)


@pytest.fixture(scope="module")
def pair(data) -> tuple[str, dict]:
    """A pair with real media on both sides and a turn shift: (key, the shift's row)."""
    key = data.column(
        "select p.interaction_key from pairs p where not exists (select 1 from raw.media m "
        "where m.placeholder and m.file_id in (p.file_id_a, p.file_id_b)) and "
        "p.interaction_key in (select interaction_key from turn_shifts where start_s > 1) "
        "order by 1 limit 1"
    )[0]
    found = data.moments(key)
    return key, found.filter(found["kind"] == "shift").row(0, named=True)


def test_moments_are_the_views_rows_in_time_order(data, pair):
    key, _ = pair
    found = data.moments(key)
    with Catalog.open(data.root) as cat:
        expected = cat.value("select count(*) from moments where interaction_key = ?", [key])
        kinds = {r[0] for r in cat.sql("select distinct kind from moments").fetchall()}
    assert found.height == expected > 0
    assert found["start_s"].to_list() == sorted(found["start_s"].to_list())
    assert set(found["kind"]) <= kinds <= set(charts.MOMENT_KINDS)  # a colour for every kind
    assert data.moments("V00_S9999_I99999999").height == 0


def test_moments_are_kept_for_the_last_interactions(hf_catalog, monkeypatch):
    from seamless_catalog.dashboard import data as data_module

    monkeypatch.setattr(data_module, "MOMENTS_KEPT", 2)
    data = Data(hf_catalog)
    a, b, c = data.column("select interaction_key from pairs order by 1 limit 3")
    first = data.moments(a)
    assert data.moments(a) is first  # asked again: not computed again
    of_b = data.moments(b)
    data.moments(a), data.moments(c)  # b is now the oldest: dropped
    assert data.moments(a) is first
    again = data.moments(b)
    assert again is not of_b and again.equals(of_b)  # computed again, the same rows


def test_choices_label_every_moment_and_name_its_row(data, pair):
    key, _ = pair
    found = data.moments(key)
    names = {f: f"side {f[-4:]}" for f in data.file_ids(key)}
    labels = moments.moment_choices(found, names)
    assert list(labels) == [f"m{i}" for i in range(found.height)]
    for choice, label in labels.items():
        row = moments.moment_row(found, choice)
        assert label.startswith(f"{row['start_s']:.2f}–{row['end_s']:.2f} s · {row['kind']}")
        assert label.endswith("pair" if row["file_id"] is None else names[row["file_id"]])
        if row["vap"]:
            assert "VAP" in label


@needs_video
def test_fetch_cuts_both_sides_and_the_cache_serves_it_again(data, pair, release, tmp_path):
    key, shift = pair
    source = str(release / "hf")
    cache = moments.ClipCache(tmp_path, source)
    got = moments.fetch(data, cache, key, shift["start_s"], shift["end_s"], kind="shift",
                        pad=PAD, source=source)  # fmt: skip
    assert not got.cached and got.fetched > 0 and len(got.sides) == 2
    assert {s.file_id for s in got.sides} == set(data.file_ids(key))
    rows = by_id(release)
    for side in got.sides:
        assert side.start_s == pytest.approx(max(shift["start_s"] - PAD, 0))
        assert set(side.paths) == {"mp4", "wav", "json"} and not side.missing
        rate, source_samples = wav_samples(
            tree_path(release, rows[side.file_id], "wav").read_bytes()
        )
        _, clip_samples = wav_samples(side.paths["wav"].read_bytes())
        first = round(side.start_s * rate)
        assert clip_samples.tobytes() == source_samples[first : first + len(clip_samples)].tobytes()
        assert len(clip_samples) == round(side.end_s * rate) - first
        doc = json.loads(side.paths["json"].read_bytes())
        assert doc["clip"]["file_id"] == side.file_id and doc["clip"]["kind"] == "shift"
        assert side.paths["mp4"].name == f"{side.file_id}_t{round(side.start_s * 1000):07d}-" \
            f"{round(side.end_s * 1000):07d}.mp4"  # fmt: skip
    # the same bytes Catalog.clips gives for the window: one library call, not a second path
    with Catalog.open(data.root) as cat:
        sql = (f"select '{key}' as interaction_key, {shift['start_s']!r} as start_s, "
               f"{shift['end_s']!r} as end_s, 'shift' as kind")  # fmt: skip
        direct = {c.file_id: c for c in cat.clips(sql, pad=PAD, source=source)}
    for side in got.sides:
        for ext, path in side.paths.items():
            assert path.read_bytes() == direct[side.file_id].blobs[ext], ext
        assert side.words == direct[side.file_id].words
    elsewhere = moments.ClipCache(tmp_path, "/nonexistent")  # another source, another folder
    assert elsewhere.root != cache.root
    with pytest.raises(SourceNotFound):
        moments.fetch(data, elsewhere, key, shift["start_s"], shift["end_s"], pad=PAD,
                      source="/nonexistent")  # fmt: skip


@needs_video
def test_a_cached_moment_is_not_fetched_again(data, pair, release, tmp_path):
    key, shift = pair
    source = str(release / "hf")
    cache = moments.ClipCache(tmp_path, source)
    first = moments.fetch(data, cache, key, shift["start_s"], shift["end_s"], pad=PAD,
                          source=source)  # fmt: skip
    # the source gone: a cached moment does not need it
    served = moments.fetch(data, cache, key, shift["start_s"], shift["end_s"], pad=PAD,
                           source="/nonexistent/folder")  # fmt: skip
    assert served.cached and served.fetched == 0
    assert [s.paths for s in served.sides] == [s.paths for s in first.sides]
    assert [s.words for s in served.sides] == [s.words for s in first.sides]
    # an entry whose file went missing is cut again, not served half
    next(iter(first.sides)).paths["mp4"].unlink()
    redone = moments.fetch(data, cache, key, shift["start_s"], shift["end_s"], pad=PAD,
                           source=source)  # fmt: skip
    assert not redone.cached and all(s.paths["mp4"].is_file() for s in redone.sides)


@needs_video
def test_a_placeholder_side_is_reported_and_the_other_side_plays(data, release, tmp_path):
    """The generator's placeholder recording (duration 0): its side gives no window, said
    why; its partner's clips are cut, and served from the cache the next time."""
    key = data.column(
        "select f.interaction_key from files f join raw.media m using (file_id) "
        "where m.placeholder and f.interaction_key in (select interaction_key from moments) "
        "order by 1 limit 1"
    )[0]
    row = data.moments(key).row(0, named=True)
    source = str(release / "hf")
    cache = moments.ClipCache(tmp_path, source)
    got = moments.fetch(data, cache, key, row["start_s"], row["end_s"], source=source)
    (bad,) = got.invalid
    assert "outside the recording" in bad.reason and bad.key.startswith(key)
    (side,) = got.sides
    assert side.file_id != bad.key.split(" ")[0] and set(side.paths) == {"mp4", "wav", "json"}
    again = moments.fetch(data, cache, key, row["start_s"], row["end_s"], source=source)
    assert again.cached and again.invalid == got.invalid


def test_a_window_outside_the_recording_is_a_clear_error(data, pair, release, tmp_path):
    key, _ = pair
    cache = moments.ClipCache(tmp_path, "x")
    with pytest.raises(UsageError, match="outside the recording"):
        moments.fetch(data, cache, key, 5000.0, 5001.0, source=str(release / "hf"))
    assert not list(tmp_path.rglob("*.mp4"))


def test_fetch_errors_read_as_one_line():
    line = moments.describe_error(ConnectionResetError("reset by peer"), "http://x")
    assert line.startswith("Fetching the clips from http://x failed (ConnectionResetError")
    assert "--source" in line


def test_timeline_has_a_row_of_moments_per_side_coloured_by_kind(data, pair):
    key, shift = pair
    names = {f: f"{who}: {f[-5:]}" for f, who in zip(data.file_ids(key), "AB")}
    found = data.moments(key)
    spec = charts.timeline(data.timeline(key), data.annotations(key), names, found,
                           (shift["start_s"] - PAD, shift["end_s"] + PAD)).to_dict()  # fmt: skip
    layers = spec["layer"]
    moment = next(x for x in layers if x["encoding"].get("color", {}).get("field") == "moment")
    assert moment["encoding"]["color"]["scale"]["domain"] == list(charts.MOMENT_KINDS)
    lanes = set(found.select(charts.moment_lanes(names)).to_series())
    assert "moments · pair" in lanes and {f"moments · {n}" for n in names.values()} & lanes
    assert any(x["mark"]["type"] == "rect" for x in layers)  # the chosen window, shaded
    assert spec["resolve"]["scale"]["color"] == "independent"
