"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

Starts ``streamlit run`` on 127.0.0.1 with a free port, finds rendered Vega charts on
Overview and two <video> elements on an interaction, saves a screenshot
(into docs/dashboard.png when SEAMLESS_CATALOG_UPDATE_DOCS=1), and runs a query and a refused
write from the SQL page.
Set up by scripts/ci_browser.sh (apt chromium; pip playwright, no browser download).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (Python) is not installed: scripts/ci_browser.sh"
)

from seamless_catalog.catalog import Catalog  # noqa: E402
from seamless_catalog.dashboard.data import Data  # noqa: E402
from seamless_catalog.dashboard.server import server_argv  # noqa: E402
from seamless_catalog.store import snapshots  # noqa: E402
from tests.paths import REPO  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_SCREENSHOT = REPO / "docs" / "dashboard.png"
START_TIMEOUT_S = 60
WAIT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium "
        "(scripts/ci_browser.sh)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dashboard exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"dashboard not healthy after {START_TIMEOUT_S} s:\n{log.read_text()}")


@contextlib.contextmanager
def running(argv: list[str], work: Path) -> Iterator[str]:
    """The dashboard ``argv`` (``server_argv(..., port=...)``) started in ``work`` (its log
    there), healthy; yields its URL and stops it after."""
    port = argv[argv.index("--server.port") + 1]
    log = work / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def server(hf_catalog: Path, release: Path, tmp_path_factory: pytest.TempPathFactory):
    """One dashboard for the module's tests (starting Streamlit takes seconds)."""
    argv = server_argv(
        hf_catalog, media=release / "tree", port=_free_port(), source=str(release / "hf")
    )
    with running(argv, tmp_path_factory.mktemp("dashboard")) as url:
        yield url


@pytest.fixture
def page():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


def test_overview_charts_and_interaction_videos(server, page, hf_catalog, tmp_path):
    page.goto(f"{server}/?page=Overview", timeout=WAIT_MS)
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=WAIT_MS)
    page.wait_for_function(
        "document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 10",
        timeout=WAIT_MS,
    )
    page.wait_for_timeout(1000)  # let the last charts paint
    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("SEAMLESS_CATALOG_UPDATE_DOCS"):  # refresh the README's screenshot
        shutil.copyfile(shot, DOCS_SCREENSHOT)
    assert page.get_by_text("Hours by label and split").count() >= 1

    key = Data(hf_catalog).column("select interaction_key from pairs order by 1 limit 1")[0]
    page.goto(f"{server}/?page=Browse&interaction={key}", timeout=WAIT_MS)
    page.wait_for_function("document.querySelectorAll('video').length >= 2", timeout=WAIT_MS)
    assert page.locator("video").count() == 2
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=WAIT_MS)
    assert page.get_by_text(key).count() >= 1
    page.screenshot(path=str(tmp_path / "browse.png"))
    assert not page.locator("[data-testid='stException']").count()


def test_sql_page_runs_a_query_and_refuses_a_write(server, page, hf_catalog):
    """Typed into the page and run with its button: a SELECT shows its row count, a statement
    that would write shows the refusal (and nothing changes), and neither raises in the app."""
    with Catalog.open(hf_catalog) as cat:
        n_files = cat.value("select count(*) from files")
        manifest = snapshots.read_manifest(hf_catalog)
    page.goto(f"{server}/?page=SQL", timeout=WAIT_MS)
    box = page.get_by_label("Query (one SELECT or EXPLAIN)")
    box.wait_for(timeout=WAIT_MS)

    def run(sql: str) -> None:
        box.fill(sql)
        box.press("Control+Enter")  # commit the text to Streamlit before the button reads it
        page.get_by_role("button", name="Run").click()

    run("select file_id, label from files")
    page.get_by_text(f"{n_files} rows × 2 columns").wait_for(timeout=WAIT_MS)
    assert not page.locator("[data-testid='stAlert']").count()
    run("drop view files")
    alert = page.locator("[data-testid='stAlert']")
    alert.wait_for(timeout=WAIT_MS)
    assert alert.inner_text().startswith("refused:"), alert.inner_text()
    assert not page.get_by_text("rows × 2 columns").count()  # the old result is gone
    assert not page.locator("[data-testid='stException']").count()
    with Catalog.open(hf_catalog) as cat:
        assert cat.value("select count(*) from files") == n_files
    assert snapshots.read_manifest(hf_catalog) == manifest
