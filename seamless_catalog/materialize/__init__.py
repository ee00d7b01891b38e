"""Download exactly the files a selection names: plan, fetch, verify, write, receipt.

Modules: ``selection`` (SQL or a file -> file rows), ``shard`` (split by interaction),
``plan`` (items and requests), ``tars`` / ``perfile`` (items of each source layout),
``merge`` (npy/JSON Lines -> npz/json as upstream), ``write`` (atomic temp files),
``fetch`` (the worker pool), ``receipts`` (one JSON Lines receipt per run), ``run``.
"""

from __future__ import annotations

from .run import DEFAULT_SOURCE, MODALITIES, MaterializeResult, build_plan, materialize
from .shard import shard_of

__all__ = [
    "DEFAULT_SOURCE",
    "MODALITIES",
    "MaterializeResult",
    "build_plan",
    "materialize",
    "shard_of",
]
