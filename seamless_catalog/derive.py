"""Derived tables: the rows of the expensive views, stored with the snapshot that feeds them.

The views of ``sql/`` stay the one definition. When an ingest has assembled a snapshot (before
it commits), DuckDB computes the views that ``schema.DERIVED`` declares over that snapshot and
their rows are written as Parquet tables beside the others; the views then read those tables
(:func:`views.stored_view_sql`). Each row records the view definitions that computed it
(``source_unit = 'derive:<version>'``); rows of other definitions are never used.

Incremental: rows are recomputed for the interactions whose inputs changed: every file of an
interaction one of whose files has rows, old or new, from a unit this run read or removed.
A change to a table not keyed by file (the filelist, the asset CSVs) or to the definitions
recomputes everything. Interactions are computed in chunks, which bounds memory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import duckdb

from . import catalog, schema, store, views

CHUNK_INTERACTIONS = 2_500  # interactions computed at once: ~400 MB at most (0.1 scale, measured)
# views kept as tables within a chunk, in dependency order, for the views built on them
MATERIALIZE = ("files", "pairs", "vad_files", "speech_segments", "ipus", "pair_ipus")
EVERYTHING = None  # scope: recompute every row


@cache
def inputs() -> frozenset[str]:
    """The ingested tables the views read (``raw.<table>`` in any view file)."""
    text = "\n".join(vf.sql for vf in views.view_files())
    return frozenset(re.findall(r"\braw\.([a-z_]+)", text)) & frozenset(schema.TABLES)


def _file_keyed(name: str) -> bool:
    return name != "files" and "file_id" in schema.table(name).schema.names


def write_derived(
    writer: store.SnapshotWriter, changed_units: Sequence[str] | None = None
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
    writer: store.SnapshotWriter, changed_units: Sequence[str] | None
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
                f"SELECT file_id FROM ({store.select_sql(name, files)}) "
                "WHERE source_unit IN (SELECT unnest($units))"
            )
    rows = con.execute(" UNION ".join(parts), {"units": list(changed_units)}).fetchall()
    return sorted(r[0] for r in rows if r[0] is not None)


def _up_to_date(writer: store.SnapshotWriter, prev: store.Manifest) -> bool:
    """Whether the previous snapshot holds every derived table, computed by these definitions
    (the files table is never empty when there is anything to derive)."""
    if any(name not in prev.tables for name in schema.DERIVED):
        return False
    rel = store.select_sql("derived_files", prev.files(writer.root, "derived_files"))
    (got,) = writer.con.execute(
        f"SELECT min(source_unit), max(source_unit) FROM ({rel})"
    ).fetchall()
    want = views.derived_source_unit()
    return got == (want, want)


def _merged_sql(writer: store.SnapshotWriter, t: schema.Table, everything: bool) -> str:
    if everything:
        return "SELECT * FROM _derive_new_" + t.view
    key = schema.quote_ident(t.replace_key)
    old = store.select_sql(t.name, writer.previous.files(writer.root, t.name))
    return (
        f"SELECT o.* FROM ({old}) o ANTI JOIN _derive_scope s ON o.{key} = s.{key} "
        f"UNION ALL BY NAME SELECT * FROM _derive_new_{t.view}"
    )


def _compute(writer: store.SnapshotWriter, scope: list[str] | None) -> None:
    """Compute the derived views for ``scope`` on a connection of our own; hand the rows (and
    the scope's keys) to the writer's database as tables ``_derive_new_<view>``/``_derive_scope``
    (tables, not registered views: every cursor of the writer's connection sees them)."""
    root = writer.root.resolve()
    manifest = store.Manifest(0, "derive", "", dict(writer.tables))
    con = catalog.connect()
    try:
        con.execute("SET parquet_metadata_cache = true")
        _scope_table(con, root, manifest, scope)
        con.execute("CREATE TABLE _chunk (file_id VARCHAR)")
        n_chunks = con.execute("SELECT coalesce(max(chunk) + 1, 0) FROM _scope").fetchall()[0][0]
        whole = scope is EVERYTHING and n_chunks <= 1  # nothing to filter out
        views.create_base_views(con, root, manifest, where=None if whole else _restricted)
        views.apply_views(con)
        for i in range(max(n_chunks, 1)):
            _compute_chunk(con, i, first=i == 0)
        unit = views.derived_source_unit()
        handover = {"_derive_scope": "SELECT DISTINCT file_id, interaction_key FROM _scope"}
        for t in schema.DERIVED.values():
            cols = ", ".join(
                schema.quote_ident(f.name) for f in t.schema if f.name != "source_unit"
            )
            handover[f"_derive_new_{t.view}"] = (
                f"SELECT {cols}, {store.sql_literal(unit)} AS source_unit FROM _out_{t.view}"
            )
        for name, sql in handover.items():
            arrow = con.sql(sql).to_arrow_table()
            writer.con.register("_derive_arrow", arrow)
            try:
                writer.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _derive_arrow")
            finally:
                writer.con.unregister("_derive_arrow")
    finally:
        con.close()


def _restricted(name: str) -> str | None:
    """The filter on base view ``name`` while deriving: the files of the current chunk."""
    if name == "files" or (name in inputs() and _file_keyed(name)):
        return "file_id IN (SELECT file_id FROM main._chunk)"
    return None


def _scope_table(con, root, manifest, scope) -> None:
    """``_scope``: (file_id, interaction_key, chunk) of every file whose rows are recomputed:
    all files of each interaction that has a file in ``scope``; chunks of whole interactions."""
    files = store.select_sql("files", manifest.files(root, "files"))
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
