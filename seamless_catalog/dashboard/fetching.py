"""The dashboard's adapter over :func:`seamless_catalog.materialize.jobs.materialize`.

Plans with ``dry_run=True``; runs in a worker thread while the caller polls the plan's
destination files, so a page can draw a progress bar (the materializer itself reports
progress only through tqdm).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..layout import EXTENSIONS, MODALITIES
from ..materialize import MaterializeResult, materialize

__all__ = ["MODALITIES", "Job", "plan", "run"]


@dataclass(frozen=True)
class Job:
    """What to fetch: a read-only SQL selection, or explicit file ids; where from and to."""

    to: Path
    source: str | None = None  # None: the catalog's default source
    sql: str | None = None
    file_ids: tuple[str, ...] = ()
    modalities: tuple[str, ...] = EXTENSIONS
    pairs: bool = False


def _call(catalog_dir: Path, job: Job, dry_run: bool) -> MaterializeResult:
    settings = config.from_env().with_(progress=False)
    common = dict(
        to=job.to,
        source=job.source,
        modalities=job.modalities,
        pairs=job.pairs,
        dry_run=dry_run,
        settings=settings,
    )
    if job.sql is not None:
        return materialize(catalog_dir, sql=job.sql, **common)
    return materialize(catalog_dir, ids=list(job.file_ids), **common)  # bound, never pasted


def plan(catalog_dir: Path, job: Job) -> MaterializeResult:
    """The dry run: ``result.plan`` has items, ``bytes_to_fetch`` and ``n_requests``."""
    return _call(catalog_dir, job, dry_run=True)


def run(
    catalog_dir: Path,
    job: Job,
    planned: MaterializeResult,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    poll_s: float = 0.2,
) -> MaterializeResult:
    """Materialize ``job``; ``on_progress(files_done, files_total)`` while it runs."""
    dests = [job.to / item.dest for item in planned.plan.todo]
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = _call(catalog_dir, job, dry_run=False)
        except BaseException as e:  # handed to the caller's thread below
            box["error"] = e

    thread = threading.Thread(target=work, name="dashboard-materialize", daemon=True)
    thread.start()
    while thread.is_alive():
        on_progress(_count(dests), len(dests))
        thread.join(poll_s)
    on_progress(_count(dests), len(dests))  # what is there: failed files never arrive
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def _count(paths: Iterable[Path]) -> int:
    return sum(1 for p in paths if p.is_file())
