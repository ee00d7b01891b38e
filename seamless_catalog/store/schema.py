"""The catalog's tables, declared once.

Each table has its columns (name and DuckDB type), the columns it is partitioned by (hive,
``label=/split=``) and the columns its rows are sorted by; its Arrow schema is derived from
them when first asked for (opening a catalog needs no pyarrow). Parquet is written only
through :mod:`seamless_catalog.store.snapshots`, which casts to these types.

Portable profile: signed integers, plain strings, DOUBLE seconds, UTC
microsecond timestamps, LIST but no MAP; partitions only on text columns.
Every table carries ``source_unit``: the ingest unit (a tar, an archive folder,
a CSV...) its rows came from, so that a re-ingest replaces exactly those rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

S = "VARCHAR"
I32 = "INTEGER"
I64 = "BIGINT"
F64 = "DOUBLE"
B = "BOOLEAN"
TS = "TIMESTAMP WITH TIME ZONE"  # microseconds, UTC


def list_(item: str) -> str:
    return f"{item}[]"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)
    partition_by: tuple[str, ...] = ()
    sort_by: tuple[str, ...] = ()
    # Rows are replaced by unit; besides, a newer unit that covers a key (a file_id
    # in its ``replace_from`` rows) replaces older rows of that key from other units:
    # a file's VAD read from a tar replaces the same file's VAD read from the CDN.
    replace_key: str | None = None
    replace_from: str | None = None
    description: str = ""
    view: str | None = None  # derived tables: the sql/ view whose rows this table stores

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def file_columns(self) -> tuple[tuple[str, str], ...]:
        """Columns stored inside the Parquet files (partition columns live in the paths)."""
        return tuple(c for c in self.columns if c[0] not in self.partition_by)

    @cached_property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the columns."""
        import pyarrow as pa

        return pa.schema([(name, arrow_type(t)) for name, t in self.columns])

    @property
    def file_schema(self) -> pa.Schema:
        """The Arrow schema of the columns stored inside the Parquet files."""
        import pyarrow as pa

        return pa.schema([f for f in self.schema if f.name not in self.partition_by])


def _t(
    name,
    fields,
    description,
    partition=True,
    sort=("file_id",),
    replace_key="file_id",
    replace_from="documents",
):
    cols = list(fields)
    if partition:
        cols += [("label", S), ("split", S)]
    cols.append(("source_unit", S))
    return Table(
        name=name,
        columns=tuple(cols),
        partition_by=("label", "split") if partition else (),
        sort_by=tuple(sort),
        replace_key=replace_key,
        replace_from=replace_from if replace_key else None,
        description=description,
    )


