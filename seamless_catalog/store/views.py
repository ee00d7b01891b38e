"""The SQL views: ``sql/NN_<view>.sql`` files over ``raw.<table>`` base views.

Python owns the physical paths: :func:`create_base_views` makes one ``raw.<table>``
view per table over the snapshot's Parquet files; the files in ``sql/`` only
name logical tables and views. Each view file holds one
``create or replace view <stem> as ...``, its first line a ``--`` description,
and files apply in name order.

A view whose rows the ingest stored as a derived table (``schema.DERIVED``, see
:mod:`seamless_catalog.store.derive`) reads that table instead of recomputing: the view file
stays its one definition (the ingest computes it), :func:`stored_view_sql` only points
the name at the result. Both are valid for the :func:`definitions_version` they were
built with; ``catalog.duckdb`` records it, so that a reader can attach the prebuilt views
instead of binding every view again (:func:`attach_catalog_duckdb`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from ..errors import ViewDefinitionError
from . import schema, snapshots

_NAME_RE = re.compile(r"^\d{2}_([a-z][a-z0-9_]*)\.sql$")
_CREATE_RE = re.compile(r"create\s+or\s+replace\s+view\s+([a-z_][a-z0-9_]*)\s+as\b", re.I)


@dataclass(frozen=True)
class ViewFile:
    name: str
    path: Path
    description: str
    sql: str


def sql_dir() -> Path:
    """The view files, inside the package (``seamless_catalog/store/sql``)."""
    return Path(__file__).parent / "sql"


def _parse(path: Path) -> ViewFile:
    m = _NAME_RE.match(path.name)
    if not m:
        raise ViewDefinitionError(f"{path}: name must be NN_<view>.sql (lowercase view name)")
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    if not first.startswith("--") or not first[2:].strip():
        raise ViewDefinitionError(f"{path}:1: the first line must be a -- description")
    creates = _CREATE_RE.findall(text)
    if creates != [m.group(1)]:
        raise ViewDefinitionError(
            f"{path}: must create exactly one view named {m.group(1)!r}, found {creates}"
        )
    return ViewFile(m.group(1), path, first[2:].strip(), text)


@cache
def view_files(directory: Path | None = None) -> tuple[ViewFile, ...]:
    d = directory or sql_dir()
    return tuple(_parse(p) for p in sorted(d.glob("*.sql")))


def _line_of(error: str, sql: str) -> str:
    """DuckDB reports 'LINE n:' for parser errors; pass it through, else say line 1."""
    m = re.search(r"LINE (\d+):", error)
    return m.group(1) if m else "1"


# Bump when what this module generates changes (base or stored views, catalog.duckdb layout):
# a catalog.duckdb of another format is not attached.
FORMAT = 4


@cache
def definitions_version(directory: Path | None = None) -> str:
    """A digest of the view files: derived rows computed by other definitions are not used
    (the views are computed instead) and the next ingest recomputes them."""
    h = hashlib.sha256()
    for vf in view_files(directory):
        h.update(f"{vf.path.name}\n{vf.sql}\n".encode())
    return h.hexdigest()[:16]


def prebuilt_version() -> str:
    """What catalog.duckdb records: this module's format and the view definitions."""
    return f"{FORMAT}-{definitions_version()}"


