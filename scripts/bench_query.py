"""Query benchmark: the queries users run, over our views on Parquet vs the same views on
native DuckDB tables, warm and from a fresh process.

    python scripts/bench_query.py --catalog CAT            # an existing catalog
    python scripts/bench_query.py --quick                  # builds a tiny catalog; checks it runs
    python scripts/bench_query.py --catalog CAT --queries lookup_file,pairs_filtered
        # a subset: turn_taking_all took ~6 min per run at scale 0.1 (see BENCHMARKS.md)

Baseline: every raw table copied into a DuckDB database file as native tables, with the
same sql/ views on top (a user who loaded the data into DuckDB themselves).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import NOTE, load, machine

QUERIES = {
    "lookup_file": ("select * from files where file_id = $fid", {"fid"}),
    "pairs_filtered": (
        "select p.interaction_key, p.file_id_a, p.file_id_b from pairs p "
        "join participants a on a.vendor = p.vendor and a.participant = p.participant_a "
        "join participants b on b.vendor = p.vendor and b.participant = p.participant_b "
        "where p.relationship = 'familiar' and p.interaction_type = 'ipc_conversation' "
        "and a.extraversion > 3 and b.extraversion > 3",
        set(),
    ),
    "speech_filter": (
        "select file_id, speech_ratio from speech_activity "
        "where speech_ratio > 0.3 and n_ipus > 10",
        set(),
    ),
    "turn_taking_all": (
        "select count(*), median(fto_median_ms), avg(overlap_ratio), sum(n_gaps) from turn_taking",
        set(),
    ),
    "dataset_summary": ("select * from dataset_summary", set()),
}


def _native(catalog: Path, db: Path) -> None:
    """Copy every raw table into ``db`` as a native table and apply the same views."""
    import duckdb

    from seamless_catalog import schema, views
    from seamless_catalog.catalog import Catalog

    with Catalog.open(catalog) as cat:
        con = duckdb.connect(str(db))
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for name in schema.TABLES:
            con.register("_t", cat.sql(f"select * from raw.{name}").to_arrow_table())
            con.execute(f"CREATE OR REPLACE TABLE raw.{name} AS SELECT * FROM _t")
            con.unregister("_t")
        views.apply_views(con)
        con.close()


def _time(run, repeat: int) -> float:
    run()  # warm
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _fresh(code: str, repeat: int) -> float:
    """Median wall time of ``python -c code`` (interpreter start, imports, open, query)."""
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def bench(catalog: Path, repeat: int, names: list[str]) -> dict:
    import duckdb

    from seamless_catalog.catalog import Catalog

    db = Path(tempfile.mkdtemp()) / "native.duckdb"
    _native(catalog, db)
    native = duckdb.connect(str(db), read_only=True)
    cat = Catalog.open(catalog)
    fid = cat.value("select file_id from files order by file_id limit 1")
    out = {}
    for name in names:
        sql, wanted = QUERIES[name]
        params = {"fid": fid} if wanted else None
        ours = _time(lambda s=sql, p=params: cat.sql(s, p).fetchall(), repeat)
        base = _time(lambda s=sql, p=params: native.execute(s, p).fetchall(), repeat)
        code = (
            "from seamless_catalog.catalog import Catalog; "
            f"Catalog.open({str(catalog)!r}).sql({sql!r}, {params!r}).fetchall()"
        )
        before = load()
        fresh = _fresh(code, min(repeat, 3))
        out[name] = {
            "ours_warm_s": ours,
            "native_warm_s": base,
            "ours_fresh_s": fresh,
            "load": before,
        }
    return out


def _quick_catalog() -> Path:
    from seamless_catalog.ingest.run import ingest
    from seamless_catalog.synth import generate

    work = Path(tempfile.mkdtemp())
    generate(work / "release", n_files=40, seed=3, layouts=("hf",))
    ingest(
        work / "cat",
        [str(work / "release" / "hf")],
        filelist=str(work / "release" / "filelist.csv"),
        assets=str(work / "release" / "assets"),
    )
    return work / "cat"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--catalog", type=Path)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--queries", default=",".join(QUERIES), help="comma-separated subset")
    args = ap.parse_args()
    os.environ.setdefault("SEAMLESS_CATALOG_PROGRESS", "0")
    catalog = _quick_catalog() if args.quick or not args.catalog else args.catalog
    results = bench(catalog, 1 if args.quick else args.repeat, args.queries.split(","))
    print(f"{machine()}\ncatalog {catalog}; medians of {args.repeat} runs; {NOTE}")
    print(
        f"{'query':<18}{'ours warm ms':>14}{'native ms':>11}{'ratio':>7}{'fresh ms':>10}"
        "  load at start"
    )
    ratios = []
    for name, r in results.items():
        ratio = r["ours_warm_s"] / r["native_warm_s"]
        ratios.append(ratio)
        print(
            f"{name:<18}{r['ours_warm_s'] * 1e3:>14.1f}{r['native_warm_s'] * 1e3:>11.1f}"
            f"{ratio:>7.2f}{r['ours_fresh_s'] * 1e3:>10.0f}  {r['load']}"
        )
    print(
        f"geometric mean ratio (views over Parquet / native tables): "
        f"{statistics.geometric_mean(ratios):.2f}"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
