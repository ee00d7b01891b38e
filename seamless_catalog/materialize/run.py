"""``materialize()``: select, plan, fetch, verify, write, and leave a receipt."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..catalog import Catalog
from ..config import Settings
from ..errors import UsageError
from ..ids import LABELS, SPLITS
from ..remote import ObjectStore, open_store
from . import fetch, receipts
from .perfile import JSON_GROUPS, NPZ_GROUPS, plan_perfile
from .plan import MERGED, Plan, build_requests, check_present
from .planfile import interaction_of, items_plan_id
from .receipts import Outcome
from .selection import FileRow, select
from .shard import parse_shard, take_shard
from .tars import plan_tars
from .write import destination_lock

DEFAULT_SOURCE = f"hf://datasets/{config.HF_REPO}"
EXTENSIONS = ("json", "mp4", "npz", "wav")
GROUPS = {  # coarse modality -> fine groups of the per-file layout
    "json": JSON_GROUPS,
    "npz": NPZ_GROUPS,
    "wav": ("audio",),
    "mp4": ("video",),
}
FINE = {g: ext for ext, groups in GROUPS.items() for g in groups}
MODALITIES = EXTENSIONS + tuple(FINE)
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

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures


def parse_modalities(modalities: str | Iterable[str]) -> tuple[str, ...]:
    names = modalities.split(",") if isinstance(modalities, str) else list(modalities)
    names = [n.strip() for n in names if n.strip()]
    bad = [n for n in names if n not in MODALITIES]
    if bad or not names:
        raise UsageError(f"unknown modalities {bad or names}: choose from {', '.join(MODALITIES)}")
    return tuple(dict.fromkeys(names))


def source_layout(uri: str, store: ObjectStore) -> str:
    """ "tar" for the Hub or a folder of its tars, "per-file" for S3, HTTPS or their mirror."""
    if uri.startswith("hf://"):
        return "tar"
    if uri.startswith(("s3://", "http://", "https://")):
        return "per-file"
    root = Path(uri)
    for label in LABELS:
        for split in SPLITS:
            folder = root / label / split
            if any((folder / g).is_dir() for g in ("audio", "video", "metadata", "smplh")):
                return "per-file"
    return "tar"


def _dest(row: FileRow, ext: str) -> str:
    return f"{row.folder}/{row.file_id}.{ext}"


def plan_sources(
    cat: Catalog,
    store: ObjectStore,
    rows: list[FileRow],
    modalities: tuple[str, ...],
    merge: bool = True,
    workers: int = 4,
) -> Plan:
    """The items of ``rows`` and the byte ranges of the source they are made of (no local
    state looked at): shared by the materializer and the readers that never write a file."""
    layout = source_layout(store.uri, store)
    plan = Plan(store.uri, layout, [])
    if layout == "tar":
        wanted = {FINE.get(m, m) for m in modalities}
        exts = [e for e in EXTENSIONS if e in wanted]
        plan_tars(cat, store, rows, exts, plan, _dest)
    else:
        groups = {g for m in modalities for g in (GROUPS.get(m) or (m,))}
        plan_perfile(cat, store, rows, groups, merge, plan, _dest, workers)
    return plan


def settle(plan: Plan, to: Path) -> Plan:
    """Mark what is already on disk and verified, then group the rest into requests."""
    for item in plan.items:
        if item.state == "todo":
            check_present(to, item)
    plan.requests = build_requests(plan.items)
    plan.merged = [i for i in plan.items if i.state == "todo" and i.kind in MERGED]
    return plan


@dataclass
class Planned:
    """A selection planned (no local state looked at): its items, the file ids the catalog
    does not know, and the store they come from."""

    plan: Plan
    unknown: list[str]
    store: ObjectStore


def plan_selection(
    catalog_dir: str | Path,
    *,
    sql: str | None = None,
    selection: str | Path | None = None,
    ids: list[str] | None = None,
    source: str = DEFAULT_SOURCE,
    modalities: str | Iterable[str] = EXTENSIONS,
    pairs: bool = False,
    merge: bool = True,
    workers: int = 4,
    shard: tuple[int, int] | None = None,
    settings: Settings | None = None,
    before_planning: Callable[[], None] = lambda: None,
) -> Planned:
    """Select the files (``sql``, a ``selection`` file or ``ids``), keep shard ``(k, n)`` of
    them, and plan their items from ``source``. ``before_planning`` runs once the selection
    is known, before the source is read (the destination lock is taken there)."""
    settings = settings or config.from_env()
    mods = parse_modalities(modalities)
    # user SQL runs on a connection confined to the catalog (and the selection file's folder)
    allow = [Path(selection).resolve().parent] if selection is not None else []
    with Catalog.open(catalog_dir, sandbox=True, allow_paths=allow) as cat:
        chosen = select(cat, sql=sql, selection=selection, ids=ids, pairs=pairs)
        rows = take_shard(chosen.files, shard)
        unknown = take_shard(chosen.unknown, shard, key=interaction_of)
        store = open_store(source, settings)
        before_planning()
        plan = plan_sources(cat, store, rows, mods, merge, workers)
    return Planned(plan, list(unknown), store)


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
) -> MaterializeResult:
    """The work of one shard (or of a whole selection): under ``lock``, skip what is on disk
    and verified, fetch the rest (retried, resumed, each tar resolved once by ``store``),
    verify, rename into place, and write the shard's receipt."""
    with lock if lock is not None else contextlib.nullcontext():
        settle(plan, to)
        progress = fetch.Progress(plan.bytes_to_fetch, len(plan.todo), settings.progress)
        try:
            done = fetch.execute(store, to, plan, workers, progress)
        finally:
            progress.close()
        result = MaterializeResult(plan, plan_id=plan_id, shard=shard)
        missing = [
            Outcome(
                fid, None, None, None, plan.source, None, 0, None, None, "failed", NOT_IN_CATALOG
            )  # fmt: skip
            for fid in unknown
        ]
        result.outcomes = missing + _settled(plan) + done
        result.outcomes.sort(key=lambda o: (o.file_id, o.path or ""))
        result.bytes_fetched = sum(o.bytes for o in result.outcomes)
        run_id = receipts.new_run_id()
        result.receipt = receipts.write_receipt(to, run_id, result.outcomes, plan_id, shard)
    return result


