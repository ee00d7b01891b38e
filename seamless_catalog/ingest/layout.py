"""Path rules of the release's layouts: where label, split, batch and archive are read from.

Label and split always come from the path, so a location may be the release root or any
folder inside it, e.g. ``~/seamless/improvised/dev``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..ids import LABELS, SPLITS

LABEL_SPLIT = rf"(?P<label>{'|'.join(LABELS)})/(?P<split>{'|'.join(SPLITS)})"
TAR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}/(?P<batch>\d{{4}})/(?P<archive>\d{{4}})\.tar$")
ARCHIVE_DIR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}/(?P<batch>\d{{4}})/(?P<archive>\d{{4}})$")
SPLIT_DIR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}$")
BATCH_DIR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}/(?P<batch>\d{{4}})$")
_MAX_DEPTH = 6


def matched(pattern: re.Pattern[str], path: str) -> re.Match[str] | None:
    return pattern.search(path)


def relative(pattern: re.Pattern[str], path: str) -> str | None:
    """The part of ``path`` the layout names, e.g. ``improvised/dev/0000/0003.tar``."""
    m = pattern.search(path)
    return m.group(0).lstrip("/") if m else None


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
