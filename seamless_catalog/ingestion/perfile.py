"""The per-file (CDN/S3) layout: ``{label}/{split}/{modality}/.../{file_id}.{ext}``, local.

One unit per file: its transcript and VAD JSON Lines, its annotation files (JSON
Lines under a ``.json`` name), and the headers of its wav, mp4 and per-feature ``.npy``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..errors import MediaFormatError
from ..formats.probes import probe_npy
from ..formats.readers import FileReader
from ..layout import PERFILE_GROUPS, SPLIT_DIR_RE, is_file_id
from . import documents, members
from .paths import posix, walk_dirs
from .sink import Sink
from .units import Unit, files_fingerprint

METADATA_ROLES = ("metadata/transcript", "metadata/vad", "annotations/")


def _files_by_id(split_dir: Path) -> dict[str, list[tuple[str, Path]]]:
    """file_id -> [(role, path)], role like 'metadata/vad', 'annotations/3P-IS', 'smplh/x'."""
    by_file: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for group in PERFILE_GROUPS:
        gdir = split_dir / group
        if not gdir.is_dir():
            continue
        for f in sorted(gdir.rglob("*")):
            stem = f.name.split(".", 1)[0]
            if f.is_file() and is_file_id(stem):
                by_file[stem].append((f.parent.relative_to(split_dir).as_posix(), f))
    return by_file


def add_metadata(
    sink: Sink, file_id: str, label: str, split: str, found: list[tuple[str, str, bytes]]
) -> None:
    """Rows of one file's per-file metadata, wherever its bytes came from (a folder, S3, the
    CDN). ``found`` holds ``(role, location, bytes)`` of each object present, role one of
    ``metadata/transcript``, ``metadata/vad``, ``annotations/<type>``; what is not in it is
    absent (``transcript_present``/``vad_present`` false). No object at all: no row."""
    args = (sink, file_id, label, split)
    for role, location, data in found:
        items = documents.jsonl(data, location, sink, file_id)
        if role == "metadata/transcript":
            documents.add_transcript(*args, items)
        elif role == "metadata/vad":
            documents.add_vad(*args, items)
        elif role.startswith("annotations/"):
            documents.add_annotations(*args, role.split("/", 1)[1], items)
    if not found:
        return
    roles = {role for role, _, _ in found}
    sink.add(
        "documents",
        file_id=file_id,
        label=label,
        split=split,
        origin="cdn",
        transcript_present="metadata/transcript" in roles,
        vad_present="metadata/vad" in roles,
        annotation_types=sorted(r.split("/", 1)[1] for r in roles if r.startswith("annotations/")),
        extra_keys=[],
        bytes=sum(len(data) for _, _, data in found),
    )


def parse_file(
    sink: Sink, file_id: str, label: str, split: str, files: tuple[tuple[str, Path], ...]
) -> None:
    found = []
    for role, path in files:
        if role.startswith(METADATA_ROLES):
            found.append((role, str(path), path.read_bytes()))
        else:
            _media(sink, file_id, label, split, role, path)
    add_metadata(sink, file_id, label, split, found)


def _media(sink: Sink, file_id: str, label: str, split: str, role: str, path: Path) -> None:
    base = dict(file_id=file_id, label=label, split=split, bytes=path.stat().st_size, origin="cdn")
    with FileReader(path) as reader:
        try:
            if role == "audio":
                members.add_wav(sink, dict(base, ext="wav"), reader)
            elif role == "video":
                members.add_mp4(sink, dict(base, ext="mp4"), reader)
            elif path.suffix == ".npy":
                a = probe_npy(reader, role.replace("/", ":"))
                members.add_feature(sink, base, a.key, a.dtype, a.shape, a.n_frames)
        except MediaFormatError as e:
            sink.issue(str(path), str(e), file_id)


@dataclass(frozen=True)
class PerFileSource:
    location: str
    split_dirs: tuple[tuple[Path, str, str], ...]  # (folder, label, split)

    def claims(self) -> Iterable[tuple[str, str]]:
        """Every group folder of each split (see :mod:`.folder`)."""
        for folder, _, _ in self.split_dirs:
            for group in PERFILE_GROUPS:
                if (folder / group).is_dir():
                    yield str(folder / group), "all"

    def units(self) -> Iterable[Unit]:
        for folder, label, split in self.split_dirs:
            for file_id, files in sorted(_files_by_id(folder).items()):
                fs = tuple(files)
                fingerprint, size = files_fingerprint(p for _, p in fs)
                yield Unit(
                    f"cdn:{label}/{split}/{file_id}",
                    "cdn",
                    self.location,
                    fingerprint,
                    partial(parse_file, file_id=file_id, label=label, split=split, files=fs),
                    local=True,
                    size=size,
                )


def perfile_source(location: str, settings: object = None) -> PerFileSource | None:
    path = Path(location)
    if not path.is_dir():
        return None
    found = []
    for d in walk_dirs(path):
        m = SPLIT_DIR_RE.search(posix(d))
        if m and any((d / g).is_dir() for g in PERFILE_GROUPS):
            found.append((d, m.group("label"), m.group("split")))
    return PerFileSource(location, tuple(found)) if found else None
