"""A local tree in the upstream layout ``{label}/{split}/{batch}/{archive}/{file_id}.{ext}``.

One unit per archive folder; the files take the same path as tar members. Each sample file
is also a ``members`` row whose ``archive_path`` is the folder (``.../0003``, never the tar's
``.../0003.tar``, so it does not replace the tar's own index): what a tree holds is then
visible as the tars' is, and ``unlisted_samples`` names a tree's strays too.
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
    idx = 0
    for f in map(Path, files):
        parts = split_name(f.name)
        if parts is None:
            sink.issue(f"{rel}/{f.name}", "file is not named {file_id}.{json,mp4,npz,wav}")
            continue
        with FileReader(f) as reader:
            sink.add(
                "members", archive_path=rel, member=f.name, file_id=parts[0], ext=parts[1],
                member_idx=idx, offset_header=None, offset_data=0, size=reader.size,
                label=label, split=split,
            )  # fmt: skip
            idx += 1
            members.add_sample_file(sink, *parts, label, split, reader, str(f), "tree")


@dataclass(frozen=True)
class TreeSource:
    location: str
    folders: tuple[tuple[Path, str], ...]

    def claims(self) -> Iterable[tuple[str, str]]:
        """The files of each archive folder (see :mod:`.folder`; a subfolder is not read)."""
        for folder, _ in self.folders:
            yield str(folder), "files"

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
