"""A local folder: every local layout found under it, read side by side, and the rest named.

A folder the upstream toolkit filled often holds more than one layout of one release: the
archives it extracted (``download_archive_from_hf(extract=True)``) beside the tars it has
not yet, a tree beside a per-file copy. Each layout's source claims its part of the folder (a
tar, the files of an archive folder, a per-file group folder); every other file below the
folder is reported in ``ingest_issues`` as a warning, so nothing is skipped without a word.
Hidden files and folders (``.cache/huggingface`` that ``hf download --local-dir`` writes,
``.seamless-catalog`` that materialize writes, temp files) are neither read nor reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from ..errors import UsageError
from ..layout import PERFILE_LAYOUT, TAR_LAYOUT, TREE_LAYOUT
from .sink import Sink
from .units import Source, Unit, content_fingerprint

# how a source claims a path: the file itself, the files directly in a folder, or all below
FILE, FILES, ALL = "file", "files", "all"

OUTSIDE_TAR = f"a .tar outside the Hub layout, not read: its path must end in {TAR_LAYOUT}"
OUTSIDE = (
    f"not read: not in a layout ingest reads ({TAR_LAYOUT}, {TREE_LAYOUT}, "
    f"or the per-file copy's {PERFILE_LAYOUT})"
)


def _report(sink: Sink, unread: tuple[tuple[str, str], ...]) -> None:
    for path, reason in unread:
        sink.issue(path, reason, None, "warning")


@dataclass(frozen=True)
class FolderSource:
    location: str
    parts: tuple[Source, ...]  # one per layout found, in the registry's order
    unread: tuple[tuple[str, str], ...]  # (path, why it is not read)

    def units(self) -> Iterable[Unit]:
        for part in self.parts:
            yield from part.units()
        if self.unread:
            text = "\n".join(f"{p}\t{r}" for p, r in self.unread).encode()
            yield Unit(
                f"unread:{self.location}",
                "unread",
                self.location,
                content_fingerprint(text),
                partial(_report, unread=self.unread),
            )


def folder_source(location: str, parts: Sequence[Source]) -> FolderSource:
    """The layouts ``parts`` found in the folder ``location``, and the files none claims.
    No layout at all: a :class:`UsageError` that says what was looked for."""
    unread = tuple(_unread(location, parts))
    if parts:
        return FolderSource(location, tuple(parts), unread)
    tars = [p for p, r in unread if r == OUTSIDE_TAR]
    if tars:
        raise UsageError(
            f"{location} holds .tar files but none at a path ending in {TAR_LAYOUT} "
            f"(e.g. {tars[0]}): the catalog reads label, split, batch and archive from that "
            "path, so move or link the tars there (as `hf download` lays them out)"
        )
    raise UsageError(
        f"nothing to read in {location}: no {TAR_LAYOUT}, no {TREE_LAYOUT}, no per-file "
        f"{PERFILE_LAYOUT} below it"
    )


def _unread(location: str, parts: Sequence[Source]) -> Iterable[tuple[str, str]]:
    claimed: dict[str, set[str]] = {FILE: set(), FILES: set(), ALL: set()}
    for part in parts:
        for path, how in part.claims():
            claimed[how].add(os.path.normpath(path))
    for dirpath, dirnames, filenames in os.walk(location):
        here = os.path.normpath(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and os.path.join(here, d) not in claimed[ALL]
        )  # fmt: skip
        if here in claimed[FILES]:
            continue
        for name in sorted(filenames):
            path = os.path.join(here, name)
            if name.startswith(".") or path in claimed[FILE]:
                continue
            yield path, OUTSIDE_TAR if name.endswith(".tar") else OUTSIDE
