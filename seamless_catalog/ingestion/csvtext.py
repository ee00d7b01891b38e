"""CSV records with the physical line each starts on, from bytes in any tolerable state."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .sink import Sink


def decode(data: bytes, location: str, sink: Sink) -> str:
    """UTF-8 (a BOM is dropped); invalid bytes become U+FFFD and are reported once."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        sink.issue(
            location, f"invalid UTF-8 at byte {e.start}; replaced with U+FFFD", None, "warning"
        )
        return data.decode("utf-8-sig", errors="replace")


def records(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (names stripped) and an iterator of (line number, fields)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        for row in reader:
            if row:  # blank lines are not records
                yield start, row
            start = reader.line_num + 1

    return header, rows()


def as_dicts(
    header: list[str], rows: Iterator[tuple[int, list[str]]], location: str, sink: Sink
) -> Iterator[tuple[int, dict[str, str]]]:
    """Records as dicts by header name; a record of the wrong width is quarantined."""
    for line, row in rows:
        if len(row) != len(header):
            sink.issue(f"{location}:{line}", f"expected {len(header)} fields, found {len(row)}")
            continue
        yield line, dict(zip(header, row))
