"""Download exactly the files a selection names: plan, then fetch, verify, write, receipt.

``planning/`` turns selected files into items and byte ranges without looking at the
destination; ``running/`` settles a plan against the destination, fetches, writes atomically
and leaves receipts, here or on Ray/Dask/array jobs; ``jobs`` holds the entry points that
select, plan and run (``materialize``) or write a plan file (``make_plan``).
"""

from __future__ import annotations

from ..config import DEFAULT_SOURCE
from ..layout import MODALITIES
from ..select.shard import shard_hash, shard_of
from .jobs import ClipOptions, make_plan, materialize
from .planning.items import Item, Part, Plan, Request
from .planning.planfile import read_plan
from .planning.sources import plan_files
from .running.engines import retry_plan, run_plan
from .running.runner import MaterializeResult
from .running.shards import run_shard
from .running.status import plan_status

__all__ = [
    "DEFAULT_SOURCE",
    "ClipOptions",
    "MODALITIES",
    "Item",
    "MaterializeResult",
    "Part",
    "Plan",
    "Request",
    "make_plan",
    "materialize",
    "plan_files",
    "plan_status",
    "read_plan",
    "retry_plan",
    "run_plan",
    "run_shard",
    "shard_hash",
    "shard_of",
]
