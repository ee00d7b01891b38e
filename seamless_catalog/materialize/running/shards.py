"""The work of one shard of a plan file: the local materializer restricted to
the shard's items (:func:`.run.run_items`: its retries, resolve-once-per-tar, temp-then-rename,
checks and receipt).

Locks. Several processes may write into one destination (a shared filesystem on a cluster):
each run of a shard holds the destination's lock *shared* and its own shard lock
(``{to}/.seamless-catalog/locks/{plan_id}.{k}-of-{n}.lock``) exclusive. The shards of a plan are
disjoint, every output is written to a temp file of a unique name and renamed into place
atomically, so they need nothing more; a second run of the same shard (a retried task whose
first attempt is still alive, a requeued array member) waits for the first, then finds its
files present. A plain ``materialize`` holds the destination's lock exclusive, as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ... import config
from ...config import Settings
from ...errors import disk_errors
from ...remote import ObjectStore, open_store
from ...select.shard import parse_shard
from ...store.snapshots import flock
from ..planning.items import Plan
from ..planning.planfile import PlanFile, read_plan
from .local import STATE_DIR
from .receipts import Outcome, shard_tag
from .runner import MaterializeResult, run_items

log = logging.getLogger(__name__)


@contextlib.contextmanager
def shard_lock(to: Path, tag: str) -> Iterator[None]:
    """The destination's lock shared, this shard's exclusive (see the module's docstring)."""
    state = to / STATE_DIR
    with disk_errors(state):
        (state / "locks").mkdir(parents=True, exist_ok=True)

    def exclusive() -> None:
        log.warning("a plain materialize is writing into %s: waiting for it to finish", to)

    def same_shard() -> None:
        log.warning("shard %s is being run by another process: waiting for it to finish", tag)

    with (
        disk_errors(state),
        flock(state / "lock", exclusive, shared=True),
        flock(state / "locks" / f"{tag}.lock", same_shard),
    ):
        yield


def open_plan(plan: str | Path | PlanFile, to: str | Path | None = None) -> PlanFile:
    return plan if isinstance(plan, PlanFile) else read_plan(plan, to)


def run_shard(
    plan: str | Path | PlanFile,
    shard: str | tuple[int, int] | None = None,
    *,
    workers: int = 4,
    to: str | Path | None = None,
    settings: Settings | None = None,
    store: ObjectStore | None = None,
    resolved: dict | None = None,
) -> MaterializeResult:
    """Do the work of shard ``K/N`` of a plan file (all of it when None): files already on
    disk and verified are skipped, the rest fetched; a receipt names the plan and shard.

    ``store`` is shared by the shards run in one process; ``resolved`` are Hub resolutions
    made by the process that scheduled this shard (so that each tar is resolved once)."""
    settings = settings or config.from_env()
    pf = open_plan(plan, to)
    k_n = parse_shard(shard) or (1, 1)
    items, unknown = pf.shard(k_n)
    store = store or open_store(pf.source, settings)
    if resolved:
        store.adopt(resolved)
    work = Plan(pf.source, pf.layout, [dataclasses.replace(i) for i in items])
    rejected = [Outcome.failure(key, pf.source, why) for key, why in pf.invalid_of(k_n)]
    return run_items(
        store, pf.to, work, unknown, workers=workers, settings=settings, plan_id=pf.plan_id,
        shard=k_n, lock=shard_lock(pf.to, shard_tag(pf.plan_id, k_n)), rejected=rejected,
    )  # fmt: skip


def resolve_all(store: ObjectStore, keys: Iterable[str], workers: int) -> None:
    """Resolve every object of ``keys`` once, ``workers`` at a time (Hub stores remember)."""
    if not store.remembers_resolutions:
        return  # local folders, S3 and HTTPS have nothing to resolve
    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(store.info, sorted(set(keys))))


def shard_keys(pf: PlanFile, shard: tuple[int, int], skip_sized: bool = False) -> set[str]:
    """The objects the items of a shard are read from; with ``skip_sized``, not those of
    items whose file already has its planned size (a cheap guess at "done": the shard
    verifies, and resolves for itself what this guessed wrong)."""
    keys = set()
    for item in pf.shard(shard)[0]:
        if item.state != "todo" or (skip_sized and _sized(pf.to / item.dest, item.size)):
            continue
        keys.update(p.key for p in item.parts)
    return keys


def _sized(path: Path, size: int | None) -> bool:
    try:
        return size is not None and path.stat().st_size == size
    except OSError:
        return False