# the filelist's columns, in two groups: the files view puts label and split between them
_FILE_IDS = [
    ("file_id", S),
    ("vendor", S),
    ("session", S),
    ("prompt_hash", S),
    ("participant", S),
    ("session_key", S),
    ("interaction_key", S),
]
_FILE_PLACE = [
    ("batch_idx", I32),
    ("archive_idx", I32),
    ("has_imitator_movement", B),
    ("has_annotation_1p", B),
    ("has_annotation_3p", B),
    ("archive_path", S),
]

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        _t(
            "files",
            [
                *_FILE_IDS,
                *_FILE_PLACE,
                ("filelist_line", I64),
            ],
            "one row per filelist.csv row (flags null for the 5-column filelist)",
            replace_key=None,
        ),
        _t(
            "prompts",
            [
                ("row_index", I64),
                ("prompt_hash", S),
                ("prompt_id_unique", S),
                ("participant_a_prompt_text", S),
                ("participant_b_prompt_text", S),
                ("ipc_a", S),
                ("ipc_b", S),
                ("interaction_type", S),
            ],
            "interactions.csv: one row per prompt pair, prompt_hash as 8-char text",
            partition=False,
            sort=("prompt_hash",),
            replace_key=None,
        ),
        _t(
            "participants",
            [
                ("vendor", S),
                ("participant", S),
                ("extraversion", F64),
                ("agreeableness", F64),
                ("conscientiousness", F64),
                ("neuroticism", F64),
                ("openness", F64),
                ("bfi2_disclosed", B),
            ],
            "participants.csv keyed by (vendor 'V00', participant '0947'/'0844A'); "
            "BFI-2 null when Undisclosed",
            partition=False,
            sort=("vendor", "participant"),
            replace_key=None,
        ),
        _t(
            "relationships",
            [
                ("vendor", S),
                ("session", S),
                ("session_key", S),
                ("relationship", S),
                ("relationship_detail", S),
            ],
            "relationships.csv keyed by session_key 'V03_S1805'",
            partition=False,
            sort=("session_key",),
            replace_key=None,
        ),
        _t(
            "documents",
            [
                ("file_id", S),
                ("origin", S),
                ("json_id", S),
                ("transcript_present", B),
                ("vad_present", B),
                ("annotation_types", list_(S)),
                ("extra_keys", list_(S)),
                ("indent", I32),
                ("bytes", I64),
            ],
            "one row per per-file metadata document read (merged .json, or the CDN's JSONL set)",
        ),
        _t(
            "transcript_segments",
            [
                ("file_id", S),
                ("segment_idx", I32),
                ("start_s", F64),
                ("end_s", F64),
                ("text", S),
                ("n_words", I32),
            ],
            "metadata:transcript segments, times in seconds from the start of the file",
            sort=("file_id", "segment_idx"),
        ),
        _t(
            "transcript_words",
            [
                ("file_id", S),
                ("segment_idx", I32),
                ("word_idx", I32),
                ("word", S),
                ("start_s", F64),
                ("end_s", F64),
                ("score", F64),
            ],
            "words of each transcript segment; times and score null where the source has none",
            sort=("file_id", "segment_idx", "word_idx"),
        ),
        _t(
            "vad_segments",
            [("file_id", S), ("segment_idx", I32), ("start_s", F64), ("end_s", F64)],
            "metadata:vad speech segments as given (seconds, float noise kept)",
            sort=("file_id", "segment_idx"),
        ),
        _t(
            "annotations",
            [
                ("file_id", S),
                ("annotation_type", S),
                ("annotation_idx", I32),
                ("text", S),
                ("start_s", F64),
                ("end_s", F64),
            ],
            "annotations:1P-IS..3P-V moments of interest; idx is the line order in the source",
            sort=("file_id", "annotation_type", "annotation_idx"),
        ),
        _t(
            "members",
            [
                ("archive_path", S),
                ("member", S),
                ("file_id", S),
                ("ext", S),
                ("member_idx", I32),
                ("offset_header", I64),
                ("offset_data", I64),
                ("size", I64),
            ],
            "tar member index: data bytes of each member are [offset_data, offset_data+size); "
            "a tree's files too, archive_path its folder (no .tar) and offset_data 0",
            sort=("archive_path", "member_idx"),
            replace_key="archive_path",
            replace_from="members",
        ),
        _t(
            "features",
            [
                ("file_id", S),
                ("key", S),
                ("dtype", S),
                ("shape", list_(I64)),
                ("n_frames", I64),
            ],
            "NPZ inventory from the array headers: key 'smplh:body_pose', dtype, shape",
            sort=("file_id", "key"),
            replace_from="media",
        ),
        _t(
            "media",
            [
                ("file_id", S),
                ("ext", S),
                ("bytes", I64),
                ("sample_rate", I32),
                ("channels", I32),
                ("sample_format", S),
                ("n_samples", I64),
                ("duration_s", F64),
                ("placeholder", B),
                ("origin", S),
            ],
            "facts read from media headers only (wav fmt/data, mp4 mvhd, npz frames)",
            sort=("file_id", "ext"),
            replace_from="media",
        ),
        _t(
            "ingest_issues",
            [
                ("run_id", S),
                ("source", S),
                ("location", S),
                ("file_id", S),
                ("severity", S),
                ("reason", S),
            ],
            "records that were quarantined or repaired: where (file and line, or member) and why",
            partition=False,
            sort=("source_unit", "location"),
            replace_key=None,
        ),
        _t(
            "ingest_runs",
            [
                ("run_id", S),
                ("started_at", TS),
                ("finished_at", TS),
                ("sources", list_(S)),
                ("n_units_parsed", I64),
                ("n_units_unchanged", I64),
                ("n_units_removed", I64),
                ("n_issues", I64),
                ("status", S),
            ],
            "one row per ingest run",
            partition=False,
            sort=("started_at",),
            replace_key=None,
        ),
        _t(
            "units",
            [
                ("source", S),
                ("kind", S),
                ("fingerprint", S),
                ("run_id", S),
                ("ingested_at", TS),
            ],
            "what each ingest unit was when last parsed; an unchanged fingerprint is not re-parsed",
            partition=False,
            sort=("source_unit",),
            replace_key=None,
        ),
    ]
}


