"""Local sources in the three layouts of the release.

- tars: ``{label}/{split}/{batch:04d}/{archive:04d}.tar`` (one unit per tar; headers and the
  json member are read in place, nothing is extracted);
- tree: ``{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext}`` (one unit per folder);
- per-file (CDN) layout: ``{label}/{split}/{modality}/.../{file_id}.{ext}`` (one unit per file).

Label and split always come from the path, so a location may be the release root or any
folder inside it, e.g. ``~/seamless/improvised/dev``.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..ids import LABELS, SPLITS, is_file_id
from ..readers import FileReader, SliceReader
from ..tarindex import TarMember, TarProblem, iter_entries, unsafe_name_reason
from . import documents, samples
from .units import Sink, Unit, file_fingerprint, files_fingerprint

_LABEL_SPLIT = rf"(?P<label>{'|'.join(LABELS)})/(?P<split>{'|'.join(SPLITS)})"
TAR_RE = re.compile(rf"(?:^|/){_LABEL_SPLIT}/(?P<batch>\d{{4}})/(?P<archive>\d{{4}})\.tar$")
ARCHIVE_DIR_RE = re.compile(rf"(?:^|/){_LABEL_SPLIT}/(?P<batch>\d{{4}})/(?P<archive>\d{{4}})$")
SPLIT_DIR_RE = re.compile(rf"(?:^|/){_LABEL_SPLIT}$")
CDN_GROUPS = (
    "metadata",
    "annotations",
    "audio",
    "video",
    "smplh",
    "boxes_and_keypoints",
    "movement",
    "movement_v4",
)
_MAX_DEPTH = 6


def _walk_dirs(root: Path) -> Iterator[Path]:
    """``root`` and the folders below it, at most a few levels deep, in sorted order."""
    base = len(root.parts)
    for dirpath, dirnames, _ in os.walk(root):
        dirnames.sort()
        if len(Path(dirpath).parts) - base >= _MAX_DEPTH:
            dirnames.clear()
        yield Path(dirpath)


def _posix(path: Path) -> str:
    return path.resolve().as_posix()


# -- tars ---------------------------------------------------------------------------------
def _tar_rel(path: Path) -> str | None:
    m = TAR_RE.search(_posix(path))
    return m.group(0).lstrip("/") if m else None


def parse_tar(sink: Sink, path: Path, rel: str) -> None:
    label, split = rel.split("/")[:2]
    with FileReader(path) as reader:
        idx = 0
        for entry in iter_entries(reader):
            if isinstance(entry, TarProblem):
                where = f"{rel}@{entry.offset}" + (f" ({entry.name!r})" if entry.name else "")
                sink.issue(where, entry.message)
                continue
            if not _sample_member(sink, entry, rel):
                continue
            file_id, ext = samples.split_name(entry.name)
            sink.add(
                "members",
                archive_path=rel,
                member=entry.name,
                file_id=file_id,
                ext=ext,
                member_idx=idx,
                offset_header=entry.offset_header,
                offset_data=entry.offset_data,
                size=entry.size,
                label=label,
                split=split,
            )
            idx += 1
            window = SliceReader(reader, entry.offset_data, entry.size)
            samples.add_sample_file(
                sink, file_id, ext, label, split, window, f"{rel}:{entry.name}", "tar"
            )


def _sample_member(sink: Sink, m: TarMember, rel: str) -> bool:
    """A regular file named ``{file_id}.{json,mp4,npz,wav}``; anything else is reported."""
    if m.type != "file" or unsafe_name_reason(m.name):
        return False  # iter_entries already reported it
    if samples.split_name(m.name) is None:
        sink.issue(f"{rel}:{m.name}", "member is not named {file_id}.{json,mp4,npz,wav}")
        return False
    return True


@dataclass(frozen=True)
class TarSource:
    location: str
    tars: tuple[tuple[Path, str], ...]  # (path, archive path relative to the release root)

    def units(self) -> Iterable[Unit]:
        for path, rel in self.tars:
            yield Unit(
                f"tar:{rel}",
                "tar",
                self.location,
                file_fingerprint(path),
                lambda sink, p=path, r=rel: parse_tar(sink, p, r),
            )


def tar_source(location: str) -> TarSource | None:
    path = Path(location)
    if path.is_file() and path.suffix == ".tar":
        rel = _tar_rel(path)
        if rel is None:
            return None
        return TarSource(location, ((path, rel),))
    if not path.is_dir():
        return None
    tars = []
    for d in _walk_dirs(path):
        for f in sorted(d.glob("*.tar")):
            rel = _tar_rel(f)
            if rel:
                tars.append((f, rel))
    return TarSource(location, tuple(tars)) if tars else None


# -- tree ---------------------------------------------------------------------------------
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


def tree_source(location: str) -> TreeSource | None:
    path = Path(location)
    if not path.is_dir():
        return None
    folders = []
    for d in _walk_dirs(path):
        m = ARCHIVE_DIR_RE.search(_posix(d))
        if m:
            folders.append((d, m.group(0).lstrip("/")))
    return TreeSource(location, tuple(folders)) if folders else None


# -- per-file (CDN) layout ----------------------------------------------------------------
def _cdn_files(split_dir: Path) -> dict[str, list[tuple[str, Path]]]:
    """file_id -> [(role, path)], role like 'metadata/vad', 'annotations/3P-IS', 'smplh/x'."""
    by_file: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for group in CDN_GROUPS:
        gdir = split_dir / group
        if not gdir.is_dir():
            continue
        for f in sorted(gdir.rglob("*")):
            stem = f.name.split(".", 1)[0]
            if f.is_file() and is_file_id(stem):
                by_file[stem].append((f.parent.relative_to(split_dir).as_posix(), f))
    return by_file


def parse_cdn_file(
    sink: Sink, file_id: str, label: str, split: str, files: tuple[tuple[str, Path], ...]
) -> None:
    args = (sink, file_id, label, split)
    roles = dict(files)
    for role, path in files:
        if role == "metadata/transcript":
            documents.add_transcript(
                *args, documents.jsonl(path.read_bytes(), str(path), sink, file_id)
            )
        elif role == "metadata/vad":
            documents.add_vad(*args, documents.jsonl(path.read_bytes(), str(path), sink, file_id))
        elif role.startswith("annotations/"):
            kind = role.split("/", 1)[1]
            documents.add_annotations(
                *args, kind, documents.jsonl(path.read_bytes(), str(path), sink, file_id)
            )
        else:
            _cdn_media(sink, file_id, label, split, role, path)
    metadata = [p for r, p in files if r.startswith(("metadata/", "annotations/"))]
    if metadata:
        sink.add(
            "documents",
            file_id=file_id,
            label=label,
            split=split,
            origin="cdn",
            transcript_present="metadata/transcript" in roles,
            vad_present="metadata/vad" in roles,
            annotation_types=sorted(
                r.split("/", 1)[1] for r in roles if r.startswith("annotations/")
            ),
            extra_keys=[],
            bytes=sum(p.stat().st_size for p in metadata),
        )


def _cdn_media(sink: Sink, file_id: str, label: str, split: str, role: str, path: Path) -> None:
    from ..errors import MediaFormatError
    from ..probes import probe_npy

    base = dict(file_id=file_id, label=label, split=split, bytes=path.stat().st_size, origin="cdn")
    with FileReader(path) as reader:
        try:
            if role == "audio":
                samples.add_wav(sink, dict(base, ext="wav"), reader)
            elif role == "video":
                samples.add_mp4(sink, dict(base, ext="mp4"), reader)
            elif path.suffix == ".npy":
                a = probe_npy(reader, role.replace("/", ":"))
                samples.add_feature(sink, base, a.key, a.dtype, a.shape, a.n_frames)
        except MediaFormatError as e:
            sink.issue(str(path), str(e), file_id)


@dataclass(frozen=True)
class CdnSource:
    location: str
    split_dirs: tuple[tuple[Path, str, str], ...]  # (folder, label, split)

    def units(self) -> Iterable[Unit]:
        for folder, label, split in self.split_dirs:
            for file_id, files in sorted(_cdn_files(folder).items()):
                fs = tuple(files)
                yield Unit(
                    f"cdn:{label}/{split}/{file_id}",
                    "cdn",
                    self.location,
                    files_fingerprint(p for _, p in fs),
                    lambda sink, f=file_id, la=label, sp=split, x=fs: parse_cdn_file(
                        sink, f, la, sp, x
                    ),
                )


def cdn_source(location: str) -> CdnSource | None:
    path = Path(location)
    if not path.is_dir():
        return None
    found = []
    for d in _walk_dirs(path):
        m = SPLIT_DIR_RE.search(_posix(d))
        if m and any((d / g).is_dir() for g in CDN_GROUPS):
            found.append((d, m.group("label"), m.group("split")))
    return CdnSource(location, tuple(found)) if found else None
