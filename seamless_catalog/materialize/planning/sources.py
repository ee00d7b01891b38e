"""Selected files -> the items to produce and the byte ranges of the source they are made of.

The public planning API (the materializer, the readers of access/ and the dashboard plan
through :func:`plan_files`). Pure with respect to the destination: nothing local is looked
at here; :func:`..running.runner.settle` decides what is already present.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ...layout import EXTENSIONS, GROUPS, LABELS, PERFILE_GROUPS, SPLITS, FileRef, wanted_exts
from ...remote import ObjectStore
from ...store.catalogdb import CatalogDB
from .items import Plan
from .perfile import plan_perfile
from .tars import plan_tars


def source_layout(uri: str) -> str:
    """ "tar" for the Hub or a folder of its tars, "per-file" for S3, HTTPS or their mirror."""
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
    return "tar"


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
    if layout == "tar":
        plan_tars(cat, store, files, list(wanted_exts(modalities)), plan)
    else:
        groups = {g for m in modalities for g in (GROUPS.get(m) or (m,))}
        plan_perfile(cat, store, files, groups, merge, plan, workers)
    return plan