def _derived(view, fields, key, description):
    """A table that stores the rows of the sql/ view ``view`` (see seamless_catalog.store.derive):
    the view's columns in its order, then ``source_unit`` = which definitions computed them.
    Rows are replaced by ``key`` (file_id or interaction_key) for what an ingest changed."""
    return Table(
        name=f"derived_{view}",
        columns=(*fields, ("source_unit", S)),
        sort_by=(key,),
        replace_key=key,
        description=description,
        view=view,
    )


# Derived tables: the expensive views, computed by DuckDB from sql/ at ingest. Declared apart
# from TABLES (what ingest parses); the views read them when their definitions match.
DERIVED: dict[str, Table] = {
    t.name: t
    for t in [
        _derived(
            "files",
            [
                *_FILE_IDS,
                ("label", S),
                ("split", S),
                *_FILE_PLACE,
                ("duration_s", F64),
                ("duration_source", S),
                ("placeholder", B),
                ("modalities", list_(S)),
                ("placeholder_modalities", list_(S)),
                ("bytes", I64),
                ("metadata_read", B),
                ("transcript_read", B),
                ("vad_read", B),
                ("annotation_types", list_(S)),
            ],
            "file_id",
            "rows of the files view: the filelist with media facts and metadata flags joined",
        ),
        _derived(
            "speech_activity",
            [
                ("file_id", S),
                ("speech_s", F64),
                ("n_vad_segments", I64),
                ("n_dropped_segments", I64),
                ("speech_ratio", F64),
                ("n_ipus", I64),
                ("median_ipu_s", F64),
                ("n_words", I64),
                ("words_per_min_speech", F64),
                ("n_ipus_without_words", I64),
            ],
            "file_id",
            "rows of the speech_activity view: per-file speech, IPU and word statistics",
        ),
        _derived(
            "turn_taking",
            [
                ("interaction_key", S),
                *[
                    (c, F64)
                    for c in [
                        "speech_a_s",
                        "speech_b_s",
                        "overlap_s",
                        "silence_s",
                        "span_s",
                        "overlap_ratio",
                        "balance",
                        "overlap_vs_chance",
                    ]
                ],
                *[
                    (c, I64)
                    for c in [
                        "n_pauses",
                        "n_gaps",
                        "n_between_overlaps",
                        "n_within_overlaps",
                        "n_unclassified",
                        "n_floor_transfers",
                        "n_transitions",
                    ]
                ],
                ("transitions_per_min", F64),
                ("share_transitions_in_overlap", F64),
                ("fto_median_ms", F64),
                ("fto_q25_ms", F64),
                ("fto_q75_ms", F64),
                ("fto_median_a_to_b_ms", F64),
                ("fto_median_b_to_a_ms", F64),
                ("n_backchannels_a", I64),
                ("n_backchannels_b", I64),
                ("one_sided", B),
                ("low_transitions", B),
                ("alignment_suspect", B),
            ],
            "interaction_key",
            "rows of the turn_taking view: per-pair turn-taking statistics",
        ),
    ]
}


def table(name: str) -> Table:
    return TABLES[name] if name in TABLES else DERIVED[name]


def derived_for(view: str) -> Table:
    """The derived table that stores the rows of ``view``."""
    return DERIVED[f"derived_{view}"]


_ARROW = {S: "string", I32: "int32", I64: "int64", F64: "float64", B: "bool_"}


def arrow_type(t: str) -> pa.DataType:
    """The Arrow type of a declared DuckDB type."""
    import pyarrow as pa

    if t.endswith("[]"):
        return pa.list_(arrow_type(t[:-2]))
    if t == TS:
        return pa.timestamp("us", tz="UTC")
    return getattr(pa, _ARROW[t])()


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB type of an Arrow type of the profile (the inverse of :func:`arrow_type`)."""
    import pyarrow as pa

    if pa.types.is_list(t):
        return duckdb_type(t.value_type) + "[]"
    if pa.types.is_timestamp(t):
        return TS
    return next(d for d, a in _ARROW.items() if getattr(pa, a)() == t)


def empty_select_sql(name: str) -> str:
    """A typed, empty relation for a table that has no rows yet."""
    cols = ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(c)}" for c, t in table(name).columns)
    return f"SELECT {cols} WHERE false"


def quote_ident(name: str) -> str:
    """Quote one SQL identifier; the only place identifiers are quoted."""
    return '"' + name.replace('"', '""') + '"'
