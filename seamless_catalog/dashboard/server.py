"""Start the dashboard: ``python -m streamlit run app.py`` headless, on loopback by default."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import importlib.util
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import PortInUse, UsageError
from ..store import snapshots

APP = Path(__file__).with_name("app.py")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def server_argv(
    catalog: str | Path,
    media: str | Path | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    source: str | None = None,
    clips: str | Path | None = None,
) -> list[str]:
    """The command line that serves the dashboard (the pure twin of :func:`serve`)."""
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
        "--",
        "--catalog", str(Path(catalog).resolve()),
    ]  # fmt: skip
    if media is not None:
        argv += ["--media", str(Path(media).resolve())]
    if source is not None:
        argv += ["--source", source]
    if clips is not None:
        argv += ["--clips", str(Path(clips).resolve())]
    return argv


def check_ready(catalog: str | Path) -> None:
    """UsageError unless Streamlit is installed and ``catalog`` is a catalog."""
    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("the dashboard needs Streamlit: pip install 'seamless-catalog[dashboard]'")
    snapshots.require_manifest(Path(catalog))


def check_port(host: str, port: int) -> None:
    """PortInUse when something already listens on ``host:port`` (bound as Streamlit binds,
    with SO_REUSEADDR, so that a port in TIME_WAIT is not taken for a busy one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: the child gets SIGTERM when its parent dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


def serve(catalog: str | Path, **kwargs) -> int:
    """Run the dashboard until interrupted or terminated; Streamlit's exit status.

    Streamlit runs as a child process that never outlives this one: Ctrl-C, SIGTERM or
    SIGHUP stop it before we exit, and on Linux it is told to stop if we are killed."""
    check_ready(catalog)
    check_port(kwargs.get("host", DEFAULT_HOST), kwargs.get("port", DEFAULT_PORT))
    on_linux = sys.platform.startswith("linux")
    child = subprocess.Popen(
        server_argv(catalog, **kwargs), preexec_fn=_die_with_parent if on_linux else None
    )
    previous = _catch_stop_signals()
    try:
        return child.wait()
    except KeyboardInterrupt:
        return 0
    except _Stopped as e:
        return 128 + e.signum
    finally:
        _stop(child)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _catch_stop_signals() -> dict:
    """SIGTERM and SIGHUP raise in the main thread, so that ``serve`` stops its child."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        raise _Stopped(signum)

    return {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(10)
