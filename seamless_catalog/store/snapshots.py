"""The catalog directory on disk: immutable Parquet files and one manifest that names them.

Layout of a catalog directory::

    manifest.json            the current snapshot: which Parquet files make each table
    manifest.prev.json       the snapshot before it (its files are kept for readers in flight)
    catalog.duckdb           views over the current snapshot, for any DuckDB client
    source.json              where media are read from unless told (quickstart: its sample)
    data/<table>/<token>/    Parquet files, hive-partitioned label=/split= for per-file rows
    staging/                 rows parsed by an ingest that has not committed yet (resumable)
    .lock                    held (flock) by the one ingest allowed to write

A snapshot becomes visible in one ``os.replace`` of ``manifest.json``; files are
never modified after they are written, so a reader (or a kill -9 at any moment)
sees the previous catalog or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ..config import DEFAULT_SOURCE
from ..errors import CatalogLocked, CatalogNotFound, IngestInterrupted
from . import schema

MANIFEST = "manifest.json"
PREVIOUS = "manifest.prev.json"
SOURCE = "source.json"
FORMAT_VERSION = 1
# rows sorted by one COPY: a larger sort spills under the ingest's memory limit, which cost
# 1.5x the CPU (full scale, transcript_words, 19 M rows: one COPY vs ranges of ~1.6 M rows)
RANGE_ROWS = 1_500_000
SAMPLE_PER_RANGE = 200  # sampled sort-key values per range, to place the cuts
_PLAIN = re.compile(r"[A-Za-z0-9_-]+")  # partition values used as folder names as they are


@dataclass(frozen=True)
class Manifest:
    snapshot: int
    run_id: str
    created_at: str
    tables: dict[str, list[str]] = field(default_factory=dict)  # paths relative to the catalog
    format_version: int = FORMAT_VERSION

    def files(self, root: Path, name: str) -> list[Path]:
        return [root / p for p in self.tables.get(name, [])]


def read_manifest(root: Path, name: str = MANIFEST) -> Manifest | None:
    path = Path(root) / name
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return Manifest(**data)


def require_manifest(root: Path) -> Manifest:
    m = read_manifest(root)
    if m is None:
        staged = staged_run(root)
        if staged is not None:
            raise IngestInterrupted(root, *staged)
        raise CatalogNotFound(root)
    return m


def record_source(root: Path, source: str | Path) -> None:
    """Make ``source`` the catalog's default media source. A local folder inside the catalog
    is kept relative to it, so a copied or moved catalog keeps reading its own copy."""
    root = Path(root)
    value = str(source)
    if "://" not in value:
        path, home = Path(value).resolve(), root.resolve()
        value = str(path.relative_to(home) if path.is_relative_to(home) else path)
    write_atomic(root / SOURCE, json.dumps({"source": value}).encode())


def default_source(root: Path) -> str:
    """Where media are read from when no source is given: what :func:`record_source` kept,
    else the dataset on the Hub."""
    try:
        value = json.loads((Path(root) / SOURCE).read_text())["source"]
    except FileNotFoundError:
        return DEFAULT_SOURCE
    return value if "://" in value else str(Path(root) / value)


STAGING = "staging"
STAGED_COMMAND = "command.json"  # what the uncommitted run was asked to ingest


def record_staged_command(root: Path, command: dict) -> None:
    """Note what an ingest is asked to do beside its staged batches, so that a catalog whose
    first ingest was interrupted can say how to resume it."""
    folder = Path(root) / STAGING
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / STAGED_COMMAND, json.dumps(command).encode())


def staged_run(root: Path) -> tuple[int, dict] | None:
    """(whole staged batches, the recorded command) of an uncommitted ingest, else None."""
    folder = Path(root) / STAGING
    if not folder.is_dir():
        return None
    batches = sum(1 for b in folder.glob("batch-*") if (b / "DONE.json").exists())
    try:
        command = json.loads((folder / STAGED_COMMAND).read_text())
    except (OSError, ValueError):
        command = {}
    return (batches, command) if batches or command else None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a unique temp file beside ``path``, fsync, rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def flock(path: Path, on_busy: Callable[[], None], shared: bool = False) -> Iterator[None]:
    """Hold an exclusive (or ``shared``) lock on ``path`` (created if needed); the kernel drops
    it if the process dies. When another process holds it, ``on_busy()`` raises, or returns
    and we wait."""
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            on_busy()
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


def write_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the catalog's writer lock: a second writer is refused (CatalogLocked)."""
    root.mkdir(parents=True, exist_ok=True)

    def refuse() -> None:
        raise CatalogLocked(root)

    return flock(root / ".lock", refuse)


