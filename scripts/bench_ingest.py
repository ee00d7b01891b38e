"""Ingest benchmark: our ingest against baselines on the same JSON bytes, in one process tree.

    python scripts/bench_ingest.py --scale 0.1          # 12,937 files, ~1 GB of JSON
    python scripts/bench_ingest.py --scale 1.0          # the full release, metadata only
    python scripts/bench_ingest.py --quick              # a tiny release: checks it runs

The release is generated (metadata only) once under --work. Each method runs in a fresh
subprocess so its peak RSS is its own. Baselines, as a user would write them:
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
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

RUNNERS = {}


def runner(name):
    def wrap(fn):
        RUNNERS[name] = fn
        return fn

    return wrap


@runner("ours_tree")
def _ours_tree(release: Path, out: Path) -> None:
    from seamless_catalog.ingest.run import ingest

    ingest(
        out,
        [str(release / "tree")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )


@runner("ours_tars")
def _ours_tars(release: Path, out: Path) -> None:
    from seamless_catalog.ingest.run import ingest

    ingest(
        out,
        [str(release / "hf")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )


@runner("ours_reingest")
def _ours_reingest(release: Path, out: Path) -> None:
    _ours_tree(release, out.parent / "ours_tree")  # the catalog ours_tree left behind


@runner("duckdb")
def _duckdb(release: Path, out: Path) -> None:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    glob = str(release / "tree" / "**" / "*.json")
    duckdb.sql(
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


def _child(method: str, release: Path, out: Path) -> None:
    start = time.perf_counter()
    RUNNERS[method](release, out)
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb}))


def _prepare(work: Path, scale: float | None, n_files: int | None) -> Path:
    release = work / "release"
    if not (release / "release.json").exists():
        from seamless_catalog.synth import generate

        print(f"generating release in {release} ...", file=sys.stderr)
        generate(
            release,
            scale=scale,
            n_files=n_files,
            seed=1,
            layouts=("tree", "hf"),
            metadata_only=True,
            progress=True,
        )
    jsonl = release / "all.jsonl"
    if not jsonl.exists():
        with open(jsonl, "wb") as f:
            for p in sorted((release / "tree").rglob("*.json")):
                f.write(json.dumps(json.loads(p.read_bytes())).encode() + b"\n")
    return release


def _size(path: Path) -> tuple[float, int]:
    files = [p for p in path.rglob("*.parquet")] if path.exists() else []
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true", help="a 60-file release; checks it runs")
    ap.add_argument("--work", type=Path, default=Path("/tmp/seamless-bench-ingest"))
    ap.add_argument("--methods", default="ours_tree,ours_reingest,ours_tars,duckdb,jsonloop,pandas")
    ap.add_argument(
        "--child", nargs=3, metavar=("METHOD", "RELEASE", "OUT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    work = args.work / ("quick" if args.quick else f"scale-{args.scale}")
    release = _prepare(work, None if args.quick else args.scale, 60 if args.quick else None)
    json_files = list((release / "tree").rglob("*.json"))
    mb = sum(p.stat().st_size for p in json_files) / 1e6
    results = {}
    for method in args.methods.split(","):
        if method == "pandas" and not _has("pandas"):
            print("pandas not installed: skipped (pip install pandas)", file=sys.stderr)
            continue
        out = work / "out" / method
        if method != "ours_reingest":
            shutil.rmtree(out, ignore_errors=True)
        env = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0")
        proc = subprocess.run(
            [sys.executable, __file__, "--child", method, str(release), str(out)],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode:
            sys.exit(f"{method} failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["out_mb"], r["out_files"] = _size(
            work / "out" / ("ours_tree" if method == "ours_reingest" else method)
        )
        results[method] = r
    _report(results, mb, len(json_files))


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _report(results: dict, mb: float, n_files: int) -> None:
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; input {n_files:,} JSON files, {mb:,.0f} MB\n"
    )
    print(f"{'method':<14}{'s':>9}{'MB/s':>9}{'files/s':>10}{'RSS MB':>9}{'out MB':>9}{'files':>7}")
    for m, r in results.items():
        print(
            f"{m:<14}{r['seconds']:>9.2f}{mb / r['seconds']:>9.1f}{n_files / r['seconds']:>10.0f}"
            f"{r['rss_mb']:>9.0f}{r['out_mb']:>9.1f}{r['out_files']:>7}"
        )
    ours = results.get("ours_tree")
    if ours:
        print()
        for base in ("duckdb", "pandas", "jsonloop"):
            if base in results:
                print(
                    f"ours_tree speed vs {base}: {results[base]['seconds'] / ours['seconds']:.2f}x"
                )
        if "ours_reingest" in results:
            share = results["ours_reingest"]["seconds"] / ours["seconds"]
            print(f"unchanged re-ingest: {share:.1%} of the first run")


if __name__ == "__main__":
    main()
