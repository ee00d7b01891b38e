"""`seamless-catalog dashboard` as a process (issue 14): stopping it (Ctrl-C, SIGTERM, even
SIGKILL) stops the Streamlit child it started; a busy port is a one-line error naming --port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli_contract import assert_error, run

pytest.importorskip("streamlit", reason="the dashboard extra is not installed")

START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone: it serves nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])  # fmt: skip
def test_stopping_the_dashboard_stops_streamlit(hf_catalog, tmp_path, signum):
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc for the child")
    port = _free_port()
    log = tmp_path / "dashboard.log"
    with log.open("w") as out:
        parent = subprocess.Popen(
            [sys.executable, "-m", "seamless_catalog", "dashboard", "--catalog", str(hf_catalog),
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _serving(port):
            assert parent.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        children = _children(parent.pid)
        assert len(children) == 1, children  # Streamlit, serving
        os.kill(parent.pid, signum)  # the parent only, as `kill PID` does
        parent.wait(30)
        deadline = time.monotonic() + 30
        while _alive(children[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(children[0]), "Streamlit outlived the dashboard command"
        assert not _serving(port)
        if signum != signal.SIGKILL:
            assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        for pid in [parent.pid, *_children(parent.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(10)


def test_a_busy_port_names_the_option(hf_catalog):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("dashboard", "--catalog", hf_catalog, "--port", port)
    line = assert_error(result, f"port {port}", "in use", "--port", exit_code=2)
    assert "--port" in line
