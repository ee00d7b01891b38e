"""Write a query result as a text table, CSV, JSON, JSON Lines or Parquet."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import duckdb
import pyarrow.parquet as pq

from ..errors import UsageError, disk_errors
from ..store.catalogdb import query_failed

FORMATS = ("table", "csv", "json", "jsonl", "parquet")
_CELL_MAX = 60


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= _CELL_MAX else text[: _CELL_MAX - 1] + "…"


def format_table(columns: list[str], rows: list[tuple]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), line]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(s.rstrip() for s in out) + "\n"


def _jsonable(value: Any) -> Any:
    return (
        value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
    )


def write(
    rel: duckdb.DuckDBPyRelation, fmt: str, output: str | None = None, stream: IO[str] | None = None
) -> int:
    """Write ``rel`` in ``fmt`` to ``output`` (a path) or ``stream``; returns the row count.

    The rows are fetched before ``output`` is opened, so a query that fails at run time leaves
    no file; a write that fails (no such folder, read-only, full) removes what it began and
    raises a :class:`~seamless_catalog.errors.DiskError` naming ``output``."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "parquet" and not output:
        raise UsageError("--format parquet needs --output FILE")
    try:
        if fmt == "parquet":  # pyarrow writes: the query connection has no file access
            table = rel.to_arrow_table()
        else:
            columns, rows = rel.columns, rel.fetchall()
    except duckdb.Error as e:
        raise query_failed(e) from e
    if fmt == "parquet":
        with _written(output):
            pq.write_table(table, output, compression="zstd")
        return table.num_rows
    with (
        _written(output),
        open(output, "w", newline="", encoding="utf-8") if output else _nullcontext(stream) as f,
    ):
        if fmt == "table":
            f.write(format_table(columns, rows))
        elif fmt == "csv":
            w = csv.writer(f)
            w.writerow(columns)
            w.writerows(rows)
        else:
            records = [{c: _jsonable(v) for c, v in zip(columns, r)} for r in rows]
            if fmt == "json":
                json.dump(records, f, indent=2, default=str)
                f.write("\n")
            else:
                f.writelines(json.dumps(r, default=str) + "\n" for r in records)
    return len(rows)


@contextlib.contextmanager
def _written(output: str | None) -> Iterator[None]:
    """Writing ``output``: an OSError becomes a DiskError naming it, and the file begun is
    removed (a file that was there before is left as it was only when it was never opened)."""
    existed = output is not None and os.path.lexists(output)
    try:
        with disk_errors(output):
            yield
    except BaseException:
        if output is not None and not existed:
            with contextlib.suppress(OSError):
                os.unlink(output)
        raise


class _nullcontext:
    def __init__(self, stream: IO[str] | None) -> None:
        self.stream = stream or sys.stdout

    def __enter__(self) -> IO[str]:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()
