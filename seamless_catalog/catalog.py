"""The Python API: open a catalog, run SQL over its views, get DuckDB/Polars/Arrow back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from . import store, views
from .errors import QueryError, UnsafeQuery, UsageError

# What SQL from a user may be: reading, never writing, attaching, installing or setting.
READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_EXPLAIN = re.compile(r"^\s*explain\s+(analyze\s+)?", re.IGNORECASE)


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

    def __init__(
        self,
        root: Path,
        manifest: store.Manifest | None,
        *,
        sandbox: bool = False,
        allow_paths: Sequence[str | Path] = (),
        memory_limit: str | None = None,
        derived: bool = True,
    ) -> None:
        self.root = Path(root)
        self.manifest = manifest
        self.con = connect()
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
    def open(cls, path: str | Path, **options: Any) -> Catalog:
        """Open the current snapshot of the catalog at ``path``. ``sandbox=True`` confines the
        connection's file access to the catalog (plus ``allow_paths``) and locks its settings.

        The views of ``catalog.duckdb`` are attached when it was built for this snapshot (no
        view is bound again); views with a derived table read it. ``derived=False`` computes
        every view from the ingested tables instead (slower; what the derived tables store)."""
        root = Path(path)
        return cls(root, store.require_manifest(root), **options)

    def _sandbox(self, allow_paths: Sequence[str | Path], memory_limit: str | None) -> None:
        dirs = [str(Path(p).resolve()) + "/" for p in (self.root, *allow_paths)]
        listed = ", ".join(store.sql_literal(d) for d in dirs)
        self.con.execute(f"SET allowed_directories = [{listed}]")
        self.con.execute("SET enable_external_access = false")
        if memory_limit:
            self.con.execute(f"SET memory_limit = {store.sql_literal(memory_limit)}")
        self.con.execute("SET lock_configuration = true")

    @property
    def snapshot(self) -> int:
        return self.manifest.snapshot if self.manifest else 0

    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None):
        """Run SQL over the views; a DuckDB relation (``.pl()``, ``.arrow()``, ``.df()``)."""
        try:
            return self.con.sql(query, params=params)
        except duckdb.Error as e:
            raise QueryError(f"query failed: {e}") from e

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

    def tables(self) -> list[str]:
        return sorted(self.manifest.tables) if self.manifest else []

    # ------------------------------------------------------------ samples (seamless_catalog.access)

    def load(self, file_id: str, modalities=("json", "mp4", "npz", "wav"), media=None,
             source=None, settings=None):  # fmt: skip
        """One :class:`~seamless_catalog.access.decode.Sample`: parsed JSON, NPZ arrays, float32
        audio with its rate, video path or bytes. Reads the materialized files under ``media``
        when present, else byte ranges of ``source`` (default: the Hub)."""
        from .access.load import load_many

        return load_many(self, [file_id], modalities, media, source, settings)[0]

    def load_pair(self, interaction_key: str, modalities=("json", "mp4", "npz", "wav"),
                  media=None, source=None, settings=None):  # fmt: skip
        """(a, b): both sides of one interaction, in file_id order as in ``pairs``."""
        from .access.load import load_many, pair_file_ids

        ids = pair_file_ids(self, interaction_key)
        if len(ids) != 2:
            raise UsageError(f"{interaction_key} has {len(ids)} file(s), not a pair")
        a, b = load_many(self, ids, modalities, media, source, settings)
        return a, b

    def stream(self, sql: str, **options: Any):
        """Samples of a selection by byte-range reads, ordered/sharded/resumable: see
        :class:`~seamless_catalog.access.stream.SampleStream` for the options."""
        from .access.stream import SampleStream

        return SampleStream(self, sql, **options)

    def torch_dataset(self, sql: str, **options: Any):
        """A PyTorch ``IterableDataset`` over ``stream(sql, **options)``, split by rank and
        DataLoader worker (imports torch)."""
        from .access.torchdata import SeamlessIterableDataset

        return SeamlessIterableDataset(self.root, sql, **options)

    def export(self, sql: str, to: str | Path, **options: Any):
        """Write the selection as WebDataset shards plus ``index.json`` under ``to``."""
        from .access.export import export_webdataset

        return export_webdataset(self, sql, to, **options)

    # ------------------------------------------------- upstream equivalents (access.upstream)

    def random_file_ids(self, n: int = 1, seed: int = 0, label=None, split=None) -> list[str]:
        from .access import upstream

        return upstream.random_file_ids(self, n, seed, label, split)

    def interaction_pairs(self, n: int = 1, seed: int = 0, interaction_keys=None, label=None,
                          split=None) -> list[tuple[str, str]]:  # fmt: skip
        from .access import upstream

        return upstream.interaction_pairs(self, n, seed, interaction_keys, label, split)

    def session_groups(self, n: int = 1, seed: int = 0, session_keys=None,
                       interactions_per_session=None, label=None, split=None):  # fmt: skip
        from .access import upstream

        return upstream.session_groups(
            self, n, seed, session_keys, interactions_per_session, label, split
        )

    def batches(self, label=None, split=None):
        from .access import upstream

        return upstream.batches(self, label, split)

    def archives(self, label=None, split=None, batch=None):
        from .access import upstream

        return upstream.archives(self, label, split, batch)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_read_only(sql: str) -> str:
    """The one statement of ``sql`` if it only reads (SELECT, or EXPLAIN of one; EXPLAIN ANALYZE
    runs what it explains); else :class:`UnsafeQuery`."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryError(f"query does not parse: {e}") from e
    if len(statements) != 1:
        raise UnsafeQuery(f"expected one statement, found {len(statements)}")
    stmt = statements[0]
    if stmt.type == duckdb.StatementType.EXPLAIN:
        check_read_only(_EXPLAIN.sub("", stmt.query, count=1))
    elif stmt.type not in READ_ONLY_STATEMENTS:
        raise UnsafeQuery(f"{stmt.type.name} statements are not allowed")
    return stmt.query
