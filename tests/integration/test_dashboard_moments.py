"""Browse's moments through Streamlit's app testing API: the moments listed and filtered by
kind, a chosen one played on both sides as clips, served again from the clip cache, errors
shown as messages; the fetch through the suite's CDN server moves only the clips' bytes; the
offline quickstart catalog plays its moments from its own sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("altair")

from streamlit.testing.v1 import AppTest  # noqa: E402

from seamless_catalog.dashboard import moments  # noqa: E402
from seamless_catalog.dashboard.data import Data  # noqa: E402
from tests.dashboard_helpers import ok, run_app  # noqa: E402

PLAYED = "Clips cut by range"
CACHED = "Clips read back from the clip cache (nothing fetched)."
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("av") is None,
    reason="PyAV is not installed ([video] extra): the generated mp4s do not decode",
)


@pytest.fixture
def app(monkeypatch, tmp_path):
    """An AppTest factory on Browse: ``make(catalog, interaction, *extra_args)``."""

    def make(catalog: Path, key: str, *extra: str) -> AppTest:
        argv = ["--catalog", str(catalog), "--clips", str(tmp_path / "clips"), *extra]
        return run_app(monkeypatch, argv, "Browse", interaction=key)

    return make


def shift_of_a_pair(catalog: Path) -> tuple[str, str]:
    """A pair with real media on both sides, and the choice key of its first turn shift."""
    data = Data(catalog)
    key = data.column(
        "select p.interaction_key from pairs p where not exists (select 1 from raw.media m "
        "where m.placeholder and m.file_id in (p.file_id_a, p.file_id_b)) and "
        "p.interaction_key in (select interaction_key from turn_shifts) order by 1 limit 1"
    )[0]
    kinds = data.moments(key)["kind"].to_list()
    return key, f"m{kinds.index('shift')}"


def choose(at: AppTest, choice: str) -> AppTest:
    return ok(at.selectbox(key="moment_choice").set_value(choice).run())


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_a_chosen_moment_plays_on_both_sides_and_again_from_the_cache(app, hf_catalog, release,
                                                                       tmp_path):  # fmt: skip
    key, choice = shift_of_a_pair(hf_catalog)
    at = ok(app(hf_catalog, key, "--source", str(release / "hf")))
    assert not at.get("video")  # no --media: nothing to play until a moment is chosen
    assert at.selectbox(key="moment_choice").value is None
    at = choose(at, choice)
    assert any(c.startswith(PLAYED) for c in captions(at)), captions(at)
    assert len(at.get("video")) == 2 and len(at.get("audio")) == 2  # both sides' clips
    clips = sorted(p.name for p in (tmp_path / "clips").rglob("*.mp4"))
    assert len(clips) == 2 and all(f"{key}_P" in n and "_t" in n for n in clips)
    other = next(o for o in ("m0", "m1") if o != choice)
    at = choose(choose(at, other), choice)  # away and back: read back, nothing fetched
    assert CACHED in captions(at)
    assert len(at.get("video")) == 2 and len(at.get("audio")) == 2


def test_moments_are_filtered_by_kind(app, hf_catalog, release):
    key, _ = shift_of_a_pair(hf_catalog)
    at = ok(app(hf_catalog, key, "--source", str(release / "hf")))
    kinds = at.multiselect(key="moment_kinds")
    assert "shift" in kinds.value and len(kinds.value) >= 2  # every kind it has, at first
    at = ok(kinds.set_value(["shift"]).run())
    labels = at.selectbox(key="moment_choice").options
    n_shifts = Data(hf_catalog).moments(key)["kind"].to_list().count("shift")
    assert len(labels) == n_shifts and all(" · shift" in x for x in labels)


def test_an_interaction_without_moments_says_so(app, hf_catalog, release):
    key = Data(hf_catalog).column(
        "select interaction_key from pairs where interaction_key not in "
        "(select interaction_key from moments) order by 1 limit 1"
    )[0]
    at = ok(app(hf_catalog, key, "--source", str(release / "hf")))
    assert any(i.value.startswith("No moments for this interaction") for i in at.info)
    assert not at.get("selectbox") or all(s.key != "moment_choice" for s in at.selectbox)


def test_a_fetch_that_fails_is_a_message_not_a_traceback(app, hf_catalog, tmp_path):
    key, choice = shift_of_a_pair(hf_catalog)
    at = app(hf_catalog, key, "--source", str(tmp_path / "gone"))
    at = at.selectbox(key="moment_choice").set_value(choice).run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith(f"Fetching the clips from {tmp_path / 'gone'} failed")
    assert "source not found" in error.value


def test_the_fetch_moves_only_the_clips_bytes(make_cdn_server, hf_catalog, release, tmp_path):
    """Through the suite's CDN server (the per-file layout): the server sends what the clips
    report as fetched, far less than the whole files; the cached moment sends nothing."""
    server = make_cdn_server(release / "cdn")
    data = Data(hf_catalog)
    key, choice = shift_of_a_pair(hf_catalog)
    row = moments.moment_row(data.moments(key), choice)
    cache = moments.ClipCache(tmp_path, server.endpoint)
    got = moments.fetch(data, cache, key, row["start_s"], row["end_s"], pad=1.0,
                        source=server.endpoint)  # fmt: skip
    assert not got.cached and all(not s.missing for s in got.sides)
    sent = server.stats.bytes_sent
    assert sent == got.fetched
    whole = data.frame(
        "select sum(bytes) as n from raw.media where ext in ('mp4', 'wav') and file_id in "
        "(select file_id from files where interaction_key = ?)",
        [key],
    )["n"][0]
    delivered = sum(p.stat().st_size for s in got.sides for e, p in s.paths.items() if e != "json")
    assert sent <= 1.5 * delivered and sent < whole / 3
    again = moments.fetch(data, cache, key, row["start_s"], row["end_s"], pad=1.0,
                          source=server.endpoint)  # fmt: skip
    assert again.cached and server.stats.bytes_sent == sent


def test_the_quickstart_catalog_plays_moments_offline(app, tmp_path, no_external_network):
    from seamless_catalog.cli.quickstart import quickstart

    catalog = tmp_path / "demo"
    quickstart(catalog, n_files=12)
    key, choice = shift_of_a_pair(catalog)
    at = choose(app(catalog, key), choice)  # no --source: the sample recorded in source.json
    assert any(c.startswith(PLAYED) and str(catalog / "sample" / "hf") in c for c in captions(at))
    assert len(at.get("video")) == 2 and len(at.get("audio")) == 2
