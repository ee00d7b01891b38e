"""One ingest run: list units, parse the changed ones into staging, merge, commit.

Incremental: a unit whose fingerprint equals the one recorded in the ``units``
table is not parsed again; a run with nothing changed only records itself.
Atomic: the new snapshot becomes visible in one rename (see :mod:`..store`).
Resumable: parsed rows are staged in whole batches; a killed run's batches are
reused by the next run for every unit that has not changed since.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import duckdb
from tqdm import tqdm

from ..config import Settings, from_env
from ..errors import CatalogError, DiskError
from ..layout import FileRef
from ..remote import http
from ..store import catalogdb, derive, schema, snapshots, views
from . import pool
from . import sources as source_registry
from .remote_perfile import rows_from_columns
from .sink import RowSink
from .staging import Staging
from .units import Unit

BATCH_ROWS = 500_000  # rows held in memory before a staging batch is written
BATCH_UNITS = 2_000
MEMORY_LIMIT = "500MB"  # DuckDB's share of the ingest's memory (peak RSS target: 1 GB)
SAMPLE_ISSUES = 20
ALWAYS_WRITTEN = ("units", "ingest_runs")
BOOKKEEPING = ("units", "ingest_issues")  # replaced for every unit read, even a failed one
RETRY = "retry:"  # fingerprint prefix of a unit a transfer failure left unread


@dataclass
class IngestResult:
    run_id: str
    snapshot: int
    n_units_parsed: int
    n_units_unchanged: int
    n_units_removed: int
    n_errors: int  # records quarantined in this run
    n_warnings: int
    issues: list[tuple[str, str]] = field(default_factory=list)  # a sample: (location, reason)
    rows: dict[str, int] = field(default_factory=dict)  # rows per table written this run

    @property
    def ok(self) -> bool:
        return self.n_errors == 0


def ingest(
    catalog_dir: str | Path,
    sources: Sequence[str] = (),
    *,
    filelist: str | None = None,
    assets: str | None = None,
    settings: Settings | None = None,
    workers: int | None = None,
) -> IngestResult:
    """Ingest ``sources`` (and the filelist and asset CSVs) into the catalog at ``catalog_dir``.

    ``filelist``/``assets`` default to what the catalog already holds, else to a
    ``filelist.csv`` inside ``assets``, else to the official public locations.
    ``workers`` units are parsed at once (default ``Settings.workers``).
    """
    settings = settings or from_env()
    if workers is not None:
        settings = settings.with_(workers=max(1, workers))
    root = Path(catalog_dir)
    try:
        with snapshots.write_lock(root):
            try:
                return _Run(root, settings).run(sources, filelist, assets)
            except BaseException as e:
                # what this run wrote and did not commit (we still hold the lock); the
                # staged batches stay, so that the next run resumes from them
                with contextlib.suppress(OSError):
                    snapshots.collect_garbage(root)
                if catalogdb.is_interrupt(e):  # Ctrl-C inside a DuckDB query of the merge
                    raise KeyboardInterrupt from e
                raise
    except (OSError, duckdb.Error) as e:
        disk = DiskError.from_exception(root, e)
        if disk is None or isinstance(e, CatalogError):
            raise
        raise disk from e


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


class _Run:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.run_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        self.started = datetime.now(timezone.utc)
        self.con = catalogdb.connect()
        # sorts beyond the limit spill under the catalog's staging folder (removed at commit)
        self.con.execute(f"SET memory_limit = {snapshots.sql_literal(MEMORY_LIMIT)}")
        spill = root / "staging" / "spill"
        self.con.execute(f"SET temp_directory = {snapshots.sql_literal(spill)}")
        self.writer = snapshots.SnapshotWriter(root, self.con)
        self.previous = self.writer.previous
        self._winner_tables: set[str] = set()

    def _previous_units(self) -> dict[str, tuple[str, str]]:
        """unit key -> (source, fingerprint), as of the current snapshot."""
        rel = snapshots.select_sql("units", self._old_files("units"))
        rows = self.con.execute(f"SELECT source_unit, source, fingerprint FROM ({rel})").fetchall()
        return {k: (s, f) for k, s, f in rows}

    def _previous_files(self) -> list[FileRef]:
        """The current snapshot's ``files`` rows (what drives a source that cannot list)."""
        rel = snapshots.select_sql("files", self._old_files("files"))
        table = self.con.sql(f"SELECT * FROM ({rel})").to_arrow_table()
        return rows_from_columns(table.to_pydict())

    def _old_files(self, name: str) -> list[Path]:
        return self.previous.files(self.root, name) if self.previous else []

    def run(self, locations: Sequence[str], filelist: str | None, assets: str | None):
        if self.previous is None:  # a first ingest: say how to resume it if it is cut off
            command = {"sources": list(locations), "filelist": filelist, "assets": assets}
            snapshots.record_staged_command(self.root, command)
        prev_units = self._previous_units()
        srcs = source_registry.resolve(
            locations, filelist, assets, prev_units, self.settings, self._previous_files
        )
        listed: list[Unit] = [u for s in srcs for u in s.units()]
        keys = {u.key for u in listed}
        roots = {s.location for s in srcs}
        to_parse = [u for u in listed if prev_units.get(u.key, ("", ""))[1] != u.fingerprint]
        removed = sorted(k for k, (src, _) in prev_units.items() if src in roots and k not in keys)
        staging = Staging(self.root)
        staging.drop_stale(to_parse)
        to_parse = self._parse(to_parse, staging)
        self._register_units(to_parse)
        rows = self._merge(to_parse, removed, staging)
        n_err, n_warn, sample = self._issue_counts(to_parse)
        self._write_run_row(locations, filelist, assets, to_parse, listed, removed, n_err)
        # derived tables (issue 5, store.derive): the expensive views' rows, for the
        # interactions whose inputs this run changed
        with self._phase("derived tables (the expensive views' rows)"):
            rows.update(derive.write_derived(self.writer, [u.key for u in to_parse] + removed))
        manifest = self.writer.prepare(self.run_id)
        with self._phase("catalog.duckdb (the views, for any DuckDB client)"):
            built = views.write_catalog_duckdb(self.root, manifest, install=False)
        self.writer.commit(manifest)
        views.install_catalog_duckdb(self.root, built)
        snapshots.collect_garbage(self.root)
        snapshots.clear_staging(self.root)
        return IngestResult(
            self.run_id,
            manifest.snapshot,
            len(to_parse),
            len(listed) - len(to_parse),
            len(removed),
            n_err,
            n_warn,
            sample,
            rows,
        )

    # -- parse ---------------------------------------------------------------------------
    def _parse(self, units: list[Unit], staging: Staging) -> list[Unit]:
        """Parse ``units`` into staging; returns them, a unit whose transfer failed marked
        with a ``retry:`` fingerprint so that the next run reads it again.

        Local units go to worker processes when there is enough of them (:mod:`.pool`), each
        task staged as a batch when it is done. The others are parsed ``settings.workers``
        at once in threads, each into its own sink; rows join the batch in unit order on this
        thread. A batch is staged when it is large or ``settings.flush_seconds`` old, so a
        killed run resumes after its last flush."""
        todo = [u for u in units if not staging.is_done(u)]
        marked: dict[str, Unit] = {}
        procs = min(max(1, self.settings.workers), os.cpu_count() or 1)
        local = [u for u in todo if u.local]
        if not pool.worth_it(local, procs):
            local = []
        with tqdm(
            total=len(todo),
            desc="ingest",
            unit="unit",
            disable=not self.settings.progress,
            leave=False,
        ) as bar:
            if local:
                tasks = pool.tasks(local, procs)
                for group, done in pool.run_tasks(self.run_id, tasks, procs, staging.new_folder):
                    group = [self._retry(u, marked) if u.key in done.failed else u for u in group]
                    staging.adopt(done.folder, group)
                    bar.update(len(group))
            self._parse_threads([u for u in todo if not (u.local and local)], staging, bar, marked)
        return [marked.get(u.key, u) for u in units]

    @staticmethod
    def _retry(unit: Unit, marked: dict[str, Unit]) -> Unit:
        marked[unit.key] = replace(unit, fingerprint=RETRY + unit.fingerprint)
        return marked[unit.key]

    def _parse_threads(self, todo: list[Unit], staging: Staging, bar, marked) -> None:
        sink, batch = RowSink(self.run_id), []
        flushed = time.monotonic()
        bytes0 = http.TOTAL.bytes
        for unit, part, failed in self._parsed(todo):
            if failed:
                unit = self._retry(unit, marked)
            sink.absorb(part)
            batch.append(unit)
            bar.update(1)
            bar.set_postfix_str(f"{_mb(http.TOTAL.bytes - bytes0)} fetched", refresh=False)
            old = time.monotonic() - flushed >= self.settings.flush_seconds
            if sink.n_rows >= BATCH_ROWS or len(batch) >= BATCH_UNITS or old:
                staging.write(batch, sink)
                sink, batch, flushed = RowSink(self.run_id), [], time.monotonic()
        staging.write(batch, sink)

    def _parsed(self, units: list[Unit]) -> Iterator[tuple[Unit, RowSink, bool]]:
        """(unit, its rows, transfer failed) in unit order, at most ``workers`` in flight."""
        workers = max(1, self.settings.workers)
        parse_one = partial(pool.parse_unit, self.run_id)
        if workers == 1 or len(units) <= 1:
            for u in units:
                yield (u, *parse_one(u))
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="ingest") as threads:
            pending: deque[tuple[Unit, Future]] = deque()
            queue = iter(units)
            try:
                for u in queue:
                    pending.append((u, threads.submit(parse_one, u)))
                    if len(pending) >= 2 * workers:
                        break
                while pending:
                    u, fut = pending.popleft()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.append((nxt, threads.submit(parse_one, nxt)))
                    yield (u, *fut.result())
            finally:
                for _, fut in pending:
                    fut.cancel()

    # -- merge ---------------------------------------------------------------------------
    def _merge(self, parsed: list[Unit], removed: list[str], staging: Staging) -> dict[str, int]:
        """A unit whose transfer failed keeps its previous rows (nothing valid is lost); only
        its bookkeeping (units, ingest_issues) is replaced, so the next run reads it again."""
        read = [u.key for u in parsed if not u.fingerprint.startswith(RETRY)]
        self._units_table("_parsed", unit=[u.key for u in parsed])
        self._units_table("_replaced", unit=read + removed)
        self._units_table("_rebooked", unit=[u.key for u in parsed] + removed)
        rows: dict[str, int] = {}
        tables = [t for t in schema.TABLES.values() if t.name != "ingest_runs"]
        with self._bar(len(tables), "merge", "table") as bar:
            for t in tables:
                bar.set_postfix_str(t.name)
                sql = self._merged_sql(t, staging)
                if sql is not None:
                    rows[t.name] = self.writer.write_table(t.name, sql)
                bar.update(1)
        return rows

    def _bar(self, total: int, desc: str, unit: str) -> tqdm:
        """A progress bar of one phase (parse, merge) that stays on the terminal when done."""
        return tqdm(total=total, desc=desc, unit=unit, disable=not self.settings.progress)

    @contextlib.contextmanager
    def _phase(self, what: str) -> Iterator[None]:
        """A status line for a phase with no countable steps: what it is, then how long it
        took, so that the terminal never sits silent after the bars reach 100 %."""
        if not self.settings.progress:
            yield
            return
        started = time.monotonic()
        tqdm.write(f"{what} ...", file=sys.stderr)
        yield
        tqdm.write(f"{what}: done in {time.monotonic() - started:.1f} s", file=sys.stderr)

    def _units_table(self, name: str, **columns: list[str]) -> None:
        """A table of this connection's database (visible to its cursors) from text lists."""
        cols = ", ".join(f"unnest(${i + 1}::VARCHAR[]) AS {c}" for i, c in enumerate(columns))
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {cols}", list(columns.values()))

    def _staged_sql(self, name: str, staging: Staging) -> str | None:
        files = staging.files(name)
        if not files:
            return None
        paths = ", ".join(snapshots.sql_literal(p) for p in files)
        return (
            f"SELECT * FROM read_parquet([{paths}], union_by_name = true) "
            "WHERE source_unit IN (SELECT unit FROM _parsed)"
        )

    def _merged_sql(self, t: schema.Table, staging: Staging) -> str | None:
        old = snapshots.select_sql(t.name, self._old_files(t.name))
        gone = "_rebooked" if t.name in BOOKKEEPING else "_replaced"
        keep = f"SELECT * FROM ({old}) o WHERE source_unit NOT IN (SELECT unit FROM {gone})"
        staged = self._staged_sql(t.name, staging)
        cover = self._staged_sql(t.replace_from, staging) if t.replace_from else None
        if cover is not None and t.replace_key != "file_id":
            k = schema.quote_ident(t.replace_key)
            keep += f" AND o.{k} NOT IN (SELECT DISTINCT {k} FROM ({cover}))"
        touched = staged is not None or cover is not None or t.name in ALWAYS_WRITTEN
        if t.replace_key == "file_id" and "files" in self.writer.written:
            touched = True  # a new filelist may change which copy of a file wins
        if not touched:
            hit = self.con.execute(
                f"SELECT count(*) FROM ({old}) WHERE source_unit IN (SELECT unit FROM _replaced)"
            ).fetchone()[0]
            if not hit:
                return None  # the table keeps its files
        if t.name == "units":
            return f"{keep} UNION ALL BY NAME {self._new_units_sql()}"
        body = keep if staged is None else f"{keep} UNION ALL BY NAME {staged}"
        if t.replace_key == "file_id":
            win = self._winners(t.replace_from, staging)
            body = (
                f"SELECT b.* FROM ({body}) b SEMI JOIN {win} w "
                "ON b.file_id = w.file_id AND b.source_unit = w.source_unit"
            )
        return body

    def _winners(self, family: str, staging: Staging) -> str:
        """Temp table (file_id, source_unit): the one unit whose copy of each file is kept.

        A file can reach the catalog from several units (a tar and the per-file layout, or a
        de-duplicated sample still inside a tar of another split). Keep the copy whose label
        and split agree with the filelist, else the newest; the others stay visible in
        ``members`` and the ``unlisted_samples`` view."""
        name = f"_win_{family}"
        if name in self._winner_tables:
            return name
        old = snapshots.select_sql(family, self._old_files(family))
        cand = (
            f"SELECT DISTINCT file_id, source_unit, label, split, 0 AS fresh FROM ({old}) "
            "WHERE source_unit NOT IN (SELECT unit FROM _replaced)"
        )
        staged = self._staged_sql(family, staging)
        if staged is not None:
            cand += (
                f" UNION ALL SELECT DISTINCT file_id, source_unit, label, split, 1 FROM ({staged})"
            )
        files = snapshots.select_sql("files", self._writer_files("files"))
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {name} AS
            SELECT file_id, source_unit FROM (
                SELECT c.file_id, c.source_unit, row_number() OVER (
                    PARTITION BY c.file_id
                    ORDER BY (f.file_id IS NOT NULL) DESC, c.fresh DESC, c.source_unit DESC
                ) AS rn
                FROM ({cand}) c
                LEFT JOIN ({files}) f
                  ON f.file_id = c.file_id AND f.label = c.label AND f.split = c.split
            ) WHERE rn = 1""")
        self._winner_tables.add(name)
        return name

    def _new_units_sql(self) -> str:
        return (
            "SELECT unit AS source_unit, source, kind, fingerprint, "
            f"{snapshots.sql_literal(self.run_id)} AS run_id, now() AS ingested_at FROM _units_new"
        )

    # -- bookkeeping ---------------------------------------------------------------------
    def _register_units(self, parsed: list[Unit]) -> None:
        self._units_table(
            "_units_new",
            unit=[u.key for u in parsed],
            source=[u.source for u in parsed],
            kind=[u.kind for u in parsed],
            fingerprint=[u.fingerprint for u in parsed],
        )

    def _issue_counts(self, parsed: list[Unit]) -> tuple[int, int, list[tuple[str, str]]]:
        rel = snapshots.select_sql("ingest_issues", self._writer_files("ingest_issues"))
        where = f"FROM ({rel}) WHERE run_id = {snapshots.sql_literal(self.run_id)}"
        n_err, n_warn = self.con.execute(
            f"SELECT count(*) FILTER (severity = 'error'), count(*) FILTER (severity <> 'error') "
            f"{where}"
        ).fetchone()
        sample = self.con.execute(
            f"SELECT location, reason {where} ORDER BY severity, location LIMIT {SAMPLE_ISSUES}"
        ).fetchall()
        return n_err, n_warn, sample

    def _writer_files(self, name: str) -> list[Path]:
        return [self.root / p for p in self.writer.tables.get(name, [])]

    def _write_run_row(self, locations, filelist, assets, parsed, listed, removed, n_err) -> None:
        now = datetime.now(timezone.utc)
        given = [*(locations or []), *(x for x in (filelist, assets) if x)]
        self.con.execute(
            "CREATE OR REPLACE TABLE _run_row AS SELECT ?::VARCHAR AS run_id, "
            "?::TIMESTAMPTZ AS started_at, ?::TIMESTAMPTZ AS finished_at, "
            "?::VARCHAR[] AS sources, ?::BIGINT AS n_units_parsed, "
            "?::BIGINT AS n_units_unchanged, ?::BIGINT AS n_units_removed, "
            "?::BIGINT AS n_issues, ?::VARCHAR AS status, 'run' AS source_unit",
            [
                self.run_id,
                self.started,
                now,
                given,
                len(parsed),
                len(listed) - len(parsed),
                len(removed),
                n_err,
                "completed_with_issues" if n_err else "completed",
            ],
        )
        old = snapshots.select_sql("ingest_runs", self._old_files("ingest_runs"))
        self.writer.write_table("ingest_runs", f"{old} UNION ALL BY NAME SELECT * FROM _run_row")
