"""A moment picked on Browse in headless Chromium (Debian's, driven by Playwright) plays on
both sides: the dashboard fetches its window as clips from the suite's CDN server, both
<video> elements report the window's length, show the window's first frame (the generator's
pixels spell the frame index), and advance together when one is played (the pair's whole
videos on the same page stay paused: another group); the server sent the
clips' bytes only, and the same moment chosen in a new session is read back from the clip
cache without a byte more."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (Python) is not installed: scripts/ci_browser.sh"
)
video = pytest.importorskip("seamless_catalog.synth.video")

from seamless_catalog.dashboard import moments  # noqa: E402
from seamless_catalog.dashboard.data import Data  # noqa: E402
from seamless_catalog.dashboard.server import server_argv  # noqa: E402
from seamless_catalog.layout import nominal_fps  # noqa: E402
from tests.integration.test_clip_browser import READ_INDEX  # noqa: E402
from tests.integration.test_dashboard_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    _free_port,
    running,
)

WAIT_MS = 60_000
PAD_S = 1.0  # the page's default context around a moment
CLIPS = ".st-key-sync-moment video"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(not video.available(), reason="PyAV is not installed ([video] extra)"),
]


@pytest.fixture
def cdn(make_cdn_server, release: Path):
    """The suite's CDN server over the release's per-file layout (it counts what it sends)."""
    return make_cdn_server(release / "cdn")


@pytest.fixture
def url(hf_catalog: Path, release: Path, cdn, tmp_path: Path):
    """The dashboard fetching from ``cdn``, the whole files in the release's tree as its
    media, its clip cache in tmp_path/clips."""
    argv = server_argv(hf_catalog, media=release / "tree", port=_free_port(),
                       source=cdn.endpoint, clips=tmp_path / "clips")  # fmt: skip
    with running(argv, tmp_path) as url:
        yield url


def _moment(data: Data) -> tuple[str, dict, str, dict[str, float]]:
    """A V00 pair with real media and a turn shift at least 1 s in: (key, the shift, its
    label on the page, each side's duration)."""
    key = data.column(
        "select p.interaction_key from pairs p where p.interaction_key like 'V00%' and not "
        "exists (select 1 from raw.media m where m.placeholder and m.file_id in "
        "(p.file_id_a, p.file_id_b)) and p.interaction_key in "
        "(select interaction_key from turn_shifts where start_s > 1.5) order by 1 limit 1"
    )[0]
    found = data.moments(key)
    names = moments.speaker_names(data.interaction_files(key).to_dicts())
    labels = moments.moment_choices(found, names)
    choice = next(c for c in labels if moments.moment_row(found, c)["kind"] == "shift"
                  and moments.moment_row(found, c)["start_s"] > 1.5)  # fmt: skip
    durations = dict(data.frame("select file_id, duration_s from files where interaction_key = ?",
                                [key]).iter_rows())  # fmt: skip
    return key, moments.moment_row(found, choice), labels[choice], durations


def _pick(page, url: str, key: str, label: str) -> None:
    page.goto(f"{url}/?page=Browse&interaction={key}", timeout=WAIT_MS)
    # the page drawn in full (the whole recordings, the timeline) before the box is used: a
    # dropdown opened during the first run is drawn anew, its options detached
    page.wait_for_function("document.querySelectorAll('video').length >= 2", timeout=WAIT_MS)
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=WAIT_MS)
    box = page.locator(".st-key-moment_choice input")
    box.wait_for(timeout=WAIT_MS)
    box.click()
    box.fill(label)
    page.get_by_role("option", name=label).click(timeout=WAIT_MS)
    page.wait_for_function(
        f"document.querySelectorAll('{CLIPS}').length === 2 && Array.from("
        f"document.querySelectorAll('{CLIPS}')).every(v => v.readyState >= 2)",
        timeout=WAIT_MS,
    )


def _clip_files(clips: Path) -> tuple[int, int]:
    """(bytes the cache's entries say were fetched, bytes of the mp4 and wav clips)."""
    entries = [json.loads(p.read_text()) for p in clips.rglob(f"*.{moments.ENTRY}")]
    media = [p for p in clips.rglob("*") if p.suffix in (".mp4", ".wav")]
    return sum(e["fetched"] for e in entries), sum(p.stat().st_size for p in media)


def test_a_picked_moment_plays_both_sides_from_the_window(hf_catalog, cdn, url, tmp_path):
    data = Data(hf_catalog)
    key, shift, label, durations = _moment(data)
    start = max(shift["start_s"] - PAD_S, 0.0)
    lengths = sorted(min(shift["end_s"] + PAD_S, d) - start for d in durations.values())
    whole = data.frame(
        "select sum(bytes) as n from raw.media where ext in ('mp4', 'wav') and file_id in "
        "(select file_id from files where interaction_key = ?)",
        [key],
    )["n"][0]
    args = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
            _pick(page, url, key, label)
            clips = page.locator(CLIPS)
            got = sorted(clips.nth(i).evaluate("v => v.duration") for i in range(2))
            assert got == pytest.approx(lengths, abs=0.05)
            assert [clips.nth(i).evaluate("v => v.currentTime") for i in range(2)] == [0, 0]
            first = math.ceil(start * nominal_fps(key + "_P0000") - 1e-9)
            assert [clips.nth(i).evaluate(READ_INDEX) for i in range(2)] == [first, first]
            page.get_by_text("Clips cut by range").wait_for(timeout=WAIT_MS)

            sent = cdn.stats.bytes_sent
            fetched, delivered = _clip_files(tmp_path / "clips")
            assert sent == fetched > 0  # what the clips were cut from, nothing else
            assert sent <= 1.5 * delivered and sent < whole / 3

            clips.nth(0).evaluate("v => { v.muted = true; return v.play(); }")
            page.wait_for_function(  # the other side follows (the page's sync script)
                f"Array.from(document.querySelectorAll('{CLIPS}')).every(v => v.currentTime > 0.4)",
                timeout=WAIT_MS,
            )
            recordings = page.evaluate(
                "Array.from(document.querySelectorAll('video')).filter(v => "
                "!v.closest('.st-key-sync-moment')).map(v => [v.paused, v.currentTime])"
            )
            assert recordings == [[True, 0], [True, 0]]  # the whole recordings did not follow
            assert not page.locator("[data-testid='stException']").count()

            again = browser.new_context().new_page()  # a new session: the cache serves it
            _pick(again, url, key, label)
            again.get_by_text("Clips read back from the clip cache").wait_for(timeout=WAIT_MS)
            assert cdn.stats.bytes_sent == sent
        finally:
            browser.close()
