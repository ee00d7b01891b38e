"""Read-only data access for the dashboard: SQL over the catalog's views, bound parameters only."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ..catalog import Catalog
from ..errors import UsageError

MOMENTS_KEPT = 8  # interactions whose moments a Data keeps (see Data.moments)
BFI2_TRAITS = ("extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness")


class Data:
    """Queries the dashboard needs, each returning a Polars frame (one lock: one connection)."""

    def __init__(self, catalog_dir: str | Path) -> None:
        self.root = Path(catalog_dir)
        self.catalog = Catalog.open(self.root, sandbox=True)
        self.lock = threading.Lock()  # one connection: callers of catalog.clips hold it too
        self._moments: dict[str, pl.DataFrame] = {}
        self._kept_lock = threading.Lock()

    def frame(self, query: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        with self.lock:
            return _decimals_to_float(self.catalog.sql(query, params).pl())

    def user_query(self, query: str, limit: int | None = None) -> pl.DataFrame:
        """A user's SELECT, refused unless read-only; at most ``limit`` rows."""
        with self.lock:
            return _decimals_to_float(self.catalog.query(query, max_rows=limit).pl())

    def views(self) -> list[tuple[str, str]]:
        return self.catalog.views()

    # ------------------------------------------------------------------ overview
    def totals(self) -> dict[str, Any]:
        """The totals of ``seamless-catalog stats``, by its definitions."""
        from ..stats import TOTALS_SQL

        with self.lock:
            rel = self.catalog.sql(TOTALS_SQL)
            return dict(zip(rel.columns, rel.fetchall()[0]))

    def summary(self) -> pl.DataFrame:
        return self.frame("select * from dataset_summary order by label, split, vendor")

    def interactions_by(self, column: str) -> pl.DataFrame:
        """Interactions and hours (each once, by its longest file) by one interactions column."""
        if column not in ("interaction_type", "relationship", "label", "split", "vendor"):
            raise UsageError(f"cannot group interactions by {column!r}")
        return self.frame(
            f"select coalesce({column}, '(unknown)') as {column}, count(*) as n_interactions, "
            "sum(duration_s) / 3600 as hours from interactions group by all order by 1"
        )

    def file_facts(self) -> pl.DataFrame:
        return self.frame(
            "select f.file_id, f.label, f.split, f.vendor, f.duration_s, f.placeholder, "
            "f.metadata_read, f.modalities, f.placeholder_modalities, f.annotation_types, "
            "f.has_annotation_1p, f.has_annotation_3p, s.speech_ratio, s.speech_s "
            "from files f left join speech_activity s using (file_id)"
        )

    def turn_taking(self) -> pl.DataFrame:
        return self.frame(
            "select p.label, p.split, t.* from turn_taking t join pairs p using (interaction_key)"
        )

    def traits_long(self) -> pl.DataFrame:
        cols = ", ".join(BFI2_TRAITS)
        return self.frame(
            f"unpivot (select vendor, participant, {cols} from participants "
            f"where bfi2_disclosed) on {cols} into name trait value score"
        )

    def annotation_coverage(self) -> pl.DataFrame:
        return self.frame(
            "with t as (select label, unnest(annotation_types) as annotation_type from files "
            "where annotation_types is not null) "
            "select label, annotation_type, count(*) as n_files from t group by all order by all"
        )

    def defects(self) -> pl.DataFrame:
        """Counts of data defects, one row each (kind, n_files)."""
        return self.frame(
            """
            select 'placeholder media' as defect, count(*) filter (where placeholder) as n_files
              from files
            union all select 'missing ' || m, count(*) from files,
              (values ('json'), ('mp4'), ('npz'), ('wav')) as v(m)
              where modalities is not null and not list_contains(modalities, m) group by m
            union all select 'metadata not read', count(*) filter (where not coalesce(metadata_read,
              false)) from files
            union all select 'duration unknown', count(*) filter (where duration_s is null)
              from files
            union all select 'VAD not read', count(*) filter (where not coalesce(vad_read, false))
              from files
            order by 1
            """
        )

    def ingest_issues(self) -> pl.DataFrame:
        return self.frame(
            "select severity, reason, count(*) as n from raw.ingest_issues group by all "
            "order by n desc limit 50"
        )

    # ------------------------------------------------------------------ browse
    def labels(self) -> list[str]:
        return self.column("select distinct label from files order by 1")

    def splits(self, label: str) -> list[str]:
        return self.column("select distinct split from files where label = ? order by 1", [label])

    def batches(self, label: str, split: str) -> list[int]:
        return self.column(
            "select distinct batch_idx from files where label = ? and split = ? order by 1",
            [label, split],
        )

    def interaction_keys(self, label: str, split: str, batch: int) -> list[str]:
        return self.column(
            "select distinct interaction_key from files "
            "where label = ? and split = ? and batch_idx = ? order by 1",
            [label, split, batch],
        )

    def interaction(self, key: str) -> dict[str, Any] | None:
        rows = self.frame("select * from interactions where interaction_key = ?", [key])
        return rows.row(0, named=True) if rows.height else None

    def interaction_files(self, key: str) -> pl.DataFrame:
        """The files of an interaction with their participant's BFI-2, ordered by file_id."""
        cols = ", ".join(f"p.{t}" for t in BFI2_TRAITS)
        return self.frame(
            f"select f.*, {cols}, p.bfi2_disclosed from files f left join participants p "
            "using (vendor, participant) where f.interaction_key = ? order by f.file_id",
            [key],
        )

    def timeline(self, key: str) -> pl.DataFrame:
        """VAD and transcript segments of an interaction: file_id, kind, start_s, end_s, text."""
        return self.frame(
            """
            select v.file_id, 'VAD' as kind, v.start_s, v.end_s, null as text
              from raw.vad_segments v join files f using (file_id) where f.interaction_key = ?
            union all
            select t.file_id, 'transcript', t.start_s, t.end_s, t.text
              from raw.transcript_segments t join files f using (file_id)
              where f.interaction_key = ?
            order by file_id, kind, start_s
            """,
            [key, key],
        )

    def annotations(self, key: str) -> pl.DataFrame:
        return self.frame(
            "select a.file_id, a.annotation_type, a.start_s, a.end_s, a.text "
            "from raw.annotations a join files f using (file_id) where f.interaction_key = ? "
            "order by a.start_s, a.file_id, a.annotation_type",
            [key],
        )

    def moments(self, key: str) -> pl.DataFrame:
        """The interaction's moments (the ``moments`` view) in time order: kind, detail, vap,
        start_s, end_s, file_id (null: a moment of the pair) and partner_file_id.

        Kept for the last few interactions: the filter reaches the scans, so one interaction
        costs the same at any scale, but planning the view takes about 0.4 s (BENCHMARKS.md,
        "Moment views") and Streamlit asks again on every rerun of the page (each click on a
        moment). A Data is one snapshot, so nothing kept goes stale."""
        with self._kept_lock:
            kept = self._moments.get(key)
        if kept is None:
            kept = self.frame(
                "select kind, detail, vap, start_s, end_s, file_id, partner_file_id "
                "from moments where interaction_key = ? "
                "order by start_s, end_s, kind, file_id nulls first, detail nulls first",
                [key],
            )
        with self._kept_lock:
            self._moments.pop(key, None)
            self._moments[key] = kept  # most recent last
            while len(self._moments) > MOMENTS_KEPT:
                self._moments.pop(next(iter(self._moments)))
        return kept

    def pair_stats(self, key: str) -> dict[str, Any] | None:
        rows = self.frame("select * from turn_taking where interaction_key = ?", [key])
        return rows.row(0, named=True) if rows.height else None

    # ------------------------------------------------------------------ files
    def file_ids(self, interaction_key: str | None = None) -> list[str]:
        if interaction_key:
            return self.column(
                "select file_id from files where interaction_key = ? order by 1", [interaction_key]
            )
        return self.column("select file_id from files order by 1")

    def file(self, file_id: str) -> dict[str, Any] | None:
        rows = self.frame("select * from files where file_id = ?", [file_id])
        return rows.row(0, named=True) if rows.height else None

    def features(self, file_id: str) -> pl.DataFrame:
        return self.frame(
            "select key, dtype, shape, n_frames from raw.features where file_id = ? order by key",
            [file_id],
        )

    def media_facts(self, file_id: str) -> pl.DataFrame:
        return self.frame(
            "select ext, bytes, sample_rate, channels, sample_format, duration_s, placeholder "
            "from raw.media where file_id = ? order by ext",
            [file_id],
        )

    # ------------------------------------------------------------------ download
    def filter_options(self) -> dict[str, list[str]]:
        return {
            "label": self.labels(),
            "split": self.column("select distinct split from files order by 1"),
            "vendor": self.column("select distinct vendor from files order by 1"),
            "interaction_type": self.column(
                "select distinct interaction_type from interactions "
                "where interaction_type is not null order by 1"
            ),
        }

    def filtered_file_ids(
        self,
        filters: dict[str, list[str]],
        pairs_only: bool = False,
        n_interactions: int | None = None,
        seed: int = 0,
    ) -> list[str]:
        """File ids matching every non-empty filter; optionally a seeded sample of interactions."""
        where, params = [], []
        for column in ("label", "split", "vendor", "interaction_type"):
            values = filters.get(column) or []
            if values:
                where.append(f"i.{column} in (select unnest(?))")
                params.append(list(values))
        if pairs_only:
            where.append("i.interaction_key in (select interaction_key from pairs)")
        cond = " and ".join(where) or "true"
        keys = self.column(
            f"select i.interaction_key from interactions i where {cond} "
            "order by hash(i.interaction_key || ?::varchar), i.interaction_key",
            [*params, str(seed)],
        )
        if n_interactions is not None:
            keys = keys[:n_interactions]
        if not keys:
            return []
        return self.column(
            "select file_id from files where interaction_key in (select unnest(?)) order by 1",
            [keys],
        )

    def column(self, query: str, params: Sequence[Any] | None = None) -> list[Any]:
        frame = self.frame(query, params)
        return frame.to_series(0).to_list() if frame.width else []


def _decimals_to_float(frame: pl.DataFrame) -> pl.DataFrame:
    """DuckDB's DECIMAL sums become floats: charts and CSV want plain numbers."""
    casts = [pl.col(n).cast(pl.Float64) for n, t in frame.schema.items() if t == pl.Decimal]
    return frame.with_columns(casts) if casts else frame
