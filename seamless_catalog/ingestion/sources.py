"""Which source module reads a location: one ordered registry, no import side effects."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..config import Settings
from ..errors import SourceNotFound, UsageError
from ..layout import FileRef
from . import folder, locations, perfile, remote_perfile, tars, tree
from .assets import AssetsSource
from .filelist import FilelistSource
from .units import Source

Factory = Callable[[str, Settings], Source | None]


# Tried in order; the first factory that claims a location reads it (a local folder: each
# factory that finds its layout there reads its part, see ``source_for``).
REGISTRY: tuple[tuple[str, Factory], ...] = (
    ("a .tar, or a folder or hf:// repo of tars in the Hub layout", tars.tar_source),
    ("a local tree in the upstream layout", tree.tree_source),
    ("a local copy of the per-file (CDN) layout", perfile.perfile_source),
    (
        "s3://BUCKET/PREFIX or https://HOST/PREFIX: the per-file (CDN) layout, "
        "driven by the filelist",
        remote_perfile.remote_perfile_source,
    ),
)


def source_for(location: str, settings: Settings) -> Source:
    """The source that reads ``location``. A local folder is read by every kind that finds
    its layout there (tars beside extracted archive folders, say), and the files none of
    them reads are reported (:mod:`.folder`); elsewhere the first kind that claims it."""
    if not locations.is_url(location) and Path(location).is_dir():
        found = [src for _, factory in REGISTRY if (src := factory(location, settings))]
        return folder.folder_source(location, found)
    for _, factory in REGISTRY:
        src = factory(location, settings)
        if src is not None:
            return src
    if not locations.is_url(location) and not Path(location).exists():
        raise SourceNotFound(location, "check the path")
    kinds = "; ".join(name for name, _ in REGISTRY)
    raise UsageError(f"cannot tell what kind of source {location} is; supported: {kinds}")


def resolve(
    given: Sequence[str],
    filelist: str | None,
    assets: str | None,
    previous_units: Mapping[str, tuple[str, str]],
    settings: Settings,
    previous_files: Callable[[], list[FileRef]] | None = None,
) -> list[Source]:
    """The sources of one run. Without ``filelist``/``assets``, keep what the catalog already
    holds; on a new catalog use ``<assets>/filelist.csv`` or the official locations.

    Sources that cannot list (the per-file CDN copy) get the files of this run's filelist, or
    else ``previous_files``: those of the catalog's current snapshot."""
    out: list[Source] = []
    if filelist is None and "filelist" not in previous_units:
        inside = locations.join(assets, "filelist.csv") if assets else None
        filelist = inside if inside and locations.exists(inside) else settings.filelist_url
    if filelist is not None:
        out.append(FilelistSource(filelist, default=filelist == settings.filelist_url))
    if assets is None and not any(k.startswith("asset:") for k in previous_units):
        assets = settings.assets_base_url
    if assets is not None:
        out.append(AssetsSource(assets, default=assets == settings.assets_base_url))
    files = _files_provider(filelist, previous_files)
    for loc in given:
        src = source_for(loc, settings)
        if getattr(src, "needs_filelist", False):
            src = dataclasses.replace(src, files=files)
        out.append(src)
    return out


def _files_provider(
    filelist: str | None, previous: Callable[[], list[FileRef]] | None
) -> Callable[[], list[FileRef]]:
    cache: list[list[FileRef]] = []

    def files() -> list[FileRef]:
        if not cache:
            if filelist is not None:
                data = locations.read_bytes(filelist)
                cache.append(remote_perfile.rows_from_filelist(data, filelist))
            else:
                cache.append(previous() if previous is not None else [])
        return cache[0]

    return files
