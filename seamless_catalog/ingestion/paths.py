"""Walking a local source folder (the path rules themselves are in :mod:`..layout`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

_MAX_DEPTH = 6


def posix(path: Path) -> str:
    return path.resolve().as_posix()


def walk_dirs(root: Path) -> Iterator[Path]:
    """``root`` and the folders below it, at most a few levels deep, in sorted order."""
    base = len(root.parts)
    for dirpath, dirnames, _ in os.walk(root):
        dirnames.sort()
        if len(Path(dirpath).parts) - base >= _MAX_DEPTH:
            dirnames.clear()
        yield Path(dirpath)


def walk_resolved(root: Path) -> Iterator[tuple[str, str, list[str], list[str]]]:
    """``os.walk`` of ``root`` (sorted, at most a few levels deep) as (folder, its resolved
    posix path, subfolder names, file names). ``root`` is resolved once, not each folder;
    clear the subfolder names to skip what is below a folder."""
    base, resolved = str(root), posix(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        inner = dirpath[len(base) :].replace(os.sep, "/")
        if inner.count("/") >= _MAX_DEPTH:
            dirnames.clear()
        yield dirpath, resolved + inner, dirnames, filenames
