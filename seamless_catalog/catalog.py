"""The Python API: open a catalog, run SQL over its views, get DuckDB/Polars/Arrow back."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from . import store, views
from .errors import QueryError


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never downloads or autoloads extensions."""
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return duckdb.connect(":memory:", config=config)


class Catalog:
    """A snapshot of a catalog directory, queryable with SQL.

    >>> cat = Catalog.open("catalog")                            # doctest: +SKIP
    >>> cat.sql("select * from pairs limit 5").pl()              # doctest: +SKIP
    """

    def __init__(self, root: Path, manifest: store.Manifest | None) -> None:
        self.root = Path(root)
        self.manifest = manifest
        self.con = connect()
        views.create_base_views(self.con, self.root.resolve(), manifest)
        views.apply_views(self.con)

    @classmethod
    def open(cls, path: str | Path) -> Catalog:
        root = Path(path)
        return cls(root, store.require_manifest(root))

    @property
    def snapshot(self) -> int:
        return self.manifest.snapshot if self.manifest else 0

    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None):
        """Run SQL over the views; a DuckDB relation (``.pl()``, ``.arrow()``, ``.df()``)."""
        try:
            return self.con.sql(query, params=params)
        except duckdb.Error as e:
            raise QueryError(f"query failed: {e}") from e

    def value(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """The first column of the first row of ``query`` (None when it returns no row)."""
        rows = self.sql(query, params).limit(1).fetchall()
        return rows[0][0] if rows else None

    def views(self) -> list[tuple[str, str]]:
        """(name, description) of every view, in the order they are defined."""
        return [(v.name, v.description) for v in views.view_files()]

    def tables(self) -> list[str]:
        return sorted(self.manifest.tables) if self.manifest else []

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
