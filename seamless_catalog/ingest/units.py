"""Ingest units and the sink their parsers write rows into.

A *unit* is the smallest piece of a source that is parsed, fingerprinted and
replaced as a whole: the filelist, one asset CSV, one tar, one archive folder of
a local tree, one file's metadata in the per-file layout. Its rows carry its key
in ``source_unit``, so a re-ingest swaps exactly its rows and nothing else.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import schema


class Sink(Protocol):
    unit: str

    def add(self, table: str, **values: Any) -> None: ...

    def issue(
        self, location: str, reason: str, file_id: str | None = None, severity: str = "error"
    ) -> None: ...


@dataclass(frozen=True)
class Unit:
    key: str  # e.g. "tar:improvised/dev/0000/0003.tar", "filelist"
    kind: str  # "tar", "tree", "cdn", "filelist", "prompts", ...
    source: str  # the source root it was listed from (for removal detection)
    fingerprint: str  # unchanged fingerprint => not parsed again
    parse: Callable[[Sink], None] = field(compare=False, repr=False)


class Source(Protocol):
    """A source lists its units; ``location`` is how the user named it."""

    location: str

    def units(self) -> Iterable[Unit]: ...


class RowSink:
    """Collects rows column-wise per table, for any number of units in turn."""

    def __init__(self, run_id: str, source: str = "") -> None:
        self.run_id = run_id
        self.unit = ""
        self.source = source
        self.columns: dict[str, dict[str, list[Any]]] = {}
        self.n_rows = 0
        self.n_errors = 0

    def begin(self, unit: Unit) -> None:
        self.unit = unit.key
        self.source = unit.source

    def add(self, table: str, **values: Any) -> None:
        cols = self.columns.get(table)
        if cols is None:
            cols = self.columns[table] = {f.name: [] for f in schema.table(table).schema}
        values["source_unit"] = self.unit
        if not values.keys() <= cols.keys():  # a misspelt column is a programming error
            raise KeyError(f"{table} has no column(s) {sorted(values.keys() - cols.keys())}")
        for name, col in cols.items():
            col.append(values.get(name))
        self.n_rows += 1

    def issue(
        self, location: str, reason: str, file_id: str | None = None, severity: str = "error"
    ) -> None:
        self.n_errors += severity == "error"
        self.add(
            "ingest_issues",
            run_id=self.run_id,
            source=self.source,
            location=location,
            file_id=file_id,
            severity=severity,
            reason=reason,
        )


def file_fingerprint(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def files_fingerprint(paths: Iterable[Path]) -> str:
    h = hashlib.sha1()
    for p in sorted(paths):
        st = os.stat(p)
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def content_fingerprint(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
