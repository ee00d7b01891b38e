"""Query benchmark: the queries users run, over our views on Parquet vs the same views on
native DuckDB tables, warm and from a fresh process.

    python scripts/bench_query.py --catalog CAT            # an existing catalog
    python scripts/bench_query.py --quick                  # builds a tiny catalog; checks it runs
    python scripts/bench_query.py --catalog CAT --queries lookup_file,pairs_filtered

Three ways to answer each query, timed in turns (one run of each, then the next round), so
that they share the machine's load:
  ours      Catalog.open(CAT) as shipped: catalog.duckdb attached, views that have a derived
            table read it
  computed  Catalog.open(CAT, derived=False): every view computed from the Parquet tables
  native    baseline: every ingested table copied into a DuckDB database file as native
            tables, with the same sql/ views on top (a user who loaded the data themselves)
"fresh" is the median wall time of `python -c` opening the catalog and running the query
(interpreter start and imports included), in turns with "floor": `python -c` importing duckdb
and connecting, what any fresh DuckDB query pays.
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

    from seamless_catalog.catalog import Catalog
    from seamless_catalog.store import schema, views

    with Catalog.open(catalog) as cat:
        con = duckdb.connect(str(db))
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for name in schema.TABLES:
            con.register("_t", cat.sql(f"select * from raw.{name}").to_arrow_table())
            con.execute(f"CREATE OR REPLACE TABLE raw.{name} AS SELECT * FROM _t")
            con.unregister("_t")
        views.apply_views(con)
        con.close()


def _interleaved(runs: dict, repeat: int) -> dict[str, float]:
    """Median seconds of each of ``runs``, after one warm-up each, run in turns."""
    for run in runs.values():
        run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            t = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - t)
    return {name: statistics.median(xs) for name, xs in samples.items()}


FLOOR = "import duckdb; duckdb.connect()"  # what any fresh DuckDB query pays at least


def _fresh(codes: dict[str, str], repeat: int) -> dict[str, float]:
    """Median wall time of ``python -c code`` for each of ``codes`` (interpreter start,
    imports, open, query), run in turns."""
    samples: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(repeat):
        for name, code in codes.items():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            samples[name].append(time.perf_counter() - t)
    return {name: statistics.median(xs) for name, xs in samples.items()}


def bench(catalog: Path, repeat: int, names: list[str]) -> dict:
    import duckdb

    from seamless_catalog.catalog import Catalog

    db = Path(tempfile.mkdtemp()) / "native.duckdb"
    _native(catalog, db)
    native = duckdb.connect(str(db), read_only=True)
    cat = Catalog.open(catalog)
    computed = Catalog.open(catalog, derived=False)
    fid = cat.value("select file_id from files order by file_id limit 1")
    out = {}
    for name in names:
        sql, wanted = QUERIES[name]
        params = {"fid": fid} if wanted else None
        before = load()
        warm = _interleaved(
            {
                "ours": lambda s=sql, p=params: cat.sql(s, p).fetchall(),
                "computed": lambda s=sql, p=params: computed.sql(s, p).fetchall(),
                "native": lambda s=sql, p=params: native.execute(s, p).fetchall(),
            },
            repeat,
        )
        code = (
            "from seamless_catalog.catalog import Catalog; "
            f"Catalog.open({str(catalog)!r}).sql({sql!r}, {params!r}).fetchall()"
        )
        fresh = _fresh({"ours": code, "floor": FLOOR}, repeat)
        out[name] = {
            "ours_warm_s": warm["ours"],
            "computed_warm_s": warm["computed"],
            "native_warm_s": warm["native"],
            "ours_fresh_s": fresh["ours"],
            "floor_fresh_s": fresh["floor"],
            "load": before,
        }
    out["_prebuilt"] = cat.prebuilt
    return out


def _quick_catalog() -> Path:
    from seamless_catalog.ingestion.pipeline import ingest
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
    prebuilt = results.pop("_prebuilt")
    print(f"{machine()}\ncatalog {catalog}; medians of {args.repeat} runs; {NOTE}")
    print(f"catalog.duckdb attached: {prebuilt}")
    print(
        f"{'query':<18}{'ours ms':>10}{'computed ms':>13}{'native ms':>11}{'ours/nat':>10}"
        f"{'comp/nat':>10}{'fresh ms':>10}{'floor ms':>10}  load at start"
    )
    ours, comp = [], []
    for name, r in results.items():
        ours.append(r["ours_warm_s"] / r["native_warm_s"])
        comp.append(r["computed_warm_s"] / r["native_warm_s"])
        print(
            f"{name:<18}{r['ours_warm_s'] * 1e3:>10.1f}{r['computed_warm_s'] * 1e3:>13.1f}"
            f"{r['native_warm_s'] * 1e3:>11.1f}{ours[-1]:>10.3f}{comp[-1]:>10.2f}"
            f"{r['ours_fresh_s'] * 1e3:>10.0f}{r['floor_fresh_s'] * 1e3:>10.0f}  {r['load']}"
        )
    print(
        "geometric mean ratio (views over Parquet / native tables): "
        f"ours {statistics.geometric_mean(ours):.3f}, "
        f"computed (no derived tables) {statistics.geometric_mean(comp):.2f}"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
