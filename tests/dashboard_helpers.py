"""Shared by the dashboard's AppTest tests: the app started as Streamlit starts it, and the
check that a page ran without an exception or an error message."""

from __future__ import annotations

import sys

from streamlit.testing.v1 import AppTest

from seamless_catalog.dashboard.server import APP

TIMEOUT = 60


def run_app(monkeypatch, argv: list[str], page: str, **query: str) -> AppTest:
    """The dashboard with command line ``argv`` on ``page`` (and ``query`` parameters), run."""
    monkeypatch.setattr(sys, "argv", ["app.py", *argv])
    # Streamlit runs the script as __main__ and leaves it there; multiprocessing's spawn
    # (Dask workers, DataLoader workers) in later tests would then start app.py as theirs
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["page"] = page
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at
