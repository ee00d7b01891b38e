"""Derived tables: the rows of the expensive views, stored with the snapshot that feeds them.

The views of ``sql/`` stay the one definition. When an ingest has assembled a snapshot (before
it commits), DuckDB computes the views that ``schema.DERIVED`` declares over that snapshot and
their rows are written as Parquet tables beside the others; the views then read those tables
(:func:`views.stored_view_sql`). Each row records the view definitions that computed it
(``source_unit = 'derive:<version>'``); rows of other definitions are never used.

Incremental: rows are recomputed for the interactions whose inputs changed: every file of an
interaction one of whose files has rows, old or new, from a unit this run read or removed.
A change to a table not keyed by file (the filelist, the asset CSVs) or to the definitions
recomputes everything. Interactions are computed in chunks, which bounds memory, on
``WORKERS`` connections at once (one with all the threads measured cheapest, below).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from . import catalogdb, schema, snapshots, views

CHUNK_INTERACTIONS = 5_000  # interactions computed at once by one connection
# connections computing chunks at once, each with its share of the threads. One: at full scale
# (homogeneous, load ~4, 26 chunks of 5,000) one connection with both threads derived in
# 25.7 s / 25.0 CPU s / 596 MB peak RSS, two connections of one thread with chunks of 2,500
# (the setting before) in 28.1 s / 28.2 CPU s / 731 MB, and with chunks of 5,000 in 972 MB; at
# 0.1 scale one connection took 3.2 CPU s, two 4.0 (each builds its views and plans its queries)
WORKERS = 1
# views kept as tables within a chunk, in dependency order, for the views built on them
MATERIALIZE = ("files", "pairs", "vad_files", "speech_segments", "ipus", "pair_ipus")
EVERYTHING = None  # scope: recompute every row


@cache
def inputs() -> frozenset[str]:
    """The ingested tables the views read (``raw.<table>`` in any view file)."""
    text = "\n".join(vf.sql for vf in views.view_files())
    return frozenset(re.findall(r"\braw\.([a-z_]+)", text)) & frozenset(schema.TABLES)


def _file_keyed(name: str) -> bool:
    return name != "files" and "file_id" in schema.table(name).names


def write_derived(
    writer: snapshots.SnapshotWriter, changed_units: Sequence[str] | None = None
) -> dict[str, int]:
    """Write the derived tables of the snapshot ``writer`` is assembling; rows per table written
    (nothing when no input changed). ``changed_units``: the units this run read or removed;
    None recomputes everything whenever an input changed."""
    scope = affected_files(writer, changed_units)
    if scope == []:
        return {}
    rows = {}
    try:
        _compute(writer, scope)
        for t in schema.DERIVED.values():
            rows[t.name] = writer.write_table(t.name, _merged_sql(writer, t, scope is EVERYTHING))
    finally:
        for name in (*(f"_derive_new_{t.view}" for t in schema.DERIVED.values()), "_derive_scope"):
            writer.con.execute(f"DROP TABLE IF EXISTS {name}")
    return rows


def affected_files(
    writer: snapshots.SnapshotWriter, changed_units: Sequence[str] | None
) -> list[str] | None:
    """file_ids whose derived rows must be recomputed ([] = none), or EVERYTHING."""
    prev, now = writer.previous, writer.tables
    if prev is None or not _up_to_date(writer, prev):
        return EVERYTHING
    changed = sorted(n for n in inputs() if prev.tables.get(n, []) != now.get(n, []))
    if not changed:
        return []
    if not changed_units or not all(_file_keyed(n) for n in changed):
        return EVERYTHING  # changed by something other than the units we were told about
    con = writer.con
    parts = []
    for name in changed:
        for files in (prev.files(writer.root, name), [writer.root / p for p in now.get(name, [])]):
            parts.append(
                f"SELECT file_id FROM ({snapshots.select_sql(name, files)}) "
                "WHERE source_unit IN (SELECT unnest($units))"
            )
    rows = con.execute(" UNION ".join(parts), {"units": list(changed_units)}).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def _up_to_date(writer: snapshots.SnapshotWriter, prev: snapshots.Manifest) -> bool:
    """Whether the previous snapshot holds every derived table, computed by these definitions
    (the files table is never empty when there is anything to derive)."""
    if any(name not in prev.tables for name in schema.DERIVED):
        return False
    rel = snapshots.select_sql("derived_files", prev.files(writer.root, "derived_files"))
    return views.computed_by_these_definitions(writer.con, f"({rel})")


def _merged_sql(writer: snapshots.SnapshotWriter, t: schema.Table, everything: bool) -> str:
    if everything:
        return "SELECT * FROM _derive_new_" + t.view
    key = schema.quote_ident(t.replace_key)
    old = snapshots.select_sql(t.name, writer.previous.files(writer.root, t.name))
    return (
        f"SELECT o.* FROM ({old}) o ANTI JOIN _derive_scope s ON o.{key} = s.{key} "
        f"UNION ALL BY NAME SELECT * FROM _derive_new_{t.view}"
    )


def _compute(writer: snapshots.SnapshotWriter, scope: list[str] | None) -> None:
    """Compute the derived views for ``scope``, chunks shared by ``WORKERS`` connections of
    our own; hand the rows (and the scope's keys) to the writer's database as tables
    ``_derive_new_<view>``/``_derive_scope`` (tables, not registered views: every cursor of
    the writer's connection sees them)."""
    root = writer.root.resolve()
    manifest = snapshots.Manifest(0, "derive", "", dict(writer.tables))
    con = catalogdb.connect()
    try:
        _scope_table(con, root, manifest, scope)
        n_chunks = con.execute("SELECT coalesce(max(chunk) + 1, 0) FROM _scope").fetchall()[0][0]
        whole = scope is EVERYTHING and n_chunks <= 1  # nothing to filter out
        share = _Share(
            root,
            manifest,
            con.sql("SELECT * FROM _scope").to_arrow_table(),
            n_chunks=max(n_chunks, 1),
            workers=min(WORKERS, max(n_chunks, 1)),
            filter=None if whole else _restricted(_ranges_only(con, scope)),
        )
        with ThreadPoolExecutor(share.workers, thread_name_prefix="derive") as pool:
            shares = list(pool.map(share.compute, range(share.workers)))
        handover = {
            "_derive_scope": con.sql(
                "SELECT DISTINCT file_id, interaction_key FROM _scope"
            ).to_arrow_table()
        }
        for t in schema.DERIVED.values():
            handover[f"_derive_new_{t.view}"] = pa.concat_tables(s[t.view] for s in shares)
        for name, arrow in handover.items():
            writer.con.register("_derive_arrow", arrow)
            try:
                writer.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _derive_arrow")
            finally:
                writer.con.unregister("_derive_arrow")
    finally:
        con.close()


@dataclass(frozen=True)
class _Share:
    """What each connection computing chunks needs: it takes chunks ``k, k + workers, ...``."""

    root: Path
    manifest: snapshots.Manifest
    scope: pa.Table  # (file_id, interaction_key, chunk)
    n_chunks: int
    workers: int
    filter: Callable[[str], str | None] | None  # on the base views (None: every row)

    def compute(self, k: int) -> dict[str, pa.Table]:
        """The derived views' rows of this share's chunks, per view."""
        con = catalogdb.connect(threads=max(1, (os.cpu_count() or 1) // self.workers))
        try:
            con.execute("SET parquet_metadata_cache = true")
            con.register("_scope_arrow", self.scope)
            con.execute("CREATE TABLE _scope AS SELECT * FROM _scope_arrow")
            con.unregister("_scope_arrow")
            con.execute("CREATE TABLE _chunk (file_id VARCHAR)")
            views.create_base_views(con, self.root, self.manifest, where=self.filter)
            views.apply_views(con)
            for i in range(k, self.n_chunks, self.workers):
                _compute_chunk(con, i, first=i == k)
            unit = snapshots.sql_literal(views.derived_source_unit())
            out = {}
            for t in schema.DERIVED.values():
                cols = ", ".join(schema.quote_ident(n) for n in t.names if n != "source_unit")
                sql = f"SELECT {cols}, {unit} AS source_unit FROM _out_{t.view}"
                out[t.view] = con.sql(sql).to_arrow_table()
            return out
        finally:
            con.close()


def _restricted(ranges_only: bool) -> Callable[[str], str | None]:
    """The filter on each base view while deriving: the files of the current chunk.

    The range (the chunk's least and greatest file_id, constants by the time a query is
    planned) lets the Parquet scan skip the row groups outside it: tables are sorted by
    file_id, and a chunk of consecutive interactions is a narrow range of it (a file_id starts
    with its interaction's key). Without it every chunk read all of each table's file_id
    column. When the range holds the chunk's files and no other (``ranges_only``: every file
    recomputed, chunks in file_id order), it is the whole filter; otherwise the rows are also
    checked against the chunk's list, a semi join on every scan of every view (0.1 scale,
    homogeneous: ~0.5 CPU s of the ~4 that deriving took)."""
    chunk = "" if ranges_only else " AND file_id IN (SELECT file_id FROM main._chunk)"

    def where(name: str) -> str | None:
        if name == "files" or (name in inputs() and _file_keyed(name)):
            return "file_id BETWEEN getvariable('derive_lo') AND getvariable('derive_hi')" + chunk
        return None

    return where


def _ranges_only(con: duckdb.DuckDBPyConnection, scope: list[str] | None) -> bool:
    """Whether each chunk's file_id range holds its files and no other: every file is
    recomputed and, in file_id order, the chunk numbers never go down (true of the release's
    ids, whose interaction key is their fixed-width prefix; checked, not assumed)."""
    if scope is not EVERYTHING:
        return False  # the files between two recomputed ones keep their rows
    down = con.execute(
        "SELECT count(*) FROM (SELECT chunk < lag(chunk) OVER (ORDER BY file_id) AS d "
        "FROM _scope) WHERE d"
    ).fetchall()
    return down[0][0] == 0


def _scope_table(con, root, manifest, scope) -> None:
    """``_scope``: (file_id, interaction_key, chunk) of every file whose rows are recomputed:
    all files of each interaction that has a file in ``scope``; chunks of whole interactions."""
    files = snapshots.select_sql("files", manifest.files(root, "files"))
    where = ""
    if scope is not EVERYTHING:
        where = (
            f"WHERE interaction_key IN (SELECT interaction_key FROM ({files}) "
            "WHERE file_id IN (SELECT unnest($ids))) OR file_id IN (SELECT unnest($ids))"
        )
    con.execute(
        f"""CREATE TABLE _scope AS
        SELECT file_id, interaction_key,
               cast((dense_rank() OVER (ORDER BY interaction_key) - 1) // {CHUNK_INTERACTIONS}
                    AS INTEGER) AS chunk
        FROM ({files}) {where}""",
        {} if scope is EVERYTHING else {"ids": scope},
    )


def _compute_chunk(con: duckdb.DuckDBPyConnection, i: int, first: bool) -> None:
    """Compute chunk ``i``: each view of MATERIALIZE from its definition (over the tables the
    ones before it were kept in), kept as a table; then append the derived views' rows."""
    con.execute("DELETE FROM _chunk")
    con.execute("INSERT INTO _chunk SELECT file_id FROM _scope WHERE chunk = ?", [i])
    con.execute("SET VARIABLE derive_lo = (SELECT min(file_id) FROM _chunk)")
    con.execute("SET VARIABLE derive_hi = (SELECT max(file_id) FROM _chunk)")
    definitions = {vf.name: vf.sql for vf in views.view_files()}
    for v in MATERIALIZE:
        con.execute(definitions[v])
        con.execute(f"CREATE OR REPLACE TABLE _m_{v} AS SELECT * FROM {v}")
        con.execute(f"CREATE OR REPLACE VIEW {v} AS SELECT * FROM _m_{v}")
    for t in schema.DERIVED.values():
        if first:
            con.execute(f"CREATE TABLE _out_{t.view} AS SELECT * FROM {t.view}")
        else:
            con.execute(f"INSERT INTO _out_{t.view} SELECT * FROM {t.view}")
