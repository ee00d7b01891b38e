"""Moment views benchmark: one interaction's rows, one file's rows and the whole view, for the
VAD-derived views users filter by interaction (the dashboard's Browse asks ``moments`` for one
interaction on every visit).

    python scripts/bench_moment_views.py --catalog CAT                # every view, 3 rounds
    python scripts/bench_moment_views.py --catalog CAT --views moments --rounds 5
    PYTHONPATH=/tmp/old python scripts/bench_moment_views.py --catalog OLD_CAT   # baseline

The catalog is opened as users open it (``CatalogDB.open``: catalog.duckdb attached, stored
views read their derived tables). Each round times ``count(*)`` of the view filtered by one
interaction_key, by one file_id (views that have one), then unfiltered; interactions and files
change from round to round (the busiest interactions by IPUs, so that the figure is a worst
case). Reported: median seconds and min..max. The baseline is the same script run on the old
code (PYTHONPATH at an export of it) over a catalog it ingested, in turns with this one.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench_common import NOTE, machine, median, spread

VIEWS = (
    "pair_ipus", "turn_intervals", "floor_ipus", "turn_events", "turn_shifts", "turn_holds",
    "backchannels", "listening_segments", "annotation_moments", "ipu_moments", "moments",
    "turn_taking", "speech_activity",
)  # fmt: skip


def timed(cat, sql: str, params=None) -> float:
    t = time.perf_counter()
    cat.sql(sql, params).fetchall()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--views", default=",".join(VIEWS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-whole", action="store_true", help="skip the unfiltered queries")
    args = ap.parse_args()

    from seamless_catalog.store.catalogdb import CatalogDB

    print(machine())
    cat = CatalogDB.open(args.catalog)
    picks = cat.sql(
        "select p.interaction_key, p.file_id_a from pairs p join speech_activity s "
        "on s.file_id = p.file_id_a order by s.n_ipus desc nulls last, 1 limit ?",
        [args.rounds],
    ).fetchall()
    print(f"catalog {args.catalog}: {cat.value('select count(*) from files')} files; "
          f"interactions {[k for k, _ in picks]}")  # fmt: skip
    print(f"{'view':<20} {'interaction s':>14} {'file s':>14} {'whole s':>14}")
    for view in args.views.split(","):
        cols = [c for c, _ in cat.columns(view)]
        got: dict[str, list[float]] = {"key": [], "file": [], "all": []}
        for key, fid in picks:
            if "interaction_key" in cols:
                q = f"select count(*) from {view} where interaction_key = ?"
                got["key"].append(timed(cat, q, [key]))
            if "file_id" in cols:
                got["file"].append(
                    timed(cat, f"select count(*) from {view} where file_id = ?", [fid])
                )
            if not args.no_whole:
                got["all"].append(timed(cat, f"select count(*) from {view}"))
        cells = [f"{median(v):6.3f} {spread(v):>7}" if v else f"{'-':>14}" for v in got.values()]
        print(f"{view:<20} " + " ".join(cells), flush=True)
    print(machine().split("; ")[-1])
    print(f"note: {NOTE}")


if __name__ == "__main__":
    main()
