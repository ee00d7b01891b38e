"""A catalog snapshot opened for SQL: the views over its Parquet files, read-only user SQL."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from ..errors import BadQuery, QueryError, UnsafeQuery
from . import schema, snapshots, views

# What SQL from a user may be: reading, never writing, attaching, installing or setting.
READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
# DuckDB 2 refuses a query on a connection whose streamed result is open (1.x has no such
# exception: its .arrow() reads the whole result)
_BUSY = getattr(duckdb, "ResourceInUseException", ())
_EXPLAIN = re.compile(r"^\s*explain\s+(analyze\s+)?", re.IGNORECASE)
# DuckDB's errors that mean the SQL itself must change (it does not parse, names what the
# catalog lacks, or reaches outside the sandbox), as against errors of running it (a
# conversion, memory, I/O)
_BAD_SQL = (
    duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
    duckdb.PermissionException,
)  # fmt: skip


def is_interrupt(e: BaseException) -> bool:
    """A Ctrl-C that DuckDB turned into an error while a query ran (``RuntimeError: Query
    interrupted`` in 2.x, ``InterruptException`` in 1.x): it means KeyboardInterrupt."""
    interrupt = getattr(duckdb, "InterruptException", ())
    if interrupt and isinstance(e, interrupt):
        return True
    return type(e) is RuntimeError and str(e).strip() == "Query interrupted"


def query_failed(e: duckdb.Error) -> QueryError:
    """The QueryError a DuckDB error of user SQL stands for: :class:`BadQuery` when the SQL
    must change, else a plain QueryError. One place for ``sql()`` and for fetching rows."""
    if isinstance(e, _BAD_SQL):
        return BadQuery(f"query failed: {e}")
    return QueryError(f"query failed: {e}")


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never downloads or autoloads extensions."""
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return duckdb.connect(":memory:", config=config)


class CatalogDB:
    """A snapshot of a catalog directory, queryable with SQL.

    >>> cat = CatalogDB.open("catalog")                            # doctest: +SKIP
    >>> cat.sql("select * from pairs limit 5").pl()              # doctest: +SKIP
    """

    def __init__(
        self,
        root: Path,
        manifest: snapshots.Manifest | None,
        *,
        sandbox: bool = False,
        allow_paths: Sequence[str | Path] = (),
        memory_limit: str | None = None,
        derived: bool = True,
    ) -> None:
        self.root = Path(root)
        self.manifest = manifest
        self.con = connect()
        self._last = self.con  # where the last query ran (see sql)
        self.prebuilt = (
            derived
            and manifest is not None
            and views.attach_catalog_duckdb(self.con, self.root, manifest.snapshot, manifest.run_id)
        )
        if not self.prebuilt:
            views.create_base_views(self.con, self.root.resolve(), manifest)
            stored = views.stored_views(self.con, manifest) if derived else set()
            views.apply_views(self.con, stored=stored)
        if sandbox:
            self._sandbox(allow_paths, memory_limit)

    @classmethod
    def open(cls, path: str | Path, **options: Any) -> CatalogDB:
        """Open the current snapshot of the catalog at ``path``. ``sandbox=True`` confines the
        connection's file access to the catalog (plus ``allow_paths``) and locks its settings.

        The views of ``catalog.duckdb`` are attached when it was built for this snapshot (no
        view is bound again); views with a derived table read it. ``derived=False`` computes
        every view from the ingested tables instead (slower; what the derived tables store)."""
        root = Path(path)
        return cls(root, snapshots.require_manifest(root), **options)

    def _sandbox(self, allow_paths: Sequence[str | Path], memory_limit: str | None) -> None:
        dirs = [str(Path(p).resolve()) + "/" for p in (self.root, *allow_paths)]
        if self.prebuilt and self.manifest:  # its views name files relative to the catalog
            tables = self.manifest.tables.values()  # data/<table>/<token>/ only: a folder of
            # that name under the cwd is all it opens up
            dirs += sorted({"/".join(Path(f).parts[:3]) + "/" for fs in tables for f in fs})
        listed = ", ".join(snapshots.sql_literal(d) for d in dirs)
        self.con.execute(f"SET allowed_directories = [{listed}]")
        self.con.execute("SET enable_external_access = false")
        if memory_limit:
            self.con.execute(f"SET memory_limit = {snapshots.sql_literal(memory_limit)}")
        self.con.execute("SET lock_configuration = true")

    @property
    def snapshot(self) -> int:
        return self.manifest.snapshot if self.manifest else 0

    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None):
        """Run SQL over the views; a DuckDB relation (``.pl()``, ``.arrow()``, ``.df()``).

        A result left open (DuckDB 2's ``.arrow()`` is a streaming reader) never blocks the
        next query: that one runs on another cursor of the same database (same views and
        settings). The catalog's own connection is used whenever it is free, else the cursor
        the last query ran on: a temp table made while a result is open is seen by the
        queries after it (select.selection and select.windows rely on that)."""
        try:
            return self._free_connection().sql(query, params=params)
        except duckdb.Error as e:
            raise query_failed(e) from e

    def _free_connection(self) -> duckdb.DuckDBPyConnection:
        for con in dict.fromkeys((self.con, self._last)):
            try:
                con.execute("SELECT 1").fetchall()  # refused while a streamed result is open
            except _BUSY:
                continue
            self._last = con
            return con
        cur = self.con.cursor()
        if self.prebuilt:
            cur.execute(f"USE {views.ATTACHED}")  # USE is per connection
        self._last = cur
        return cur

    def query(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        max_rows: int | None = None,
    ):
        """Run SQL from a user: one SELECT (or EXPLAIN), nothing that writes, attaches, installs
        or changes settings; at most ``max_rows`` rows when given."""
        rel = self.sql(check_read_only(sql), params)
        return rel.limit(max_rows) if max_rows is not None else rel

    def value(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """The first column of the first row of ``query`` (None when it returns no row)."""
        rows = self.sql(query, params).limit(1).fetchall()
        return rows[0][0] if rows else None

    def views(self) -> list[tuple[str, str]]:
        """(name, description) of every view, in the order they are defined."""
        return [(v.name, v.description) for v in views.view_files()]

    def columns(self, name: str) -> list[tuple[str, str]]:
        """(column, type) of a view or table, as DuckDB describes it."""
        rel = self.sql(f"describe {schema.quote_ident(name)}")
        return [(r[0], r[1]) for r in rel.fetchall()]

    def tables(self) -> list[str]:
        return sorted(self.manifest.tables) if self.manifest else []

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> CatalogDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_read_only(sql: str) -> str:
    """The one statement of ``sql`` if it only reads (SELECT, or EXPLAIN of one; EXPLAIN ANALYZE
    runs what it explains); else :class:`UnsafeQuery`."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise BadQuery(f"query does not parse: {e}") from e
    if len(statements) != 1:
        raise UnsafeQuery(f"expected one statement, found {len(statements)}")
    stmt = statements[0]
    if stmt.type == duckdb.StatementType.EXPLAIN:
        check_read_only(_EXPLAIN.sub("", stmt.query, count=1))
    elif stmt.type not in READ_ONLY_STATEMENTS:
        raise UnsafeQuery(f"{stmt.type.name} statements are not allowed")
    return stmt.query
