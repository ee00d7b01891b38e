"""Download exactly the files a selection names: plan, fetch, verify, write, receipt.

Modules: ``selection`` (SQL or a file -> file rows), ``shard`` (split by interaction),
``plan`` (items and requests), ``tars`` / ``perfile`` (items of each source layout),
``merge`` (npy/JSON Lines -> npz/json as upstream), ``write`` (atomic temp files),
``fetch`` (the worker pool), ``receipts`` (one JSON Lines receipt per shard run), ``run``.
Across machines: ``planfile`` (a plan as Parquet), ``planrun`` (one shard of it),
``engines`` (local, Ray, Dask schedule shards), ``status`` (done/failed/missing).
"""

from __future__ import annotations

from .engines import retry_plan, run_plan
from .planfile import read_plan
from .planrun import make_plan, run_shard
from .run import DEFAULT_SOURCE, MODALITIES, MaterializeResult, materialize
from .shard import shard_hash, shard_of
from .status import plan_status

__all__ = [
    "DEFAULT_SOURCE",
    "MODALITIES",
    "MaterializeResult",
    "make_plan",
    "materialize",
    "plan_status",
    "read_plan",
    "retry_plan",
    "run_plan",
    "run_shard",
    "shard_hash",
    "shard_of",
]
