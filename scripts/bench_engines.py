"""Engines benchmark on loopback: one plan file run by the local engine, Ray and Dask.

    python scripts/bench_engines.py              # 64 files, mp4 padded to 6 MB, 3 rounds
    python scripts/bench_engines.py --quick      # 12 small files, one round: checks it runs

What is measured: the release of ``bench_materialize.py`` (mp4 members padded so that
throughput is measurable) as Hub tars. ``tests.fakes.hub.HubServer`` answers ``/resolve`` in
this process and counts the resolves; its 302 points at **nginx**, which serves the tar bytes
(without nginx, at the Hub server's own CDN endpoint, in this process: then say so). One plan
file (``materialize plan``) is run with ``run_plan(engine=..., shards=N)`` into a fresh
folder, engines interleaved over the rounds, after one warm-up round (not in quick mode).
Ray and Dask are started once, before the rounds (their start-up is reported apart: a
cluster is already there when one uses it), with 2 CPUs, and their workers import the
package then. Ratios are against the local engine's
median in the same process. Goals: Ray and Dask within 1.15x of local; one resolve per tar.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_common import NOTE, load, machine, median, spread
from bench_materialize import REPO, Nginx, hub_to_nginx, prepare, selected, selection_sql

ROOT = Path(__file__).resolve().parents[1]


def _warm() -> None:
    import seamless_catalog.materialize.running.engines  # noqa: F401


def start_engines(names: list[str]) -> tuple[dict[str, float], contextlib.ExitStack]:
    """Start Ray and Dask (2 CPUs each) once; return their start-up seconds."""
    stack = contextlib.ExitStack()
    startup = {}
    if "ray" in names:
        import ray

        t = time.perf_counter()
        short = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # its socket paths are length-bound
        stack.callback(shutil.rmtree, short, ignore_errors=True)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, _temp_dir=short)  # fmt: skip
        warm = ray.remote(num_cpus=1)(_warm)  # workers import the package once, as in use
        ray.get([warm.remote() for _ in range(2)])
        startup["ray"] = time.perf_counter() - t
        stack.callback(ray.shutdown)
    if "dask" in names:
        from distributed import Client, LocalCluster

        t = time.perf_counter()
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )  # fmt: skip
        )
        client = stack.enter_context(Client(cluster))
        client.run(_warm)
        startup["dask"] = time.perf_counter() - t
    return startup, stack


def available(names: list[str]) -> tuple[list[str], list[str]]:
    ok, missing = [], []
    for name in names:
        module = {"ray": "ray", "dask": "distributed"}.get(name)
        try:
            if module:
                __import__(module)
            ok.append(name)
        except ImportError:
            missing.append(name)
    return ok, missing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="12 small files, one round")
    ap.add_argument("--n-files", type=int, default=64)
    ap.add_argument("--mp4-mb", type=float, default=6.0, help="pad each mp4 to this size")
    ap.add_argument("--workers", type=int, default=4, help="transfer threads per shard")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default="local,ray,dask")
    ap.add_argument("--work", type=Path, default=Path("/tmp/seamless-bench-engines"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from seamless_catalog import config
    from seamless_catalog.materialize import make_plan, read_plan, run_plan
    from tests.fakes.hub import HubServer

    n_files = 12 if args.quick else args.n_files
    mp4_bytes = int((0.25 if args.quick else args.mp4_mb) * 1e6)
    repeat = 1 if args.quick else args.repeat
    warmup = 0 if args.quick else 1
    engines, missing = available(args.engines.split(","))
    work = args.work / f"n{n_files}-mp4-{mp4_bytes}"
    release, catalog = prepare(work, n_files, mp4_bytes)
    ids = [r[0] for r in selected(catalog, release)]
    print(machine(), file=sys.stderr)
    www = work / "www"
    (www / "repos").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-eng-", dir=work))
    have_nginx = shutil.which("nginx") is not None
    results: dict[str, list[dict]] = {}
    os.environ["SEAMLESS_CATALOG_PROGRESS"] = "0"
    try:
        with contextlib.ExitStack() as stack:
            if have_nginx:
                ngx = stack.enter_context(Nginx(www, work / "nginx"))
                hub, _ = hub_to_nginx(release / "hf", www, ngx.base)
            else:
                hub = HubServer(release / "hf", REPO)
            stack.enter_context(hub)
            settings = config.from_env(
                {"HF_ENDPOINT": hub.endpoint, "SEAMLESS_CATALOG_PROGRESS": "0"}
            )
            plan = scratch / "plan.parquet"
            make_plan(catalog, plan, to=scratch / "out", sql=selection_sql(ids),
                      source=f"hf://datasets/{REPO}", settings=settings)  # fmt: skip
            pf = read_plan(plan)
            tars = {p.key for i in pf.items if i.state == "todo" for p in i.parts}
            startup, engines_up = start_engines(engines)
            stack.enter_context(engines_up)
            for rnd in range(warmup + repeat):
                for engine in engines:
                    out = scratch / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    before = load()
                    hub.reset_counters()
                    t = time.perf_counter()
                    done = run_plan(plan, engine=engine, shards=args.shards,
                                    workers=args.workers, settings=settings)  # fmt: skip
                    seconds = time.perf_counter() - t
                    resolves = Counter(r.file for r in hub.stats.snapshot() if r.kind == "resolve")
                    failed = sum(s.failed for s in done) + sum(1 for s in done if s.error)
                    if rnd < warmup:
                        continue
                    results.setdefault(engine, []).append({
                        "seconds": seconds, "bytes": sum(s.bytes for s in done),
                        "resolves": sum(resolves.values()), "failed": failed, "load": before,
                        "max_per_tar": max(resolves.values(), default=0),
                    })  # fmt: skip
                    print(f"  {engine}: {seconds:.2f} s, load {before}", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(results, startup, len(ids), len(tars), args, missing, have_nginx)


def report(results, startup, n_samples, n_tars, args, missing, have_nginx) -> None:
    print(f"\n{machine()}")
    print(
        f"{n_samples} samples in {n_tars} tars, {args.shards} shards x {args.workers} workers; "
        f"tar bytes from {'nginx' if have_nginx else 'the test Hub server (in this process)'}; "
        f"{NOTE}"
    )
    if missing:
        print(f"skipped (not installed): {', '.join(missing)}")
    print(
        f"{'engine':<7}{'MB':>8}{'s (median)':>11}{'min..max':>14}{'MB/s':>8}{'vs local':>9}"
        f"{'resolves':>9}{'per tar':>8}{'max/tar':>8}{'failed':>7}  load at start"
    )
    local = median([r["seconds"] for r in results["local"]]) if "local" in results else None
    for engine, runs in results.items():
        secs = [r["seconds"] for r in runs]
        last = runs[-1]
        mb = last["bytes"] / 1e6
        ratio = f"{median(secs) / local:.2f}x" if local else "n/a"
        print(
            f"{engine:<7}{mb:>8.1f}{median(secs):>11.3f}{spread(secs):>14}"
            f"{mb / median(secs):>8.1f}{ratio:>9}{last['resolves']:>9}"
            f"{last['resolves'] / max(1, n_tars):>8.2f}{last['max_per_tar']:>8}"
            f"{last['failed']:>7}  {last['load']}"
        )
    for engine, s in startup.items():
        print(f"{engine}: start-up (not in the figures above) {s:.2f} s")
    print("goals: ray and dask within 1.15x of local; 1 resolve per tar")


if __name__ == "__main__":
    main()
