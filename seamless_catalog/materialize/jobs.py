"""The materializer's entry points: select, plan, then run (here, or written as a plan file
for other machines). Each opens the catalog for the selection only, and holds the
destination's lock from before the source is read until the receipt is written."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..config import Settings
from ..errors import UsageError
from ..layout import EXTENSIONS, parse_features, parse_modalities
from ..remote import ObjectStore, open_store
from ..select.selection import select
from ..select.shard import parse_shard
from ..select.windows import select_windows, selects_windows
from ..store.catalogdb import CatalogDB
from ..store.snapshots import default_source
from .planning.archives import archive_files
from .planning.clips import plan_clips
from .planning.items import CLIP, Plan
from .planning.planfile import PlanFile, items_plan_id, read_plan, write_plan
from .planning.sources import plan_files, source_layout
from .running import receipts
from .running.partial import partial_archives
from .running.receipts import Outcome
from .running.runner import MaterializeResult, run_items, settle
from .running.write import destination_lock


def open_selected(
    catalog_dir: str | Path, selection: str | Path | None
) -> contextlib.AbstractContextManager[CatalogDB]:
    """The catalog, opened for a user's selection: user SQL runs on a connection confined to
    the catalog (and the selection file's folder)."""
    allow = [Path(selection).resolve().parent] if selection is not None else []
    return CatalogDB.open(catalog_dir, sandbox=True, allow_paths=allow)


@dataclass(frozen=True)
class ClipOptions:
    """How a window selection becomes clips (planning/clips.py). ``windows``: None makes clips
    when the selection's result has ``start_s``/``end_s`` plus ``file_id`` or
    ``interaction_key``, True requires that, False always materializes whole files."""

    windows: bool | None = None
    pad: float = 0.0
    before: float | None = None
    after: float | None = None
    features: str | tuple[str, ...] | None = None
    exact: bool = False


@dataclass
class Planned:
    plan: Plan
    unknown: list[str]  # ids the catalog does not know
    rejected: list[Outcome]  # selection rows that give no clip (invalid windows), as failures
    unknown_keys: tuple[str, ...] = ()  # interaction/session keys the catalog does not know
    files: tuple = ()  # the whole files selected (FileRefs; none for clips)

    @property
    def invalid(self) -> list[tuple[str, str]]:
        """(key, reason) of each rejected row, as a plan file stores them."""
        return [(o.file_id, o.reason) for o in self.rejected]


def plan_selection(
    cat: CatalogDB,
    store: ObjectStore,
    *,
    sql: str | None,
    selection: str | Path | None,
    ids: list[str] | None,
    pairs: bool,
    shard: tuple[int, int] | None,
    modalities: tuple[str, ...],
    merge: bool,
    workers: int,
    clips: ClipOptions,
    selected: Callable[[], object] = lambda: None,
) -> Planned:
    """The plan of a selection: whole files, or the clips of its windows. ``selected`` is
    called once the selection is known to be valid, before planning (materialize takes the
    destination's lock there: an empty or bad selection leaves nothing behind)."""
    features = parse_features(clips.features)
    windows = clips.windows
    if windows is None:
        windows = ids is None and selects_windows(cat, sql, selection)
    if not windows:
        if features is not None or clips.exact:
            raise UsageError("--features and --exact are for clips: select start_s and end_s")
        chosen = select(cat, sql=sql, selection=selection, ids=ids, pairs=pairs, shard=shard)
        selected()
        plan = plan_files(cat, store, chosen.files, modalities, merge, workers)
        return Planned(
            plan, list(chosen.unknown), [], tuple(chosen.unknown_keys), tuple(chosen.files)
        )
    if ids is not None or pairs:
        raise UsageError(
            "windows come from --sql or --selection with start_s and end_s (an interaction_key "
            "window gives both sides): drop --ids/--pairs"
        )
    ws = select_windows(cat, sql=sql, selection=selection, pad=clips.pad, before=clips.before,
                        after=clips.after, shard=shard)  # fmt: skip
    selected()
    tasks = plan_clips(cat, store, ws.windows, modalities, features, clips.exact, merge)
    plan = Plan(store.uri, source_layout(store.uri), [t.item for t in tasks])
    rejected = [
        Outcome.failure(w.key, store.uri, f"{INVALID_ROW} {w.row}: {w.reason}") for w in ws.invalid
    ]
    return Planned(plan, [], rejected)


INVALID_ROW = "selection row"  # how the failure of a row that gave no window begins
NO_CLIP_RETRY = (
    "--retry-failed redoes whole files; for clips run the window selection again "
    "(the clips already made are verified and skipped)"
)


def _of_clips(row: dict) -> bool:
    """Whether a receipt's row is a clip, or a window selection's invalid row."""
    return (row.get("name") or "").startswith(f"{CLIP}:") or (row.get("reason") or "").startswith(
        INVALID_ROW
    )


def materialize(
    catalog_dir: str | Path,
    *,
    sql: str | None = None,
    selection: str | Path | None = None,
    ids: list[str] | None = None,
    to: str | Path,
    source: str | None = None,
    modalities: str | Iterable[str] = EXTENSIONS,
    pairs: bool = False,
    dry_run: bool = False,
    workers: int = 4,
    shard: str | tuple[int, int] | None = None,
    retry_failed: bool = False,
    merge: bool = True,
    settings: Settings | None = None,
    clips: ClipOptions | None = None,
) -> MaterializeResult:
    """Download exactly the files a selection names, into the upstream local layout.

    A selection whose rows have ``start_s``/``end_s`` (see :class:`ClipOptions`) gives clips
    ``{file_id}_t{start_ms:07d}-{end_ms:07d}.{ext}`` in each file's folder, cut by range;
    its invalid windows are failures in the receipt, row by row.

    ``sql`` (a result with ``file_id``, ``interaction_key`` or ``session_key``),
    ``selection`` (CSV/Parquet with such a column, or a text file of ids) or ``ids`` (a list
    of such keys) chooses the files; ``pairs`` adds the other side of each pair;
    ``shard=(k, n)`` keeps the k-th of n interaction-wise parts; ``retry_failed`` redoes only
    the failures of the last receipt. This is a plan (in memory; ``materialize plan`` writes
    it to a file) run as one shard.
    """
    settings = settings or config.from_env()
    source = source or default_source(Path(catalog_dir))
    to = Path(to)
    mods = parse_modalities(modalities)  # a bad list fails here, before any catalog or lock
    shard_kn = parse_shard(shard)
    if workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    if retry_failed and (sql is not None or selection is not None or ids is not None):
        raise UsageError("--retry-failed takes its selection from the last receipt: drop --sql")
    if retry_failed and clips is not None and clips.windows:
        raise UsageError(NO_CLIP_RETRY)
    retry = receipts.last_failures(to) if retry_failed else None
    if retry and any(_of_clips(r) for r in retry):  # else it would plan their whole files,
        raise UsageError(NO_CLIP_RETRY)  # find none of the clips among them and report success
    if retry is not None and not retry:
        return MaterializeResult(Plan(source, "", []), dry_run=dry_run)
    if retry is not None:
        ids = sorted({r["file_id"] for r in retry})
    with contextlib.ExitStack() as held:
        with open_selected(catalog_dir, selection) as cat:
            store = open_store(source, settings)

            def lock() -> None:  # one run at a time writes into ``to``; "present" is decided
                if not dry_run:  # under it
                    held.enter_context(destination_lock(to))

            planned = plan_selection(
                cat, store, sql=sql, selection=selection, ids=ids, pairs=pairs, shard=shard_kn,
                modalities=mods, merge=merge, workers=workers, clips=clips or ClipOptions(),
                selected=lock,
            )  # fmt: skip
            # a shard fills part of archives by design: the other shards do the rest
            archives = {} if dry_run or shard_kn else archive_files(cat, planned.files)
        plan = planned.plan
        if retry is not None:  # just the outputs that failed last time
            only = {r["path"] for r in retry if r.get("path")}
            plan.items = [i for i in plan.items if i.dest in only]
        unknown = (*planned.unknown, *planned.unknown_keys)
        if dry_run:
            return MaterializeResult(
                settle(plan, to), planned.rejected, dry_run=True, unknown=unknown
            )
        plan_id = items_plan_id(plan.items, list(unknown), plan.source, planned.invalid)
        result = run_items(
            store, to, plan, planned.unknown, workers=workers, settings=settings,
            plan_id=plan_id, shard=shard_kn or (1, 1), rejected=planned.rejected,
        )  # fmt: skip
        result.unknown = unknown
    result.partial = partial_archives(to, archives)
    return result


def make_plan(
    catalog_dir: str | Path,
    out: str | Path,
    *,
    to: str | Path,
    sql: str | None = None,
    selection: str | Path | None = None,
    ids: list[str] | None = None,
    source: str | None = None,
    modalities: str | Iterable[str] = EXTENSIONS,
    pairs: bool = False,
    merge: bool = True,
    workers: int = 4,
    settings: Settings | None = None,
    clips: ClipOptions | None = None,
) -> PlanFile:
    """Plan a selection into ``to`` and write the plan file ``out`` (nothing is transferred
    and the destination is not looked at)."""
    settings = settings or config.from_env()
    source = source or default_source(Path(catalog_dir))
    mods = parse_modalities(modalities)
    with open_selected(catalog_dir, selection) as cat:
        planned = plan_selection(
            cat, open_store(source, settings), sql=sql, selection=selection, ids=ids,
            pairs=pairs, shard=None, modalities=mods, merge=merge, workers=workers,
            clips=clips or ClipOptions(),
        )  # fmt: skip
        archives = archive_files(cat, planned.files)
    plan = planned.plan
    write_plan(Path(out), plan.items, [*planned.unknown, *planned.unknown_keys],
               source=plan.source, layout=plan.layout, to=Path(to), archives=archives,
               invalid=planned.invalid)  # fmt: skip
    return read_plan(out)
