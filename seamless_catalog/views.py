"""The SQL views: ``sql/NN_<view>.sql`` files over ``raw.<table>`` base views.

Python owns the physical paths: :func:`create_base_views` makes one ``raw.<table>``
view per table over the snapshot's Parquet files; the files in ``sql/`` only
name logical tables and views. Each view file holds one
``create or replace view <stem> as ...``, its first line a ``--`` description,
and files apply in name order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from . import schema, store
from .errors import ViewDefinitionError

_NAME_RE = re.compile(r"^\d{2}_([a-z][a-z0-9_]*)\.sql$")
_CREATE_RE = re.compile(r"create\s+or\s+replace\s+view\s+([a-z_][a-z0-9_]*)\s+as\b", re.I)


@dataclass(frozen=True)
class ViewFile:
    name: str
    path: Path
    description: str
    sql: str


def sql_dir() -> Path:
    """The view files: inside the installed package, or ``sql/`` of a source checkout."""
    packaged = Path(__file__).parent / "sql"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "sql"


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


def apply_views(con: duckdb.DuckDBPyConnection, files: tuple[ViewFile, ...] | None = None) -> None:
    for vf in files if files is not None else view_files():
        try:
            con.execute(vf.sql)
        except duckdb.Error as e:
            raise ViewDefinitionError(
                f"{vf.path}:{_line_of(str(e), vf.sql)}: view {vf.name} failed: {e}"
            ) from e


def base_view_sql(root: Path, manifest: store.Manifest | None, name: str) -> str:
    files = manifest.files(root, name) if manifest else []
    return (
        f"CREATE OR REPLACE VIEW raw.{schema.quote_ident(name)} AS {store.select_sql(name, files)}"
    )


def create_base_views(
    con: duckdb.DuckDBPyConnection, root: Path, manifest: store.Manifest | None
) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name in schema.TABLES:
        con.execute(base_view_sql(root, manifest, name))


def write_catalog_duckdb(root: Path, manifest: store.Manifest, install: bool = True) -> Path:
    """(Re)write ``catalog.duckdb``: every view, with absolute paths, openable without us.

    With ``install=False`` the file is only built, under a temp name that is returned: the
    ingest builds it before it commits the manifest (a full disk then changes nothing) and
    renames it into place with :func:`install_catalog_duckdb` after."""
    tmp = root / f".catalog.duckdb.{manifest.snapshot}.tmp"  # dot-name: removed by store GC
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("BEGIN TRANSACTION")
        create_base_views(con, root.resolve(), manifest)
        apply_views(con)
        con.execute(
            "CREATE TABLE raw._snapshot AS SELECT ? AS snapshot, ? AS run_id",
            [manifest.snapshot, manifest.run_id],
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


def catalog_duckdb_snapshot(root: Path) -> int | None:
    path = root / "catalog.duckdb"
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute("SELECT snapshot FROM raw._snapshot").fetchone()[0]
        finally:
            con.close()
    except duckdb.Error:
        return None
