"""A PyTorch ``IterableDataset`` over a stream (this module imports torch: load it lazily).

Each DataLoader worker opens its own catalog connection and reads every
``num_workers``-th sample of its rank's part, so workers and ranks never overlap; with
``batch_size=None`` or ``1`` a DataLoader yields them in the rank's stream order.
Known issue: with forked workers, a test process that also holds catalog connections was
seen to take about a minute longer to exit (cause not yet found).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch.utils.data import IterableDataset, get_worker_info

from ..store.catalogdb import CatalogDB
from .stream import SampleStream


class SeamlessIterableDataset(IterableDataset):
    def __init__(self, catalog_dir: str | Path, sql: str, **options: Any) -> None:
        super().__init__()
        self.catalog_dir = Path(catalog_dir)
        self.sql = sql
        self.options = options

    def __iter__(self):
        info = get_worker_info()
        worker = (info.id, info.num_workers) if info is not None else (0, 1)
        with CatalogDB.open(self.catalog_dir) as cat:
            yield from SampleStream(cat, self.sql, worker=worker, **self.options)