def sql_literal(value: str) -> str:
    """A SQL string literal; used only for paths this module made (views cannot bind parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def select_sql(name: str, files: list[Path]) -> str:
    """SELECT over one table's Parquet files, columns in declared order."""
    t = schema.table(name)
    if not files:
        return schema.empty_select_sql(name)
    cols = ", ".join(schema.quote_ident(name) for name in t.names)
    paths = ", ".join(sql_literal(p) for p in files)
    opts = "hive_partitioning = false"
    if t.partition_by:
        types = ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in t.partition_by)
        opts = f"hive_partitioning = true, hive_types = {{{types}}}"
    return f"SELECT {cols} FROM read_parquet([{paths}], {opts})"


class SnapshotWriter:
    """Writes the tables of the next snapshot, then commits it in one rename."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root = Path(root)
        self.con = con
        self.previous = read_manifest(self.root)
        self.tables: dict[str, list[str]] = dict(self.previous.tables) if self.previous else {}
        self.written: set[str] = set()  # tables rewritten for this snapshot

    def write_table(self, name: str, relation_sql: str) -> int:
        """Write the rows of ``relation_sql`` (any columns superset of the table's) as table
        ``name``: cast to the declared schema, sorted, zstd, hive-partitioned. Returns rows."""
        con = self.con
        t = schema.table(name)
        token = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        out = self.root / "data" / name / token
        out.parent.mkdir(parents=True, exist_ok=True)
        casts = ", ".join(
            f"CAST({schema.quote_ident(name)} AS {type_}) AS {schema.quote_ident(name)}"
            for name, type_ in t.columns
        )
        order = ", ".join(schema.quote_ident(c) for c in t.partition_by + t.sort_by)
        body = f"SELECT {casts} FROM ({relation_sql}) ORDER BY {order}"
        # one pass: COPY counts the rows it writes; a table without rows keeps no file
        if t.partition_by:
            n = self._write_partitions(con, t, relation_sql, out)
            if n is None:  # partition values that are not plain names: DuckDB names the folders
                parts = ", ".join(schema.quote_ident(c) for c in t.partition_by)
                n = con.execute(
                    f"COPY ({body}) TO {sql_literal(out)} "
                    f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({parts}))"
                ).fetchone()[0]
        else:
            out.mkdir()
            target = out / "data_0.parquet"
            n = con.execute(
                f"COPY ({body}) TO {sql_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
            ).fetchone()[0]
        files = sorted(out.rglob("*.parquet")) if out.exists() else []
        if not n:
            for f in files:
                f.unlink()
            files = []
        for f in files:
            _fsync_file(f)
        self.tables[name] = [str(f.relative_to(self.root)) for f in files]
        self.written.add(name)
        return n

    def _write_partitions(
        self, con: duckdb.DuckDBPyConnection, t: schema.Table, relation_sql: str, out: Path
    ) -> int | None:
        """Sorted Parquet per partition (``label=../split=../data_<i>.parquet``, the layout of
        DuckDB's PARTITION_BY). A partition of more than ``RANGE_ROWS`` rows is written as
        consecutive ranges of its first sort column, one file each, so that each sort fits in
        the ingest's memory limit. One COPY at a time, each on all of DuckDB's threads (a
        single partitioned COPY writes on one thread; two COPYs at once cost 20 % more CPU at
        full scale). None (nothing written) when a partition value is not a plain name, which
        DuckDB's own partitioned write then escapes."""
        keys = ", ".join(schema.quote_ident(c) for c in t.partition_by)
        parts = dict(
            (tuple(row[:-1]), row[-1])
            for row in con.execute(
                f"SELECT {keys}, count(*) FROM ({relation_sql}) GROUP BY ALL"
            ).fetchall()
        )
        if not all(isinstance(v, str) and _PLAIN.fullmatch(v) for p in parts for v in p):
            return None
        cols = ", ".join(
            f"CAST({schema.quote_ident(name)} AS {type_}) AS {schema.quote_ident(name)}"
            for name, type_ in t.file_columns
        )
        match = " AND ".join(f"{schema.quote_ident(c)} = ?" for c in t.partition_by)
        order = ", ".join(schema.quote_ident(c) for c in t.sort_by)
        rows = f"SELECT * FROM ({relation_sql}) WHERE {match}"

        written = 0
        for values, n_rows in parts.items():
            folder = out.joinpath(*(f"{c}={v}" for c, v in zip(t.partition_by, values)))
            folder.mkdir(parents=True)
            cuts = _cuts(con, rows, values, t.sort_by[0], n_rows)
            for i, (where, bounds) in enumerate(_ranges(t.sort_by[0], cuts)):
                target = folder / f"data_{i}.parquet"
                n = con.execute(
                    f"COPY (SELECT {cols} FROM ({rows}) WHERE {where} ORDER BY {order}) "
                    f"TO {sql_literal(target)} (FORMAT parquet, COMPRESSION zstd)",
                    [*values, *bounds],
                ).fetchone()[0]
                if not n:
                    target.unlink()  # an empty range (cuts from a sample)
                written += n
        return written

    def prepare(self, run_id: str) -> Manifest:
        """The manifest ``commit`` will make visible (to build what depends on it first)."""
        return Manifest(
            snapshot=(self.previous.snapshot + 1) if self.previous else 1,
            run_id=run_id,
            created_at=datetime.now(timezone.utc).isoformat(),
            tables=self.tables,
        )

    def commit(self, run: str | Manifest) -> Manifest:
        manifest = run if isinstance(run, Manifest) else self.prepare(run)
        if self.previous is not None:
            write_atomic(self.root / PREVIOUS, _dump(self.previous))
        write_atomic(self.root / MANIFEST, _dump(manifest))
        return manifest


def _cuts(con: duckdb.DuckDBPyConnection, rows: str, values: tuple, key: str, n_rows: int) -> list:
    """Values of ``key`` that cut ``n_rows`` rows into ranges of about ``RANGE_ROWS`` (none
    when they fit in one), from a reservoir sample."""
    n_ranges = -(-n_rows // RANGE_ROWS)
    if n_ranges <= 1:
        return []
    k = schema.quote_ident(key)
    sample = [
        r[0]
        for r in con.execute(
            f"SELECT {k} FROM ({rows}) WHERE {k} IS NOT NULL "
            f"USING SAMPLE reservoir({n_ranges * SAMPLE_PER_RANGE} ROWS) REPEATABLE (1)",
            list(values),
        ).fetchall()
    ]
    sample.sort()
    cuts = {sample[i * len(sample) // n_ranges] for i in range(1, n_ranges)} if sample else ()
    return sorted(cuts)


def _ranges(key: str, cuts: list) -> list[tuple[str, list]]:
    """(SQL condition, its parameters) of each range between ``cuts``: consecutive, disjoint,
    covering every row (nulls, which sort last, in the last range)."""
    k = schema.quote_ident(key)
    if not cuts:
        return [("true", [])]
    out = [(f"{k} < ?", [cuts[0]])]
    out += [(f"{k} >= ? AND {k} < ?", [lo, hi]) for lo, hi in zip(cuts, cuts[1:])]
    out.append((f"({k} >= ? OR {k} IS NULL)", [cuts[-1]]))
    return out


def _dump(m: Manifest) -> bytes:
    return json.dumps(asdict(m), indent=1, sort_keys=True).encode()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def collect_garbage(root: Path) -> int:
    """Remove data files neither the current nor the previous manifest names, and stale temps."""
    keep: set[Path] = set()
    for name in (MANIFEST, PREVIOUS):
        m = read_manifest(root, name)
        if m:
            keep.update((root / p).resolve() for files in m.tables.values() for p in files)
    removed = 0
    for tmp in root.glob(".*.tmp*"):  # temp files of a writer that was killed (we hold the lock)
        tmp.unlink(missing_ok=True)
    data = root / "data"
    if not data.exists():
        return 0
    for path in data.rglob("*.parquet"):
        if path.resolve() not in keep:
            path.unlink()
            removed += 1
    for d in sorted((p for p in data.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()  # only empty ones
    return removed


def clear_staging(root: Path) -> None:
    shutil.rmtree(root / STAGING, ignore_errors=True)
