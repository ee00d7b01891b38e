"""Summary statistics of a catalog: what it holds, by label and split, and its defects."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog
from .store import schema

TOTALS_SQL = """
select
    (select count(*) from files) as files,
    (select count(*) from interactions) as interactions,
    (select count(*) from pairs) as pairs,
    (select count(*) from interactions where n_files = 1) as singleton_interactions,
    (select count(*) from sessions) as sessions,
    (select count(*) from participants where n_files > 0) as participants,
    (select round(sum(duration_s) / 3600.0, 2) from files) as participant_hours,
    (select round(sum(duration_s) / 3600.0, 2) from interactions) as interaction_hours,
    (select count(*) from files where duration_s is null) as files_without_duration,
    (select count(*) from files where placeholder) as placeholder_files,
    (select count(*) from files where not metadata_read) as files_without_metadata,
    (select count(*) from unlisted_samples) as unlisted_samples,
    (select count(*) from sessions where relationship is null) as sessions_without_relationship,
    (select count(*) from participants where n_files > 0 and not in_participants_csv)
        as participants_without_bfi2_row
"""

BY_SPLIT_SQL = """
select label, split, sum(n_files) as files, sum(n_interactions) as interactions,
       round(sum(hours), 2) as hours, round(sum(interaction_hours), 2) as interaction_hours
from dataset_summary group by label, split order by label, split
"""

ISSUES_SQL = """
select severity, count(*) as n from raw.ingest_issues group by severity order by severity
"""


@dataclass(frozen=True)
class Stats:
    snapshot: int
    totals: dict[str, object]
    by_split: tuple[list[str], list[tuple]]
    table_rows: dict[str, int]
    issues: dict[str, int]


def compute(cat: Catalog) -> Stats:
    rel = cat.sql(TOTALS_SQL)
    totals = dict(zip(rel.columns, rel.fetchall()[0]))
    by = cat.sql(BY_SPLIT_SQL)
    rows = {
        name: cat.value(f"select count(*) from raw.{schema.quote_ident(name)}")
        for name in schema.TABLES
    }
    issues = dict(cat.sql(ISSUES_SQL).fetchall())
    return Stats(cat.snapshot, totals, (by.columns, by.fetchall()), rows, issues)
