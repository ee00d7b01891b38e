"""Run a plan: skip what is on disk and verified, fetch the rest, verify, rename into place,
and leave a receipt (one shard's work, or a whole selection's)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from ...config import Settings
from ...remote import ObjectStore
from ..planning.items import MERGED, Plan, build_requests
from . import fetch, receipts
from .local import check_present
from .partial import PartialArchive
from .receipts import Outcome

NOT_IN_CATALOG = "not in the catalog"


@dataclass
class MaterializeResult:
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    receipt: Path | None = None
    dry_run: bool = False
    bytes_fetched: int = 0
    plan_id: str | None = None
    shard: tuple[int, int] | None = None
    partial: list[PartialArchive] = field(default_factory=list)  # archive folders part-filled
    unknown: tuple[str, ...] = ()  # every selected key the catalog does not know (named)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unknown


def settle(plan: Plan, to: Path) -> Plan:
    """Mark what is already on disk and verified, then group the rest into requests."""
    for item in plan.items:
        if item.state == "todo":
            check_present(to, item)
    plan.requests = build_requests(plan.items)
    plan.merged = [i for i in plan.items if i.state == "todo" and i.kind in MERGED]
    return plan


def run_items(
    store: ObjectStore,
    to: Path,
    plan: Plan,
    unknown: list[str],
    *,
    workers: int,
    settings: Settings,
    plan_id: str | None = None,
    shard: tuple[int, int] = (1, 1),
    lock: contextlib.AbstractContextManager | None = None,
    rejected: list[Outcome] | None = None,
) -> MaterializeResult:
    """The work of one shard (or of a whole selection): under ``lock``, skip what is on disk
    and verified, fetch the rest (retried, resumed, each tar resolved once by ``store``),
    verify, rename into place, and write the shard's receipt. ``rejected``: selection rows
    that gave nothing to fetch (invalid windows), reported as failures in the receipt."""
    with lock if lock is not None else contextlib.nullcontext():
        settle(plan, to)
        progress = fetch.Progress(plan.bytes_to_fetch, len(plan.todo), settings.progress)
        try:
            done = fetch.execute(store, to, plan, workers, progress)
        finally:
            progress.close()
        result = MaterializeResult(plan, plan_id=plan_id, shard=shard)
        missing = [Outcome.failure(key, plan.source, NOT_IN_CATALOG) for key in unknown]
        result.outcomes = missing + list(rejected or []) + _settled(plan) + done
        result.outcomes.sort(key=lambda o: (o.file_id, o.path or ""))
        result.bytes_fetched = sum(o.bytes for o in result.outcomes)
        run_id = receipts.new_run_id()
        result.receipt = receipts.write_receipt(to, run_id, result.outcomes, plan_id, shard)
    return result


def _settled(plan: Plan) -> list[Outcome]:
    """Outcomes known before any transfer: files already present, files that cannot be had."""
    out = []
    for item in plan.items:
        if item.state in ("present", "failed"):
            status = "skipped" if item.state == "present" else "failed"
            key = item.parts[0].key if len(item.parts) == 1 else None
            out.append(
                Outcome(
                    item.file_id,
                    item.ext,
                    item.name,
                    item.dest,
                    item.source,
                    key,
                    0,
                    item.size,
                    item.sha256,
                    status,
                    item.reason,
                )  # fmt: skip
            )
    return out
