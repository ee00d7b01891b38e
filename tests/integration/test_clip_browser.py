"""An mp4 clip plays in headless Chromium (Debian's, driven by Playwright): the stream-copied
clip of a generated H.264 recording, given to a <video> element, reaches its end, reports the
window's duration, and its first frame shown (read from a canvas: the generator's pixels spell
the frame index) is the window's first frame: Chromium honours the clip's edit list."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (Python) is not installed: scripts/ci_browser.sh"
)
video = pytest.importorskip("seamless_catalog.synth.video")

from seamless_catalog.formats import mp4clip  # noqa: E402
from seamless_catalog.formats.readers import BytesReader  # noqa: E402
from tests.integration.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

WAIT_MS = 30_000
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(not video.available(), reason="PyAV is not installed ([video] extra)"),
]

# the frame index a <video> element shows (its pixels spell it, 16 blocks of one bit)
READ_INDEX = """(v) => {
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  let index = 0;
  for (let b = 0; b < 16; b++) {
    const x = (b % 4) * 16, y = Math.floor(b / 4) * 16;
    const d = g.getImageData(x + 4, y + 4, 8, 8).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += d[i];
    if (sum / (d.length / 4) > 140) index |= 1 << b;
  }
  return index;
}"""


@pytest.mark.parametrize("moov_first", [True, False], ids=["moov-first", "moov-at-end"])
def test_stream_copied_clip_plays_from_the_window_start(moov_first):
    source = video.mp4_h264(300, False, 45, moov_first)  # 10 s at 30 Hz, 1.5 s GOPs
    clip, cut = mp4clip.clip(BytesReader(source), 3.3, 5.0)
    assert cut.preroll_s > 0.2  # the keyframe is at 3.0 s: the edit list must hide 0.3 s
    url = "data:video/mp4;base64," + base64.b64encode(clip).decode()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(f'<video muted playsinline preload="auto" src="{url}"></video>')
            page.wait_for_function(
                "document.querySelector('video').readyState >= 2", timeout=WAIT_MS
            )
            state = page.evaluate(
                "() => { const v = document.querySelector('video');"
                " return {w: v.videoWidth, h: v.videoHeight, d: v.duration,"
                " err: v.error && v.error.code}; }"
            )
            assert state["err"] is None and (state["w"], state["h"]) == (64, 112)
            assert state["d"] == pytest.approx(1.7, abs=0.05)
            first = page.locator("video").evaluate(READ_INDEX)
            assert first == 99  # frame 99 = 3.3 s: the first frame of the window, not 90
            page.evaluate("document.querySelector('video').play()")
            page.wait_for_function("document.querySelector('video').ended", timeout=WAIT_MS)
            assert page.locator("video").evaluate(READ_INDEX) in range(
                146, 150
            )  # the last frames (< 5.0 s)
        finally:
            browser.close()
