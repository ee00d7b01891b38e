"""Which source module reads a location: one ordered registry, no import side effects."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .. import locations
from ..config import Settings
from ..errors import SourceNotFound, UsageError
from . import perfile, tars, tree
from .assets import AssetsSource
from .filelist import FilelistSource
from .units import Source

Factory = Callable[[str, Settings], Source | None]


# Tried in order; the first factory that claims a location reads it.
REGISTRY: tuple[tuple[str, Factory], ...] = (
    ("a .tar, or a folder or hf:// repo of tars in the Hub layout", tars.tar_source),
    ("a local tree in the upstream layout", tree.tree_source),
    ("a local copy of the per-file (CDN) layout", perfile.perfile_source),
)


def source_for(location: str, settings: Settings) -> Source:
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
) -> list[Source]:
    """The sources of one run. Without ``filelist``/``assets``, keep what the catalog already
    holds; on a new catalog use ``<assets>/filelist.csv`` or the official locations."""
    out: list[Source] = []
    if filelist is None and "filelist" not in previous_units:
        inside = locations.join(assets, "filelist.csv") if assets else None
        filelist = inside if inside and locations.exists(inside) else settings.filelist_url
    if filelist is not None:
        out.append(FilelistSource(filelist))
    if assets is None and not any(k.startswith("asset:") for k in previous_units):
        assets = settings.assets_base_url
    if assets is not None:
        out.append(AssetsSource(assets))
    out.extend(source_for(loc, settings) for loc in given)
    return out
