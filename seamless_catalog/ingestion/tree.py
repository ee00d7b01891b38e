"""A local tree in the upstream layout ``{label}/{split}/{batch}/{archive}/{file_id}.{ext}``.

One unit per archive folder; the files take the same path as tar members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..formats.readers import FileReader
from ..layout import ARCHIVE_DIR_RE, relative, split_name
from . import members
from .paths import walk_resolved
from .sink import Sink
from .units import Unit, folder_fingerprint


def parse_tree_archive(sink: Sink, folder: Path, rel: str, files: tuple[str, ...]) -> None:
    label, split = rel.split("/")[:2]
    for f in map(Path, files):
        parts = split_name(f.name)
        if parts is None:
            sink.issue(f"{rel}/{f.name}", "file is not named {file_id}.{json,mp4,npz,wav}")
            continue
        with FileReader(f) as reader:
            members.add_sample_file(sink, *parts, label, split, reader, str(f), "tree")


@dataclass(frozen=True)
class TreeSource:
    location: str
    folders: tuple[tuple[Path, str], ...]

    def units(self) -> Iterable[Unit]:
        for folder, rel in self.folders:
            files, fingerprint, size = folder_fingerprint(folder)
            yield Unit(
                f"tree:{rel}",
                "tree",
                self.location,
                fingerprint,
                partial(parse_tree_archive, folder=folder, rel=rel, files=files),
                local=True,
                size=size,
            )


def tree_source(location: str, settings: object = None) -> TreeSource | None:
    path = Path(location)
    if not path.is_dir():
        return None
    folders = []
    for dirpath, resolved, subdirs, _ in walk_resolved(path):
        rel = relative(ARCHIVE_DIR_RE, resolved)
        if rel:  # the location is an archive folder itself
            folders.append((Path(dirpath), rel))
            subdirs.clear()
            continue
        rels = [relative(ARCHIVE_DIR_RE, f"{resolved}/{d}") for d in subdirs]
        folders += [(Path(dirpath, d), r) for d, r in zip(subdirs, rels) if r]
        subdirs[:] = [d for d, r in zip(subdirs, rels) if not r]  # archives hold only files
    return TreeSource(location, tuple(folders)) if folders else None
