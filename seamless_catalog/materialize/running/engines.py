"""Engines only schedule shards of a plan file; :func:`.planrun.run_shard` does the work.

* ``local``: the shards one after the other in this process, sharing one store (so each Hub
  tar is resolved once), each with ``workers`` transfer threads.
* ``ray``: one Ray Core task per shard, retried (``max_retries``) when its worker dies; an
  existing cluster with ``ray_address``, else the running ``ray.init`` or a small local one.
* ``dask``: one ``distributed`` task per shard (``retries``; a dead worker's task is
  rescheduled by the scheduler); a scheduler address, else the default client or a small
  local cluster.
* No engine for SLURM or Kubernetes arrays: each member runs ``materialize run --shard K/N``.

Any engine resumes another's work: a shard skips what is on disk and verified. The local
engine's shards share one store, which resolves each Hub tar once. Ray and Dask tasks run in
other processes with stores of their own: before they start, this process resolves every
Hub tar the shards still need, once, and hands each task the resolutions of its tars, so a
tar is resolved once whatever N is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ... import config
from ...config import Settings
from ...errors import UsageError
from ...remote import open_store
from ...select.shard import parse_shard
from .runner import MaterializeResult
from .shards import open_plan, resolve_all, run_shard, shard_keys

ENGINES = ("local", "ray", "dask")
DEFAULT_SHARDS = {"local": 1, "ray": 4, "dask": 4}
RETRIES = 3
LOCAL_CPUS = 2  # a local Ray/Dask cluster started for one run: transfers wait on I/O


@dataclass
class ShardSummary:
    """What one shard's run did (small: this is what travels back from a worker)."""

    shard: tuple[int, int]
    delivered: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    receipt: str | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path or file id, reason)
    error: str | None = None  # the shard itself could not run

    @classmethod
    def of(cls, r: MaterializeResult) -> ShardSummary:
        return cls(
            r.shard or (1, 1), r.count("delivered"), r.count("skipped"), r.count("failed"),
            r.bytes_fetched, str(r.receipt) if r.receipt else None,
            [(o.path or o.file_id, o.reason) for o in r.failures],
        )  # fmt: skip

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None


@dataclass(frozen=True)
class ShardJob:
    """One shard to run somewhere: everything the worker needs, picklable."""

    plan: str
    shard: tuple[int, int]
    workers: int
    settings: Settings
    to: str | None = None
    resolved: dict = field(default_factory=dict)
    crash_marker: str | None = None  # tests only: the first attempt creates it and dies


def do_job(job: ShardJob) -> ShardSummary:
    """Run one shard (on a worker)."""
    if job.crash_marker and not os.path.exists(job.crash_marker):
        Path(job.crash_marker).touch()
        os._exit(17)  # the worker dies mid-task: the engine must retry the shard
    r = run_shard(job.plan, job.shard, workers=job.workers, to=job.to, settings=job.settings,
                  resolved=job.resolved)  # fmt: skip
    return ShardSummary.of(r)


def shards_to_run(shards: int, shard: str | None, only: set[int] | None) -> list[tuple[int, int]]:
    one = parse_shard(shard)
    if one is not None:
        return [one]
    if shards < 1:
        raise UsageError(f"--shards {shards}: give at least 1")
    return [(k, shards) for k in range(1, shards + 1) if only is None or k in only]