def materialize(
    catalog_dir: str | Path,
    *,
    sql: str | None = None,
    selection: str | Path | None = None,
    to: str | Path,
    source: str = DEFAULT_SOURCE,
    modalities: str | Iterable[str] = EXTENSIONS,
    pairs: bool = False,
    dry_run: bool = False,
    workers: int = 4,
    shard: str | tuple[int, int] | None = None,
    retry_failed: bool = False,
    merge: bool = True,
    settings: Settings | None = None,
) -> MaterializeResult:
    """Download exactly the files a selection names, into the upstream local layout.

    ``sql`` (a result with ``file_id``, ``interaction_key`` or ``session_key``) or
    ``selection`` (CSV/Parquet with such a column, or a text file of ids) chooses the files;
    ``pairs`` adds the other side of each pair; ``shard=(k, n)`` keeps the k-th of n
    interaction-wise parts; ``retry_failed`` redoes only the failures of the last receipt.
    This is a plan (in memory; ``materialize plan`` writes it to a file) run as one shard.
    """
    settings = settings or config.from_env()
    to = Path(to)
    parse_modalities(modalities)  # a bad list fails here, before any catalog or lock
    shard_kn = parse_shard(shard)
    if workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    if retry_failed and (sql is not None or selection is not None):
        raise UsageError("--retry-failed takes its selection from the last receipt: drop --sql")
    with contextlib.ExitStack() as held:
        retry = receipts.last_failures(to) if retry_failed else None
        if retry is not None and not retry:
            return MaterializeResult(Plan(source, "", []), dry_run=dry_run)
        ids = sorted({r["file_id"] for r in retry}) if retry is not None else None

        def lock() -> None:  # one run at a time writes into ``to``; "present" is decided under it
            if not dry_run:
                held.enter_context(destination_lock(to))

        planned = plan_selection(
            catalog_dir, sql=sql, selection=selection, ids=ids, source=source,
            modalities=modalities, pairs=pairs, merge=merge, workers=workers, shard=shard_kn,
            settings=settings, before_planning=lock,
        )  # fmt: skip
        plan = planned.plan
        if retry is not None:  # just the outputs that failed last time
            only = {r["path"] for r in retry if r.get("path")}
            plan.items = [i for i in plan.items if i.dest in only]
        if dry_run:
            return MaterializeResult(settle(plan, to), dry_run=True)
        plan_id = items_plan_id(plan.items, planned.unknown, plan.source)
        return run_items(
            planned.store, to, plan, planned.unknown, workers=workers, settings=settings,
            plan_id=plan_id, shard=shard_kn or (1, 1),
        )  # fmt: skip


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
