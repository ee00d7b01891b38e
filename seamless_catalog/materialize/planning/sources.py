"""Selected files -> the items to produce and the byte ranges of the source they are made of.

The public planning API (the materializer, the readers of access/ and the dashboard plan
through :func:`plan_files`). Pure with respect to the destination: nothing local is looked
at here; :func:`..running.runner.settle` decides what is already present.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ...layout import EXTENSIONS, GROUPS, LABELS, PERFILE_GROUPS, SPLITS, FileRef, wanted_exts
from ...remote import ObjectStore
from ...store.catalogdb import CatalogDB
from .items import MEMBER, Item, Plan
from .perfile import plan_perfile
from .tars import plan_tars
from .tree import plan_tree


def source_layout(uri: str) -> str:
    """ "tar" for the Hub, "per-file" for S3, HTTPS or a local copy of their layout, "local"
    for another local folder: a tree, tars in the Hub layout, or both side by side."""
    if uri.startswith("hf://"):
        return "tar"
    if uri.startswith(("s3://", "http://", "https://")):
        return "per-file"
    root = Path(uri)
    for label in LABELS:
        for split in SPLITS:
            folder = root / label / split
            if any((folder / g).is_dir() for g in PERFILE_GROUPS):
                return "per-file"
    return "local"


def plan_files(
    cat: CatalogDB,
    store: ObjectStore,
    files: Iterable[FileRef],
    modalities: tuple[str, ...] = EXTENSIONS,
    merge: bool = True,
    workers: int = 4,
) -> Plan:
    """The items of ``files`` (one per output file, each at ``FileRef.path(ext)``) and the
    byte ranges of ``store`` they are made of: tar members from the catalog's member index
    (or the tars' headers), per-file objects by HEAD."""
    files = list(files)
    layout = source_layout(store.uri)
    plan = Plan(store.uri, layout, [])
    exts = list(wanted_exts(modalities))
    if layout == "tar":
        plan_tars(cat, store, files, exts, plan)
    elif layout == "local":
        _plan_local(cat, store, files, exts, plan)
    else:
        groups = {g for m in modalities for g in (GROUPS.get(m) or (m,))}
        plan_perfile(cat, store, files, groups, merge, plan, workers)
    return plan


def _plan_local(
    cat: CatalogDB, store: ObjectStore, files: list[FileRef], exts: list[str], plan: Plan
) -> None:
    """A local folder: each file from the tree where it is there, else from its tar (read by
    range as from the Hub); the plan's layout says which were used ("tree", "tar" or
    "tree+tar")."""
    rest = plan_tree(store, files, exts, plan)
    from_tree = len(plan.items)
    missing: dict[str, list[str]] = defaultdict(list)
    refs: dict[str, FileRef] = {}
    for row, ext in rest:
        missing[row.file_id].append(ext)
        refs[row.file_id] = row
    tars: dict[str, bool] = {}
    by_exts: dict[tuple[str, ...], list[FileRef]] = defaultdict(list)
    for file_id, its in missing.items():
        row = refs[file_id]
        if row.archive_path not in tars:
            tars[row.archive_path] = store.info(row.archive_path) is not None
        if tars[row.archive_path]:
            by_exts[tuple(its)].append(row)
            continue
        for ext in its:
            item = Item(file_id, ext, ext, row.path(ext), MEMBER, store.uri, state="failed")
            item.reason = (
                f"absent from {store.uri}: neither {row.path(ext)} nor its archive "
                f"{row.archive_path}"
            )
            plan.items.append(item)
    for its, rows in by_exts.items():
        plan_tars(cat, store, rows, list(its), plan)
    n_tar = sum(1 for i in plan.items[from_tree:] if i.state != "failed")
    plan.layout = "+".join(k for k, n in (("tree", from_tree), ("tar", n_tar)) if n) or "tree"