def run_plan(
    plan: str | Path,
    *,
    engine: str = "local",
    shards: int | None = None,
    shard: str | None = None,
    only: set[int] | None = None,
    workers: int = 4,
    to: str | Path | None = None,
    settings: Settings | None = None,
    ray_address: str | None = None,
    dask_scheduler: str | None = None,
    _crash_marker: str | None = None,
) -> list[ShardSummary]:
    """Run shard ``shard`` (``"K/N"``) of a plan file, or its ``shards`` shards (those in
    ``only`` when given) on ``engine``."""
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine}: choose from {', '.join(ENGINES)}")
    if workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    _require(engine)
    settings = settings or config.from_env()
    pf = open_plan(plan, to)
    todo = shards_to_run(shards or DEFAULT_SHARDS[engine], shard, only)
    store = open_store(pf.source, settings)
    if engine == "local":  # one store for every shard: it resolves each tar once
        return [
            ShardSummary.of(run_shard(pf, s, workers=workers, settings=settings, store=store))
            for s in todo
        ]
    keys = {s: shard_keys(pf, s, skip_sized=True) for s in todo}
    resolve_all(store, set().union(*keys.values()), workers)  # for tasks in other processes
    jobs = [
        ShardJob(
            str(pf.path),
            s,
            workers,
            settings,
            str(pf.to),
            store.resolutions(keys[s]),
            _crash_marker,
        )  # fmt: skip
        for s in todo
    ]
    if engine == "ray":
        return _on_ray(jobs, ray_address)
    return _on_dask(jobs, dask_scheduler)


def _require(engine: str) -> None:
    """Fail before any work when the engine's extra is not installed."""
    module = {"ray": "ray", "dask": "distributed"}.get(engine)
    if module is None:
        return
    try:
        __import__(module)
    except ImportError:
        raise _missing(engine, module) from None


def _missing(extra: str, module: str) -> UsageError:
    return UsageError(
        f"--engine {extra} needs {module}, which is not installed: "
        f"pip install 'seamless-catalog[{extra}]'"
    )


def _gather(jobs: list[ShardJob], futures: list, get) -> list[ShardSummary]:
    out = []
    for job, fut in zip(jobs, futures):
        try:
            out.append(get(fut))
        except Exception as e:  # the shard could not run even after its retries
            out.append(ShardSummary(job.shard, error=f"{type(e).__name__}: {e}"))
    return out


@contextlib.contextmanager
def _ray(address: str | None) -> Iterator[object]:
    try:
        import ray
    except ImportError:
        raise _missing("ray", "ray") from None
    started = not ray.is_initialized()
    if started:
        cpus = None if address else min(LOCAL_CPUS, os.cpu_count() or 1)
        ray.init(address=address, num_cpus=cpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)  # fmt: skip
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _on_ray(jobs: list[ShardJob], address: str | None) -> list[ShardSummary]:
    with _ray(address) as ray:
        task = ray.remote(max_retries=RETRIES, retry_exceptions=False)(do_job)
        refs = [task.options(name=f"shard {j.shard[0]}/{j.shard[1]}").remote(j) for j in jobs]
        return _gather(jobs, refs, ray.get)


@contextlib.contextmanager
def _dask(address: str | None) -> Iterator[object]:
    try:
        from distributed import Client, LocalCluster, default_client
    except ImportError:
        raise _missing("dask", "dask.distributed") from None
    mine = None
    if address is None:
        with contextlib.suppress(ValueError):
            mine = default_client()  # one the caller made
    if mine is not None:
        yield mine
        return
    with contextlib.ExitStack() as stack:
        if address is None:
            n = min(LOCAL_CPUS, os.cpu_count() or 1)
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
                )  # fmt: skip
            )
            address = cluster.scheduler_address
        yield stack.enter_context(Client(address))


def _on_dask(jobs: list[ShardJob], address: str | None) -> list[ShardSummary]:
    with _dask(address) as client:
        futures = [
            client.submit(do_job, j, retries=RETRIES, pure=False,
                          key=f"shard-{j.shard[0]}-of-{j.shard[1]}-{os.urandom(4).hex()}")
            for j in jobs
        ]  # fmt: skip
        return _gather(jobs, futures, lambda f: f.result())


def retry_plan(
    plan: str | Path,
    *,
    shards: int | None = None,
    to: str | Path | None = None,
    **run_options,
) -> list[ShardSummary]:
    """Run again only the shards with failed or missing items (``status`` tells which), with
    the N of the plan's last run unless ``shards`` is given; their done items are skipped."""
    from .status import plan_status

    st = plan_status(plan, shards, to)
    todo = st.unfinished()
    if not todo:
        return []
    return run_plan(plan, shards=st.n, only=todo, to=to, **run_options)
