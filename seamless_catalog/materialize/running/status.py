"""How far a plan is: per shard and in total, the items done, failed and missing, and bytes.

Exact, from the files on disk and the plan's receipts. *done*: the file is on disk and
verified, by the same check a run uses to skip it (size, and sha256 where known; the facts of
a merged output). *failed*: not done, and the latest receipt of this plan that mentions it
says failed. *missing*: neither (never attempted, interrupted, or deleted since).

It also names each *partially filled archive folder*: a folder of the plan's archives that
exists under the destination but holds fewer files than its archive extracts to (as the plan
recorded, :mod:`..planning.archives`). The upstream toolkit's
``download_archive_from_hf(extract=True)`` takes such a folder as already extracted, from
its existence alone, and would leave the other samples of the archive missing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ...select.shard import shard_of_hash
from ..planning.planfile import PlanFile
from .local import check_present
from .partial import PartialArchive, partial_archives
from .receipts import plan_receipts, read_receipt
from .shards import open_plan

STATES = ("done", "failed", "missing")


@dataclass
class Counts:
    done: int = 0
    failed: int = 0
    missing: int = 0
    bytes_done: int = 0
    bytes_failed: int = 0
    bytes_missing: int = 0

    @property
    def items(self) -> int:
        return self.done + self.failed + self.missing

    def add(self, state: str, n_bytes: int) -> None:
        setattr(self, state, getattr(self, state) + 1)
        key = f"bytes_{state}"
        setattr(self, key, getattr(self, key) + n_bytes)


@dataclass
class PlanStatus:
    plan_id: str
    to: Path
    n: int  # shards counted by
    shards: dict[int, Counts]
    total: Counts
    receipts: int
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path or id, reason)
    partial: list[PartialArchive] = field(default_factory=list)  # archive folders part-filled

    @property
    def complete(self) -> bool:
        return self.total.done == self.total.items

    def unfinished(self) -> set[int]:
        """Shards with something failed or missing."""
        return {k for k, c in self.shards.items() if c.failed or c.missing}


def plan_status(
    plan: str | Path | PlanFile, shards: int | None = None, to: str | Path | None = None
) -> PlanStatus:
    """The state of every item of a plan; counted by ``shards`` shards (default: the N of the
    plan's latest receipt, else 1)."""
    pf = open_plan(plan, to)
    found = plan_receipts(pf.to, pf.plan_id)
    n = shards or (found[-1][1][1] if found else 1)
    latest: dict[str, dict] = {}
    for path, _ in found:  # oldest first: later rows win
        for row in read_receipt(path):
            latest[row.get("path") or row["file_id"]] = row
    st = PlanStatus(pf.plan_id, pf.to, n, {k: Counts() for k in range(1, n + 1)}, Counts(),
                    len(found))  # fmt: skip
    for item, bucket in zip(pf.items, pf.buckets):
        probe = dataclasses.replace(item)
        if probe.state == "todo":
            check_present(pf.to, probe)
        size = probe.size if probe.size is not None else probe.needed
        last = latest.get(item.dest, {})
        state = _state(probe.state == "present", last)
        _count(st, shard_of_hash(bucket, n), state, size)
        if state == "failed":
            st.failures.append((item.dest, last.get("reason", "")))
    for file_id, bucket in [*pf.unknown, *((key, b) for key, _, b in pf.invalid)]:
        last = latest.get(file_id, {})
        state = _state(False, last)
        _count(st, shard_of_hash(bucket, n), state, 0)
        if state == "failed":
            st.failures.append((file_id, last.get("reason", "")))
    st.partial = partial_archives(pf.to, pf.archives)
    return st


def _state(done: bool, last: dict) -> str:
    if done:
        return "done"
    return "failed" if last.get("status") == "failed" else "missing"


def _count(st: PlanStatus, k: int, state: str, size: int) -> None:
    st.shards[k].add(state, size)
    st.total.add(state, size)