def apply_views(
    con: duckdb.DuckDBPyConnection,
    files: tuple[ViewFile, ...] | None = None,
    stored: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Create the views in name order; those named in ``stored`` read their derived table."""
    for vf in files if files is not None else view_files():
        sql = stored_view_sql(vf.name) if vf.name in stored else vf.sql
        try:
            con.execute(sql)
        except duckdb.Error as e:
            raise ViewDefinitionError(
                f"{vf.path}:{_line_of(str(e), vf.sql)}: view {vf.name} failed: {e}"
            ) from e


def stored_view_sql(view: str) -> str:
    """``view`` over the derived table that stores its rows (columns in the view's order)."""
    t = schema.derived_for(view)
    cols = ", ".join(schema.quote_ident(n) for n in t.names if n != "source_unit")
    return (
        f"CREATE OR REPLACE VIEW {schema.quote_ident(view)} AS "
        f"SELECT {cols} FROM raw.{schema.quote_ident(t.name)}"
    )


def base_view_sql(
    root: Path,
    manifest: snapshots.Manifest | None,
    name: str,
    where: str | None = None,
    relative: bool = False,
) -> str:
    """``raw.<name>`` over the snapshot's files of table ``name``, by absolute path, or with
    ``relative`` by path relative to ``root`` (resolved through DuckDB's file_search_path)."""
    files = manifest.files(root, name) if manifest else []
    # DuckDB estimates the rows of a scan over several files from the first one: listing the
    # largest first keeps join orders sane (a small first partition made one query 20x slower)
    files.sort(key=_size, reverse=True)
    if relative:
        files = [f.relative_to(root) for f in files]
    body = snapshots.select_sql(name, files)
    if where:
        body = f"SELECT * FROM ({body}) WHERE {where}"
    return f"CREATE OR REPLACE VIEW raw.{schema.quote_ident(name)} AS {body}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def create_base_views(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    manifest: snapshots.Manifest | None,
    where: Callable[[str], str | None] | None = None,
    relative: bool = False,
) -> None:
    """One ``raw.<table>`` view per table (derived ones too); ``where(name)`` may filter one."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name in (*schema.TABLES, *schema.DERIVED):
        con.execute(base_view_sql(root, manifest, name, where(name) if where else None, relative))


def stored_views(con: duckdb.DuckDBPyConnection, manifest: snapshots.Manifest | None) -> set[str]:
    """The views whose derived table the snapshot holds, built from these view definitions
    (its rows carry ``source_unit = 'derive:<version>'``); over base views made by
    :func:`create_base_views`. A table without rows tells nothing: it is not used."""
    if manifest is None:
        return set()
    return {
        t.view
        for t in schema.DERIVED.values()
        if manifest.tables.get(t.name)
        and computed_by_these_definitions(con, f"raw.{schema.quote_ident(t.name)}")
    }


def computed_by_these_definitions(con: duckdb.DuckDBPyConnection, derived: str) -> bool:
    """Whether every row of ``derived`` (a derived table's relation) was computed by the
    current view definitions."""
    want = derived_source_unit()
    got = con.execute(f"SELECT min(source_unit), max(source_unit) FROM {derived}").fetchall()
    return got[0] == (want, want)


def derived_source_unit() -> str:
    """The ``source_unit`` of every derived row: which view definitions computed it."""
    return f"derive:{definitions_version()}"


# catalog.duckdb is written in the storage format of the oldest DuckDB we support, so that
# 1.x clients and CLIs open it (DuckDB 2 writes a format they refuse by default)
STORAGE_VERSION = "v1.2.0"


def write_catalog_duckdb(root: Path, manifest: snapshots.Manifest, install: bool = True) -> Path:
    """(Re)write ``catalog.duckdb``: every view, openable without us by any DuckDB from
    :data:`STORAGE_VERSION` on. Paths are relative to the catalog folder, so a copied or moved
    catalog keeps working: a client opens it from inside the folder, or sets
    ``file_search_path`` to it (:func:`attach_catalog_duckdb` does).

    With ``install=False`` the file is only built, under a temp name that is returned: the
    ingest builds it before it commits the manifest (a full disk then changes nothing) and
    renames it into place with :func:`install_catalog_duckdb` after."""
    tmp = root / f".catalog.duckdb.{manifest.snapshot}.tmp"  # dot-name: removed by store GC
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        search_in(con, root)  # views are bound as they are made: relative paths must resolve
        con.execute("BEGIN TRANSACTION")
        create_base_views(con, root.resolve(), manifest, relative=True)
        apply_views(con, stored=stored_views(con, manifest))
        con.execute(
            "CREATE TABLE raw._snapshot AS SELECT ? AS snapshot, ? AS run_id, ? AS version",
            [manifest.snapshot, manifest.run_id, prebuilt_version()],
        )
        con.execute("COMMIT")
    finally:
        con.close()
    Path(f"{tmp}.wal").unlink(missing_ok=True)
    return install_catalog_duckdb(root, tmp) if install else tmp


def install_catalog_duckdb(root: Path, built: Path) -> Path:
    target = root / "catalog.duckdb"
    built.replace(target)
    return target


ATTACHED = "seamless"  # the name a Catalog's connection gives catalog.duckdb


def attach_catalog_duckdb(
    con: duckdb.DuckDBPyConnection, root: Path, snapshot: int, run_id: str
) -> bool:
    """Attach ``root/catalog.duckdb`` read-only and make it the default database, when it was
    built for this snapshot from these view definitions (wherever the folder now is); else
    leave ``con`` as it was and return False. Nothing is bound again: opening costs a few
    milliseconds."""
    path = root / "catalog.duckdb"
    if not path.exists():
        return False
    try:
        con.execute(f"ATTACH {snapshots.sql_literal(path)} AS {ATTACHED} (READ_ONLY)")
    except duckdb.Error:
        return False
    try:
        got = con.execute(
            f"SELECT snapshot, run_id, version FROM {ATTACHED}.raw._snapshot"
        ).fetchall()[0]
    except duckdb.Error:
        got = None  # built by an older version: no version recorded
    if got != (snapshot, run_id, prebuilt_version()):
        con.execute(f"DETACH {ATTACHED}")
        return False
    search_in(con, root)
    con.execute(f"USE {ATTACHED}")
    return True


def search_in(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Resolve relative paths (those of catalog.duckdb's views) against the catalog folder,
    for every cursor of ``con``'s database."""
    value = snapshots.sql_literal(root.resolve())
    try:
        con.execute(f"SET GLOBAL file_search_path = {value}")
    except duckdb.CatalogException:  # DuckDB 1.x: a session setting (and no cursor is needed)
        con.execute(f"SET file_search_path = {value}")
