"""The sink parsers write rows into: column-wise per table, for any number of units in turn.

Every row carries its unit's key in ``source_unit``, so that a re-ingest swaps exactly that
unit's rows; bad records become ``ingest_issues`` rows with their location and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from ..store import schema

if TYPE_CHECKING:
    from .units import Unit

DOC_BATCH_BYTES = 16 << 20  # merged documents parsed together (see RowSink.defer_document)


class Sink(Protocol):
    unit: str

    def add(self, table: str, **values: Any) -> None: ...

    def issue(
        self, location: str, reason: str, file_id: str | None = None, severity: str = "error"
    ) -> None: ...


class RowSink:
    """Collects rows column-wise per table, for any number of units in turn.

    Merged JSON documents are not parsed when they arrive: :meth:`defer_document` holds
    them until :meth:`flush_documents` (or enough bytes) parses them together in Arrow
    (:mod:`.docbatch`), whose tables :meth:`add_arrow` keeps beside the Python rows."""

    def __init__(self, run_id: str, source: str = "") -> None:
        self.run_id = run_id
        self.unit = ""
        self.source = source
        self.columns: dict[str, dict[str, list[Any]]] = {}
        self.arrow: dict[str, list[pa.Table]] = {}
        self.n_rows = 0
        self.n_errors = 0
        self._docs: list[Any] = []  # docbatch.Doc
        self._doc_bytes = 0

    def absorb(self, part: RowSink) -> None:
        """Take over the rows (and documents not parsed yet) that ``part`` collected."""
        for table, cols in part.columns.items():
            into = self.columns.setdefault(table, {name: [] for name in cols})
            for name, values in cols.items():
                into[name].extend(values)
        for table, parts in part.arrow.items():
            self.arrow.setdefault(table, []).extend(parts)
        self.n_rows += part.n_rows
        self.n_errors += part.n_errors
        self._docs += part._docs
        self._doc_bytes += part._doc_bytes
        part.columns, part.arrow, part._docs, part._doc_bytes = {}, {}, [], 0
        if self._doc_bytes >= DOC_BATCH_BYTES:
            self.flush_documents()

    def add_arrow(self, table: str, rows: pa.Table) -> None:
        self.arrow.setdefault(table, []).append(rows)
        self.n_rows += rows.num_rows

    def defer_document(self, doc: Any) -> None:
        """Hold one merged document (a ``docbatch.Doc``) for a batch parse."""
        self._docs.append(doc)
        self._doc_bytes += len(doc.data)
        if self._doc_bytes >= DOC_BATCH_BYTES:
            self.flush_documents()

    def flush_documents(self) -> None:
        from . import docbatch

        docs, self._docs, self._doc_bytes = self._docs, [], 0
        if docs:
            docbatch.parse(self, docs)

    def tables(self) -> dict[str, pa.Table]:
        """Every row collected, one Arrow table per catalog table (documents flushed first)."""
        self.flush_documents()
        out = {}
        for name in sorted(self.columns.keys() | self.arrow.keys()):
            t = schema.table(name).schema
            parts = [r.select(t.names).cast(t) for r in self.arrow.get(name, [])]
            if name in self.columns:
                parts.insert(0, pa.Table.from_pydict(self.columns[name], schema=t))
            out[name] = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        return out

    def begin(self, unit: Unit) -> None:
        self.unit = unit.key
        self.source = unit.source

    def add(self, table: str, **values: Any) -> None:
        cols = self.columns.get(table)
        if cols is None:
            cols = self.columns[table] = {name: [] for name in schema.table(table).names}
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
