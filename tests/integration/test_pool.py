"""Worker processes of the ingest: rows staged by the worker, failures reported, none left."""

from __future__ import annotations

import os
import signal
from itertools import count
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from seamless_catalog.ingestion import pool
from seamless_catalog.ingestion.units import Unit


def _issue(sink) -> None:
    sink.issue("somewhere", "a reason")


def _die(sink) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _boom(sink) -> None:
    raise ZeroDivisionError("boom")


def _unit(key: str, parse) -> Unit:
    return Unit(key, "tree", "/src", "fp", parse, local=True, size=1)


def _folders(tmp_path: Path):
    n = count()

    def make() -> Path:
        folder = tmp_path / f"task-{next(n)}"
        folder.mkdir()
        return folder

    return make


def test_worker_stages_rows_and_returns_a_summary(tmp_path):
    groups = [[_unit("tree:a", _issue), _unit("tree:b", _issue)], [_unit("tree:c", _issue)]]
    done = list(pool.run_tasks("run", groups, 2, _folders(tmp_path)))
    assert sorted(len(g) for g, _ in done) == [1, 2]
    for group, result in done:
        assert result.failed == () and result.n_rows == len(group)
        table = pq.read_table(result.folder / "ingest_issues.parquet")
        assert table.column("source_unit").to_pylist() == [u.key for u in group]


def test_a_killed_worker_fails_the_run_and_leaves_no_process(tmp_path):
    with pytest.raises(pool.WorkerDied, match="died"):
        list(pool.run_tasks("run", [[_unit("tree:a", _die)]], 1, _folders(tmp_path)))


def test_an_error_in_a_worker_is_raised_with_its_traceback(tmp_path):
    with pytest.raises(pool.WorkerDied, match="ZeroDivisionError: boom"):
        list(pool.run_tasks("run", [[_unit("tree:a", _boom)]], 1, _folders(tmp_path)))


def test_tasks_follow_unit_order_and_size():
    units = [Unit(f"tree:{i}", "tree", "/s", "fp", _issue, local=True, size=10) for i in range(9)]
    groups = pool.tasks(units, 2)
    assert [u for g in groups for u in g] == units
    assert len(groups) >= 4
