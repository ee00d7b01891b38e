"""Per-interaction and per-file queries of the VAD-derived views on a generated catalog: the
rows a filter returns are that interaction's (or file's) rows of the whole view, and the
filter reaches the scans (no window of the plan sees another interaction's rows), which is
what makes one interaction's moments cheap (BENCHMARKS.md, "Moment views")."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from seamless_catalog.store.catalogdb import CatalogDB

# views a user filters by interaction_key (and, where they have one, by file_id)
VIEWS = (
    "vad_files", "speech_segments", "ipus", "pair_ipus", "turn_intervals", "floor_ipus",
    "turn_events", "turn_shifts", "turn_holds", "backchannels", "listening_segments",
    "annotation_moments", "ipu_moments", "moments", "turn_taking",
)  # fmt: skip
STORED = ("turn_taking",)
NO_FILE_ID = ("turn_intervals", "turn_events", "turn_taking")
# the views whose filter by interaction_key reaches the VAD scan (turn_taking is stored)
PUSHED = ("speech_segments", "ipus", "pair_ipus", "turn_intervals", "floor_ipus",
          "turn_events", "backchannels", "listening_segments", "moments")  # fmt: skip


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    from seamless_catalog.ingestion.pipeline import ingest
    from seamless_catalog.synth import generate

    base = tmp_path_factory.mktemp("pushdown")
    rel = generate(base / "release", n_files=40, seed=11, layouts=("tree",), metadata_only=True)
    cat = base / "catalog"
    ingest(cat, [str(rel.tree)], filelist=str(rel.filelist), assets=str(rel.assets))
    return cat


@pytest.fixture(scope="module")
def cat(catalog):
    """As users open it: the stored views (files, speech_activity, turn_taking) read their
    derived tables, the others are computed."""
    with CatalogDB.open(catalog) as db:
        yield db


@pytest.fixture(scope="module")
def computed(catalog):
    """Every view computed from its definition (what the ingest stores)."""
    with CatalogDB.open(catalog, derived=False) as db:
        yield db


def rows(cat: CatalogDB, view: str, where: str = "", params=None) -> tuple[list[str], list]:
    rel = cat.sql(f"select * from {view} {where}", params)
    return rel.columns, sorted(rel.fetchall(), key=repr)


def keys(cat: CatalogDB) -> list[str]:
    """A few interactions with moments of several kinds, and a singleton."""
    busy = cat.sql(
        "select interaction_key from moments group by 1 order by count(distinct kind) desc, 1 "
        "limit 3"
    ).fetchall()
    lone = cat.sql("select interaction_key from interactions where n_files = 1 limit 1")
    return [r[0] for r in busy + lone.fetchall()]


@pytest.mark.parametrize("view", VIEWS)
def test_one_interaction_s_rows_are_its_rows_of_the_whole_view(cat, computed, view):
    if view in STORED:
        cat = computed  # the stored rows pass trivially; their definition is what counts
    cols, everything = rows(cat, view)
    k = cols.index("interaction_key")
    tried = Counter()
    for key in keys(cat):
        _, got = rows(cat, view, "where interaction_key = ?", [key])
        assert got == [r for r in everything if r[k] == key], key
        tried[bool(got)] += 1
    assert tried[True] >= 1, f"{view}: no interaction with rows to compare"


@pytest.mark.parametrize("view", [v for v in VIEWS if v not in NO_FILE_ID])
def test_one_file_s_rows_are_its_rows_of_the_whole_view(cat, view):
    cols, everything = rows(cat, view)
    k = cols.index("file_id")
    fids = sorted({r[k] for r in everything if r[k] is not None})[:4]
    if view in ("turn_shifts", "turn_holds"):  # pair moments: file_id is null
        assert fids == []
        return
    assert fids, f"{view}: no file with rows"
    for fid in fids:
        _, got = rows(cat, view, "where file_id = ?", [fid])
        assert got == [r for r in everything if r[k] == fid], fid


def windows_rows(cat: CatalogDB, sql: str, params) -> list[int]:
    """The rows each WINDOW operator of ``sql``'s plan processed (a profiled run)."""
    con = cat.con
    out = cat.root.parent / "profile.json"
    con.execute("SET enable_profiling = 'json'")
    con.execute(f"SET profiling_output = '{out}'")
    try:
        con.execute(sql, params).fetchall()
    finally:
        con.execute("SET enable_profiling = 'no_output'")
        con.execute("PRAGMA disable_profiling")
    found: list[int] = []

    def walk(node):
        if node.get("name") == "WINDOW":
            found.append(node.get("intermediate_rows", node.get("operator_cardinality")))
        for child in node.get("children", []):
            walk(child)

    profile = json.loads(out.read_text())
    for node in profile.get("operator", profile.get("children", [])):
        walk(node)
    return found


@pytest.mark.parametrize("view", PUSHED)
def test_a_filter_by_interaction_reaches_the_scans(catalog, view):
    """Every window of the filtered query sees only the interaction's own VAD rows: the
    filter was pushed below it (before, each query computed every pair)."""
    with CatalogDB.open(catalog) as cat:
        key = keys(cat)[0]
        vad = "select count(*) from raw.vad_segments join files using (file_id)"
        own = cat.value(f"{vad} where interaction_key = ?", [key])
        assert 0 < 8 * own < cat.value(vad)  # a pushed filter is told from a whole computation
        seen = windows_rows(cat, f"select * from {view} where interaction_key = ?", [key])
        assert seen, f"{view}: no window in the plan"
        # listening_segments' windows see its events: 4 per IPU or floor segment at most
        assert max(seen) <= 4 * own, (view, seen, own)
