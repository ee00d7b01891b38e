"""One receipt per run of a shard: a JSON Lines file under ``{to}/.seamless-catalog/receipts/``,
named ``{run_id}.{plan_id}.{k}-of-{n}.jsonl`` so that names sort by time and say which plan
and shard they account for (``materialize status`` reads them by plan).

Each line is one output file: ``run``, ``plan``, ``shard`` (``k/n``), ``file_id``, ``ext``,
``name``, ``path`` (relative to the target folder), ``source`` (URI), ``key`` (object in the
source), ``bytes`` (transferred by this run), ``size``, ``sha256`` (when verified against the
source's, or of a merged output; else null), ``status`` (delivered, skipped, failed) and
``reason``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from ...errors import disk_errors
from ...store.snapshots import write_atomic
from .local import STATE_DIR

STATUSES = ("delivered", "skipped", "failed")


@dataclass
class Outcome:
    file_id: str
    ext: str | None
    name: str | None
    path: str | None
    source: str
    key: str | None
    bytes: int
    size: int | None
    sha256: str | None
    status: str
    reason: str = ""

    @classmethod
    def failure(cls, key: str, source: str, reason: str) -> Outcome:
        """A selected key that gave nothing to fetch (not in the catalog, an invalid window)."""
        return cls(key, None, None, None, source, None, 0, None, None, "failed", reason)


def receipts_dir(to: Path) -> Path:
    return to / STATE_DIR / "receipts"


def new_run_id() -> str:
    """``20250701T120000.123456789-1a2b3c4d``: sorts by the time the run ended, unique."""
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000))
    return f"{stamp}.{ns % 1_000_000_000:09d}-{uuid.uuid4().hex[:8]}"


def shard_tag(plan_id: str, shard: tuple[int, int]) -> str:
    """``{plan_id}.{k}-of-{n}``: what a receipt (and a shard lock) is named after."""
    return f"{plan_id}.{shard[0]}-of-{shard[1]}"


def write_receipt(
    to: Path,
    run_id: str,
    outcomes: list[Outcome],
    plan_id: str | None = None,
    shard: tuple[int, int] = (1, 1),
) -> Path:
    """Write the receipt atomically; its name sorts by time (``{run_id}.{tag}.jsonl``)."""
    folder = receipts_dir(to)
    tag = shard_tag(plan_id, shard) if plan_id else ""
    name = f"{run_id}.{tag}.jsonl" if tag else f"{run_id}.jsonl"
    extra = {"plan": plan_id, "shard": f"{shard[0]}/{shard[1]}"} if plan_id else {}
    with disk_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
        # temp files of a killed run of this shard (the caller holds its lock; other shards'
        # runs may be writing theirs beside)
        for stale in folder.glob(f".*.{tag}.jsonl.*.tmp" if tag else ".*.tmp"):
            stale.unlink(missing_ok=True)
        lines = "".join(json.dumps({"run": run_id, **extra, **asdict(o)}) + "\n" for o in outcomes)
        write_atomic(folder / name, lines.encode())
    return folder / name


def plan_receipts(to: Path, plan_id: str) -> list[tuple[Path, tuple[int, int]]]:
    """The receipts of one plan, oldest first, with the shard each accounts for."""
    folder = receipts_dir(to)
    out = []
    for path in sorted(folder.glob(f"*.{plan_id}.*-of-*.jsonl")) if folder.is_dir() else []:
        k, _, n = path.name.removesuffix(".jsonl").rsplit(".", 1)[1].partition("-of-")
        out.append((path, (int(k), int(n))))
    return out


def last_receipt(to: Path) -> Path | None:
    folder = receipts_dir(to)
    found = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return found[-1] if found else None


def read_receipt(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def last_failures(to: Path) -> list[dict]:
    """The failed rows of the most recent receipt (empty when there is none)."""
    path = last_receipt(to)
    return [r for r in read_receipt(path) if r["status"] == "failed"] if path else []
