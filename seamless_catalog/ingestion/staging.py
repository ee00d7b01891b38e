"""Parsed rows waiting for the commit, in batches that survive a crash.

Each batch is a folder ``staging/batch-<id>/`` with one Parquet file per table and
a ``DONE.json`` naming the units (and their fingerprints) it holds. A batch is
built under a temp name and renamed into place, so it is whole or absent: a run
that was killed resumes by reusing every batch whose units are unchanged. A batch that
holds an older version of a unit (changed since the killed run staged it) is dropped
whole, and its other units are parsed again: its rows would join the new version's.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from .sink import RowSink
from .units import Unit

# the columns repeated on every row of a document: only these are worth a dictionary (written
# and read once, staging pays for encoding, not for size; measured 40 % less CPU to write)
DICTIONARY = ("file_id", "label", "split", "source_unit")
# nor for compression: uncompressed staging costs ~25 % less CPU to write (and less to read)
# for files ~2.5x larger that live only until the commit; the statistics stay (the merge's
# partition and range filters skip row groups by them)
COMPRESSION = "none"


class Staging:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "staging"
        self.done: dict[str, str] = {}  # unit key -> fingerprint, over all whole batches
        self._batches: dict[Path, dict[str, str]] = {}  # batch -> its units' fingerprints
        if self.dir.exists():
            for batch in sorted(self.dir.glob("batch-*")):
                marker = batch / "DONE.json"
                if marker.exists():
                    self._batches[batch] = json.loads(marker.read_text())
                    self.done.update(self._batches[batch])
            for tmp in self.dir.glob(".tmp-*"):  # a batch a killed run did not finish
                shutil.rmtree(tmp, ignore_errors=True)

    def drop_stale(self, units: list[Unit]) -> None:
        """Remove the batches that staged another version of any of ``units``."""
        current = {u.key: u.fingerprint for u in units}
        for batch, marker in list(self._batches.items()):
            if any(current.get(key, fp) != fp for key, fp in marker.items()):
                shutil.rmtree(batch)
                del self._batches[batch]
        self.done = {k: fp for marker in self._batches.values() for k, fp in marker.items()}

    def is_done(self, unit: Unit) -> bool:
        return self.done.get(unit.key) == unit.fingerprint

    def write(self, units: list[Unit], sink: RowSink) -> None:
        """Stage the rows ``sink`` collected for ``units`` as one whole batch."""
        if not units:
            return
        tmp = self.new_folder()
        write_tables(tmp, sink)
        self.adopt(tmp, units)

    def new_folder(self) -> Path:
        """A temp folder for one batch's tables (a worker process may fill it)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".tmp-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        return tmp

    def adopt(self, tmp: Path, units: list[Unit]) -> None:
        """Make the batch in ``tmp`` whole: name its units, rename it into place."""
        marker = {u.key: u.fingerprint for u in units}
        (tmp / "DONE.json").write_text(json.dumps(marker))
        final = self.dir / f"batch-{tmp.name.removeprefix('.tmp-')}"
        tmp.rename(final)
        self.done.update(marker)
        self._batches[final] = marker

    def files(self, table: str) -> list[Path]:
        return [p for b in self._batches if (p := b / f"{table}.parquet").exists()]


def write_tables(folder: Path, sink: RowSink) -> None:
    """One Parquet file per table of the rows ``sink`` holds, in ``folder`` (which exists:
    a worker whose run was killed and cleaned up must not make it again)."""
    for name, table in sink.tables().items():
        pq.write_table(
            table,
            folder / f"{name}.parquet",
            compression=COMPRESSION,
            use_dictionary=[c for c in table.column_names if c in DICTIONARY],
        )
