"""The portable profile: column types that every engine we know reads the same way.

A catalog is useful beyond this package only if Spark, Trino, Polars, Daft, pyarrow,
HF ``datasets`` and DuckDB all read it without loss. The profile, and why:

* signed integers only (TINYINT..BIGINT): Spark and Trino have no unsigned types, and DuckDB
  writes HUGEINT (what ``sum(bigint)`` returns) to Parquet as DOUBLE, silently inexact;
* DOUBLE for fractions, never DECIMAL (DuckDB's ``sum`` can widen to DECIMAL(38)), INTERVAL or
  durations: media offsets are DOUBLE seconds. Polars and Daft fail a whole file on INTERVAL;
* timestamps are UTC microseconds (``timestamp[us, tz=UTC]``, TIMESTAMPTZ): Spark fails on
  nanoseconds, and INT96 or naive timestamps shift with reader time zones;
* text is plain ``string`` (Parquet BYTE_ARRAY/UTF8): no UUID (Spark fails), no dictionary,
  ``large_string`` or ``string_view`` Arrow type stored in the file (the offset width is a
  reader's in-memory choice; a stored hint makes files of one table disagree on their schema,
  which pyarrow and ``datasets`` refuse to concatenate). Parquet dictionary *encoding* is fine;
* LIST and STRUCT nest freely, MAP never (``datasets`` rejects it); no fixed-size arrays;
* hive partition values are text that no reader mistakes for a number, a date or a boolean
  (several readers infer ``split=2025`` as an integer and drop leading zeros).

Each ``*_problem(s)`` function returns what breaks the profile (empty/None when nothing does),
so callers decide whether to raise or to report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_SIGNED = (pa.int8(), pa.int16(), pa.int32(), pa.int64())
_SCALARS = (*_SIGNED, pa.float32(), pa.float64(), pa.bool_(), pa.string())
_LOGICAL = {"NONE", "STRING", "INT", "TIMESTAMP"}  # Parquet logical types of leaf columns
_DUCK_SCALARS = {
    "boolean", "tinyint", "smallint", "integer", "bigint", "float", "double", "varchar",
    "timestamp with time zone",
}  # fmt: skip
_NOT_TEXT = re.compile(
    r"^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|true|false|null|nan|inf|"
    r"\d{4}-\d{2}-\d{2}.*|__HIVE_DEFAULT_PARTITION__)$",
    re.IGNORECASE,
)


def arrow_problem(t: pa.DataType) -> str | None:
    """Why Arrow type ``t`` is outside the profile, or None."""
    if pa.types.is_list(t):
        return arrow_problem(t.value_type)
    if pa.types.is_struct(t):
        for field in t:
            if problem := arrow_problem(field.type):
                return f"{field.name}: {problem}"
        return None
    if pa.types.is_timestamp(t):
        if t.unit != "us" or t.tz not in ("UTC", "+00:00"):
            return f"{t}: timestamps must be UTC microseconds (timestamp[us, tz=UTC])"
        return None
    if t in _SCALARS:
        return None
    return (
        f"{t} is not portable (signed ints, double, bool, string, UTC-us timestamps, list, struct)"
    )


def schema_problems(schema: pa.Schema) -> list[str]:
    return [f"{f.name}: {p}" for f in schema if (p := arrow_problem(f.type))]


def parquet_problems(path: str | Path) -> list[str]:
    """What breaks the profile in one Parquet file: its Arrow schema (including a stored
    ``ARROW:schema``) and the logical type of each leaf column."""
    problems = schema_problems(pq.read_schema(path))
    for col in pq.ParquetFile(path).schema:
        logical = col.logical_type
        where = f"{col.path} ({col.physical_type}, {logical})"
        if col.physical_type in ("INT96", "FIXED_LEN_BYTE_ARRAY"):
            problems.append(f"{where}: physical type {col.physical_type}")
        elif logical.type not in _LOGICAL:
            problems.append(f"{where}: logical type {logical.type}")
        elif logical.type == "INT" and '"isSigned":true' not in logical.to_json():
            problems.append(f"{where}: unsigned integer")
        elif logical.type == "TIMESTAMP" and not _utc_micros(logical.to_json()):
            problems.append(f"{where}: timestamps must be UTC microseconds")
        elif col.converted_type in ("INTERVAL", "DECIMAL", "MAP", "MAP_KEY_VALUE"):
            problems.append(f"{where}: converted type {col.converted_type}")
    return problems


def _utc_micros(logical_json: str) -> bool:
    return '"isAdjustedToUTC":true' in logical_json and '"timeUnit":"microseconds"' in logical_json


def duckdb_type_problem(t) -> str | None:
    """Why a DuckDB column type (``DuckDBPyType``, e.g. from ``relation.types``) is outside
    the profile, or None."""
    kind = t.id.lower()
    if kind == "list":
        return duckdb_type_problem(t.children[0][1])
    if kind == "struct":
        for name, child in t.children:
            if problem := duckdb_type_problem(child):
                return f"{name}: {problem}"
        return None
    if kind in _DUCK_SCALARS:
        return None
    return f"{t} is not portable"


def partition_value_problem(value: str) -> str | None:
    """Why a hive partition value would not come back as the same text from every reader."""
    if value == "" or _NOT_TEXT.match(value):
        return f"{value!r} looks like a number, date, boolean or null to hive readers"
    return None
