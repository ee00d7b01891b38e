"""One receipt per run: a JSON Lines file under ``{to}/.seamless-catalog/receipts/``.

Each line is one output file: ``run``, ``file_id``, ``ext``, ``name``, ``path`` (relative to
the target folder), ``source`` (URI), ``key`` (object in the source), ``bytes`` (transferred
by this run), ``size``, ``sha256``, ``status`` (delivered, skipped, failed) and ``reason``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import disk_errors
from ..store import write_atomic
from .plan import STATE_DIR

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


def receipts_dir(to: Path) -> Path:
    return to / STATE_DIR / "receipts"


def new_run_id() -> str:
    """``20250701T120000.123456789-1a2b3c4d``: sorts by the time the run ended, unique."""
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000))
    return f"{stamp}.{ns % 1_000_000_000:09d}-{uuid.uuid4().hex[:8]}"


def write_receipt(to: Path, run_id: str, outcomes: list[Outcome]) -> Path:
    """Write the receipt atomically; its name sorts by time (``{run_id}.jsonl``)."""
    folder = receipts_dir(to)
    path = folder / f"{run_id}.jsonl"
    with disk_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(".*.tmp"):  # of a killed run (the caller holds the lock)
            stale.unlink(missing_ok=True)
        lines = "".join(json.dumps({"run": run_id, **asdict(o)}) + "\n" for o in outcomes)
        write_atomic(path, lines.encode())
    return path


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
