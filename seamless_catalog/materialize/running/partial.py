"""Archive folders that hold part of their archive, and why that matters beside upstream.

The upstream toolkit's ``download_archive_from_hf(extract=True)`` takes an archive folder that
exists as already extracted, from its existence alone, and would leave the other samples of
the archive missing. Both ``materialize status`` (from a plan's recorded archive sizes) and a
plain ``materialize`` run (from the catalog's, :mod:`..planning.archives`) name such folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ...layout import split_name


@dataclass(frozen=True)
class PartialArchive:
    folder: str  # relative to the destination: improvised/dev/0000/0003
    present: int  # sample files in it
    expected: int  # files its archive extracts to


def partial_archives(to: Path, archives: dict[str, int]) -> list[PartialArchive]:
    """The folders of ``archives`` (folder -> files it extracts to) that exist under ``to``
    with fewer sample files (``{file_id}.{ext}``) than that."""
    out = []
    for folder, expected in sorted(archives.items()):
        path = to / folder
        try:
            names = os.listdir(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        present = sum(1 for n in names if split_name(n) is not None and (path / n).is_file())
        if present < expected:
            out.append(PartialArchive(folder, present, expected))
    return out
