"""Ingest units: what is parsed, fingerprinted and replaced as a whole.

A *unit* is the smallest piece of a source that is parsed, fingerprinted and
replaced as a whole: the filelist, one asset CSV, one tar, one archive folder of
a local tree, one file's metadata in the per-file layout. Its rows carry its key
in ``source_unit``, so a re-ingest swaps exactly its rows and nothing else.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .sink import Sink


@dataclass(frozen=True)
class Unit:
    key: str  # e.g. "tar:improvised/dev/0000/0003.tar", "filelist"
    kind: str  # "tar", "tree", "cdn", "filelist", "prompts", ...
    source: str  # the source root it was listed from (for removal detection)
    fingerprint: str  # unchanged fingerprint => not parsed again
    parse: Callable[[Sink], None] = field(compare=False, repr=False)
    # local: its bytes are on this machine and ``parse`` pickles (a module-level function
    # or a functools.partial of one), so a worker process may parse it; size: its bytes
    local: bool = field(default=False, compare=False)
    size: int = field(default=0, compare=False)


class Source(Protocol):
    """A source lists its units; ``location`` is how the user named it."""

    location: str

    def units(self) -> Iterable[Unit]: ...


def files_fingerprint(paths: Iterable[Path]) -> tuple[str, int]:
    """(fingerprint, total bytes) of some files, from one ``stat`` each."""
    return _fingerprint((str(p), os.stat(p)) for p in sorted(paths))


def folder_fingerprint(folder: Path) -> tuple[tuple[str, ...], str, int]:
    """(paths of the files in ``folder``, sorted; their ``files_fingerprint``; total bytes),
    from one directory scan and one ``stat`` per file, without pathlib's overhead."""
    prefix = "" if str(folder) == "." else f"{folder}{os.sep}"
    with os.scandir(folder) as scan:
        entries = sorted((e.name, e) for e in scan if e.is_file())
    paths = tuple(prefix + name for name, _ in entries)
    fingerprint, total = _fingerprint((p, e.stat()) for p, (_, e) in zip(paths, entries))
    return paths, fingerprint, total


def _fingerprint(stats: Iterable[tuple[str, os.stat_result]]) -> tuple[str, int]:
    """(digest of each file's path, size and mtime, in the order given; total bytes)."""
    h, total = hashlib.sha1(), 0
    for path, st in stats:
        h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        total += st.st_size
    return h.hexdigest(), total


def content_fingerprint(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
