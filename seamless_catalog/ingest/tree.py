"""A local tree in the upstream layout ``{label}/{split}/{batch}/{archive}/{file_id}.{ext}``.

One unit per archive folder; the files take the same path as tar members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..readers import FileReader
from . import samples
from .layout import ARCHIVE_DIR_RE, posix, relative, walk_dirs
from .units import Sink, Unit, files_fingerprint


def parse_tree_archive(sink: Sink, folder: Path, rel: str, files: tuple[Path, ...]) -> None:
    label, split = rel.split("/")[:2]
    for f in files:
        parts = samples.split_name(f.name)
        if parts is None:
            sink.issue(f"{rel}/{f.name}", "file is not named {file_id}.{json,mp4,npz,wav}")
            continue
        with FileReader(f) as reader:
            samples.add_sample_file(sink, *parts, label, split, reader, str(f), "tree")


@dataclass(frozen=True)
class TreeSource:
    location: str
    folders: tuple[tuple[Path, str], ...]

    def units(self) -> Iterable[Unit]:
        for folder, rel in self.folders:
            files = tuple(sorted(p for p in folder.iterdir() if p.is_file()))
            yield Unit(
                f"tree:{rel}",
                "tree",
                self.location,
                files_fingerprint(files),
                lambda sink, d=folder, r=rel, fs=files: parse_tree_archive(sink, d, r, fs),
            )


def tree_source(location: str, settings: object = None) -> TreeSource | None:
    path = Path(location)
    if not path.is_dir():
        return None
    folders = []
    for d in walk_dirs(path):
        rel = relative(ARCHIVE_DIR_RE, posix(d))
        if rel:
            folders.append((d, rel))
    return TreeSource(location, tuple(folders)) if folders else None
