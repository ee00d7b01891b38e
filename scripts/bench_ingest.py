"""Ingest benchmark: our ingest against baselines on the same JSON bytes, in one process tree.

    python scripts/bench_ingest.py --scale 0.1          # 12,937 files, ~1 GB of JSON
    python scripts/bench_ingest.py --scale 1.0          # the full release, metadata only
    python scripts/bench_ingest.py --quick              # a tiny release: checks it runs
    python scripts/bench_ingest.py --shape homogeneous,mixed --methods ours_tree,duckdb
                                                        # both shapes, alternated in one run
    python scripts/bench_ingest.py --ref-code DIR --methods ours_tree,ours_tree@ref,duckdb
                                                        # also ours from another checkout
    python scripts/bench_ingest.py --release DIR --methods ours_tars,ours_reingest_tars
                                                        # an existing release (e.g. hf-only)

The release is generated (metadata only) once per shape under --work: ``mixed`` (the
generator's default documents: every variant a reader must accept) or ``homogeneous`` (shaped
like most real ones: 4-space indent, three keys, ~70 KB of dense word lists). Each method runs
in a fresh subprocess so its peak RSS is its own; with --repeat N the methods (and shapes)
alternate round by round, so that ours and the baselines share the machine's load.
Baselines, as a user would write them:
  duckdb   read_json over the per-file JSON -> COPY ... (FORMAT parquet, COMPRESSION zstd)
  pandas   read_json(lines=True) on the same documents as JSON Lines -> to_parquet
  jsonloop json.load each file, flatten the VAD/transcript rows, pyarrow -> Parquet
Ours: `ingest` of the local tree, of the tars, and an unchanged re-ingest.
Prints seconds, MB/s, files/s, peak RSS, output size and file count, and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_common import NOTE, load, machine, median, spread

RUNNERS = {}


def runner(name):
    def wrap(fn):
        RUNNERS[name] = fn
        return fn

    return wrap


@runner("ours_tree")
def _ours_tree(release: Path, out: Path) -> None:
    from seamless_catalog.ingestion.pipeline import ingest

    ingest(
        out,
        [str(release / "tree")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )


@runner("ours_tars")
def _ours_tars(release: Path, out: Path) -> None:
    from seamless_catalog.ingestion.pipeline import ingest

    ingest(
        out,
        [str(release / "hf")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )


@runner("ours_reingest")
def _ours_reingest(release: Path, out: Path) -> None:
    _ours_tree(release, out.parent / "ours_tree")  # the catalog ours_tree left behind


@runner("ours_reingest_tars")
def _ours_reingest_tars(release: Path, out: Path) -> None:
    _ours_tars(release, out.parent / "ours_tars")


@runner("duckdb")
def _duckdb(release: Path, out: Path) -> None:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    glob = str(release / "tree" / "**" / "*.json")
    # the one-liner as users run it; only its spill goes beside the output, not into the cwd
    # (at full scale it spilled ~12 GB into ./.tmp)
    con = duckdb.connect(config={"temp_directory": str(out / ".spill")})
    con.sql(
        f"COPY (SELECT * FROM read_json('{glob}', maximum_object_size = 67108864)) "
        f"TO '{out / 'data.parquet'}' (FORMAT parquet, COMPRESSION zstd)"
    )


@runner("pandas")
def _pandas(release: Path, out: Path) -> None:
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    pd.read_json(release / "all.jsonl", lines=True).to_parquet(out / "data.parquet")


@runner("jsonloop")
def _jsonloop(release: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    vad, words = {"file_id": [], "start": [], "end": []}, {"file_id": [], "word": [], "start": []}
    for p in sorted((release / "tree").rglob("*.json")):
        doc = json.loads(p.read_bytes())
        for v in doc.get("metadata:vad", []):
            vad["file_id"].append(p.stem)
            vad["start"].append(v["start"])
            vad["end"].append(v["end"])
        for seg in doc.get("metadata:transcript", []):
            for w in seg.get("words", []):
                words["file_id"].append(p.stem)
                words["word"].append(w["word"])
                words["start"].append(w.get("start"))
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(vad), out / "vad.parquet", compression="zstd")
    pq.write_table(pa.table(words), out / "words.parquet", compression="zstd")


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants now (Linux /proc), in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def _child(method: str, release: Path, out: Path) -> None:
    peak, done = [0.0], threading.Event()

    def sample() -> None:  # the peak of the whole process tree (ours has worker processes)
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_rss_mb(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    RUNNERS[method](release, out)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    me, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    cpu = sum(r.ru_utime + r.ru_stime for r in (me, kids))  # every thread and worker process
    report = {
        "seconds": seconds,
        "cpu_s": cpu,
        "rss_mb": me.ru_maxrss / 1024,
        "child_rss_mb": kids.ru_maxrss / 1024,
        "tree_rss_mb": peak[0],
    }
    print(json.dumps(report))


def _prepare(
    work: Path, scale: float | None, n_files: int | None, shape: str, layouts, jsonl: bool
) -> Path:
    release = work / "release"
    if not (release / "release.json").exists():
        from seamless_catalog.synth import generate

        print(f"generating release in {release} ...", file=sys.stderr)
        generate(
            release,
            scale=scale,
            n_files=n_files,
            seed=1,
            layouts=layouts,
            metadata_only=True,
            progress=True,
            shape=shape,
        )
    lines = release / "all.jsonl"  # pandas' input, only when it is to run (3.4 GB at full scale)
    if jsonl and (release / "tree").is_dir() and not lines.exists():
        with open(lines, "wb") as f:
            for p in sorted((release / "tree").rglob("*.json")):
                f.write(json.dumps(json.loads(p.read_bytes())).encode() + b"\n")
    return release


def _size(path: Path) -> tuple[float, int]:
    files = [p for p in path.rglob("*.parquet")] if path.exists() else []
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


REINGEST = {"ours_reingest": "ours_tree", "ours_reingest_tars": "ours_tars"}
NEEDS_TREE = {"ours_tree", "ours_reingest", "duckdb", "jsonloop", "pandas", "ours_tree@ref"}
REF = "@ref"  # METHOD@ref: METHOD with the code of --ref-code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true", help="a 60-file release; checks it runs")
    ap.add_argument("--work", type=Path, default=Path("/tmp/seamless-bench-ingest"))
    ap.add_argument("--release", type=Path, help="an existing generated release to ingest")
    ap.add_argument(
        "--shape",
        default="mixed",
        help="the JSON's shape: mixed, homogeneous, or both (comma-separated, alternated)",
    )
    ap.add_argument("--layouts", default="tree,hf", help="layouts generated (tree, hf)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method (median reported)")
    ap.add_argument(
        "--ref-code",
        type=Path,
        help="the package in this folder (a checkout of another version, put first on "
        "PYTHONPATH) runs the methods named METHOD@ref, interleaved with the rest",
    )
    ap.add_argument("--methods", default="ours_tree,ours_reingest,ours_tars,duckdb,jsonloop,pandas")
    ap.add_argument(
        "--child", nargs=3, metavar=("METHOD", "RELEASE", "OUT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    shapes = args.shape.split(",")
    releases = {}
    for shape in shapes:
        if args.release:
            work, release = args.work / args.release.name, args.release
        else:
            name = "quick" if args.quick else f"scale-{args.scale}"
            work = args.work / (name if shape == "mixed" else f"{name}-{shape}")
            n_files = 60 if args.quick else None
            layouts = tuple(args.layouts.split(","))
            scale = None if args.quick else args.scale
            jsonl = "pandas" in args.methods.split(",") and _has("pandas")
            release = _prepare(work, scale, n_files, shape, layouts, jsonl)
        releases[shape] = (work, release, _input_size(release))
    repeat = 1 if args.quick else args.repeat
    methods = [m for m in args.methods.split(",") if _runnable(m, releases)]
    print(machine(), file=sys.stderr)
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(repeat):  # round by round: every method and shape once per round
        for shape in shapes:
            work, release, _ = releases[shape]
            for method in methods:
                if method in NEEDS_TREE and not (release / "tree").is_dir():
                    continue
                r = _run_once(method, release, work, args.ref_code)
                runs.setdefault((shape, method), []).append(r)
                print(
                    f"  {shape} {method}: {r['seconds']:.2f} s, load {r['load']}", file=sys.stderr
                )
    for shape in shapes:
        work, _, (mb, n_files) = releases[shape]
        results = {m: _summary(runs[(shape, m)], work, m) for m in methods if (shape, m) in runs}
        print(f"\nshape: {shape}")
        _report(results, mb, n_files)


def _runnable(method: str, releases: dict) -> bool:
    if method == "pandas" and not _has("pandas"):
        print("pandas not installed: skipped (pip install pandas)", file=sys.stderr)
        return False
    if method in NEEDS_TREE and not any((r / "tree").is_dir() for _, r, _ in releases.values()):
        print(f"{method}: skipped (the release has no tree/ layout)", file=sys.stderr)
        return False
    return True


def _input_size(release: Path) -> tuple[float, int]:
    """(MB, files) of the per-file JSON (a tree's files, else the tars' JSON members)."""
    json_files = list((release / "tree").rglob("*.json")) if (release / "tree").is_dir() else []
    if json_files:
        return sum(p.stat().st_size for p in json_files) / 1e6, len(json_files)
    return _tar_json(release)


def _run_once(method: str, release: Path, work: Path, ref_code: Path | None) -> dict:
    out = work / "out" / method
    base, ref = method.removesuffix(REF), method.endswith(REF)
    if base not in REINGEST:
        shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0")
    if ref:
        if ref_code is None:
            sys.exit(f"{method}: give --ref-code DIR (the other version's checkout)")
        env["PYTHONPATH"] = str(ref_code.resolve())
    before = load()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", base, str(release), str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode:
        sys.exit(f"{method} failed:\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["load"] = before
    return r


def _summary(runs: list[dict], work: Path, method: str) -> dict:
    secs = [r["seconds"] for r in runs]
    r = {
        "seconds": median(secs),
        "spread": spread(secs),
        "cpu_s": median([r["cpu_s"] for r in runs]),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "tree_rss_mb": max(r.get("tree_rss_mb", 0) for r in runs),
        "child_rss_mb": max(r.get("child_rss_mb", 0) for r in runs),
        "load": " / ".join(r["load"].split()[0] for r in runs),
        "runs": len(runs),
    }
    r["out_mb"], r["out_files"] = _size(work / "out" / REINGEST.get(method, method))
    return r


def _tar_json(release: Path) -> tuple[float, int]:
    import tarfile

    total, n = 0, 0
    for tar in (release / "hf").rglob("*.tar"):
        with tarfile.open(tar) as tf:
            for m in tf:
                if m.name.endswith(".json"):
                    total, n = total + m.size, n + 1
    return total / 1e6, n


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _report(results: dict, mb: float, n_files: int) -> None:
    print(f"\n{machine()}\ninput {n_files:,} JSON documents, {mb:,.0f} MB; {NOTE}\n")
    print(
        f"{'method':<19}{'s (median)':>11}{'min..max':>14}{'CPU s':>7}{'MB/s':>8}{'files/s':>9}"
        f"{'RSS MB':>8}{'tree MB':>8}{'child MB':>9}{'out MB':>8}{'files':>7}"
        "  load (1 min) at each start"
    )
    for m, r in results.items():
        print(
            f"{m:<19}{r['seconds']:>11.2f}{r['spread']:>14}{r['cpu_s']:>7.1f}"
            f"{mb / r['seconds']:>8.1f}{n_files / r['seconds']:>9.0f}"
            f"{r['rss_mb']:>8.0f}{r['tree_rss_mb']:>8.0f}"
            f"{r['child_rss_mb']:>9.0f}{r['out_mb']:>8.1f}{r['out_files']:>7}  {r['load']}"
        )
    print(
        "CPU s: user + system seconds of the process, its threads and its workers (median); "
        "RSS MB: peak of the benchmark process itself; tree MB: peak of the sum over it and "
        "its worker processes (sampled every 50 ms); child MB: the largest worker's peak"
    )
    print()
    pairs = (
        ("ours_tree", "ours_reingest"),
        ("ours_tree@ref", ""),
        ("ours_tars", "ours_reingest_tars"),
    )
    for ours, again in pairs:
        if ours not in results:
            continue
        for base in ("duckdb", "pandas", "jsonloop"):
            if base in results:
                ratio = results[base]["seconds"] / results[ours]["seconds"]
                print(f"{ours} speed vs {base}: {ratio:.2f}x")
        if again in results:
            share = results[again]["seconds"] / results[ours]["seconds"]
            print(f"unchanged re-ingest ({again}): {share:.1%} of the first run")


if __name__ == "__main__":
    main()
