"""Start the dashboard: ``python -m streamlit run app.py`` headless, on loopback by default."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from ..errors import UsageError
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
    return argv


def check_ready(catalog: str | Path) -> None:
    """UsageError unless Streamlit is installed and ``catalog`` is a catalog."""
    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("the dashboard needs Streamlit: pip install 'seamless-catalog[dashboard]'")
    snapshots.require_manifest(Path(catalog))


def serve(catalog: str | Path, **kwargs) -> int:
    """Run the dashboard until interrupted; Streamlit's exit status."""
    check_ready(catalog)
    try:
        return subprocess.call(server_argv(catalog, **kwargs))
    except KeyboardInterrupt:
        return 0
