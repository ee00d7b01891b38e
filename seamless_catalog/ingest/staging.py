"""Parsed rows waiting for the commit, in batches that survive a crash.

Each batch is a folder ``staging/batch-<id>/`` with one Parquet file per table and
a ``DONE.json`` naming the units (and their fingerprints) it holds. A batch is
built under a temp name and renamed into place, so it is whole or absent: a run
that was killed resumes by reusing every batch whose units are unchanged.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema
from .units import RowSink, Unit


class Staging:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "staging"
        self.done: dict[str, str] = {}  # unit key -> fingerprint, over all whole batches
        self._batches: list[Path] = []
        if self.dir.exists():
            for batch in sorted(self.dir.glob("batch-*")):
                marker = batch / "DONE.json"
                if marker.exists():
                    self.done.update(json.loads(marker.read_text()))
                    self._batches.append(batch)
            for tmp in self.dir.glob(".tmp-*"):  # a batch a killed run did not finish
                shutil.rmtree(tmp, ignore_errors=True)

    def is_done(self, unit: Unit) -> bool:
        return self.done.get(unit.key) == unit.fingerprint

    def write(self, units: list[Unit], sink: RowSink) -> None:
        """Stage the rows ``sink`` collected for ``units`` as one whole batch."""
        if not units:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        bid = uuid.uuid4().hex[:12]
        tmp = self.dir / f".tmp-{bid}"
        tmp.mkdir()
        for name, cols in sink.columns.items():
            table = pa.Table.from_pydict(cols, schema=schema.table(name).schema)
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        marker = {u.key: u.fingerprint for u in units}
        (tmp / "DONE.json").write_text(json.dumps(marker))
        final = self.dir / f"batch-{bid}"
        tmp.rename(final)
        self.done.update(marker)
        self._batches.append(final)

    def files(self, table: str) -> list[Path]:
        return [p for b in self._batches if (p := b / f"{table}.parquet").exists()]
