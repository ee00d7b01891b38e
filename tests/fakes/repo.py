"""The repo a test Hub serves, and the test data written into it.

``RepoSnapshot`` is an immutable view of a folder: its files with the git blob oids and LFS
metadata the Hub would report, its folders, and a commit sha derived from them. ``write_tar``
and ``write_hub_repo`` write a miniature ``facebook/seamless-interaction`` repo.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_DATE = "2025-06-27T12:00:00.000Z"
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"


@dataclass(frozen=True)
class RepoFile:
    """One file of the served repo, with the ids the Hub would report for it."""

    path: str
    disk_path: Path
    size: int
    oid: str  # git blob sha1 (of the LFS pointer for LFS files)
    sha256: str | None = None  # set for LFS files only
    pointer_size: int | None = None

    @property
    def is_lfs(self) -> bool:
        return self.sha256 is not None

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` of the file on disk."""
        with self.disk_path.open("rb") as fh:
            fh.seek(start)
            return fh.read((self.size if end is None else end) - start)


def _git_oid(kind: str, payload: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(payload)}\0".encode() + payload).hexdigest()


def _file_digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
    digest = hashlib.new(algorithm, prefix)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RepoSnapshot:
    """Immutable view of ``root``: files, folders, their oids and the commit sha."""

    def __init__(self, root: Path, *, lfs_threshold: int, lfs_patterns: tuple[str, ...]) -> None:
        self.files: dict[str, RepoFile] = {}
        for disk_path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = disk_path.relative_to(root).as_posix()
            if rel.split("/", 1)[0] == ".git":
                continue
            size = disk_path.stat().st_size
            lfs = size >= lfs_threshold or any(fnmatch.fnmatch(rel, pat) for pat in lfs_patterns)
            if lfs:
                sha256 = _file_digest(disk_path, "sha256")
                pointer = LFS_POINTER.format(sha256=sha256, size=size).encode()
                self.files[rel] = RepoFile(
                    rel, disk_path, size, _git_oid("blob", pointer), sha256, len(pointer)
                )
            else:
                oid = _file_digest(disk_path, "sha1", f"blob {size}\0".encode())
                self.files[rel] = RepoFile(rel, disk_path, size, oid)
        self.by_sha256 = {f.sha256: f for f in self.files.values() if f.sha256}
        self.children: dict[str, list[str]] = {"": []}
        for rel in self.files:
            parts = rel.split("/")
            for depth in range(1, len(parts) + 1):
                parent, child = "/".join(parts[: depth - 1]), "/".join(parts[:depth])
                if child not in self.children.setdefault(parent, []):
                    self.children[parent].append(child)
                if depth < len(parts):
                    self.children.setdefault(child, [])
        self.folder_oids: dict[str, str] = {}
        self.sha = self._tree_oid("")

    def _tree_oid(self, folder: str) -> str:
        lines = []
        for child in sorted(self.children[folder]):
            oid = self.files[child].oid if child in self.files else self._tree_oid(child)
            lines.append(f"{child.rsplit('/', 1)[-1]} {oid}")
        self.folder_oids[folder] = _git_oid("tree", "\n".join(lines).encode())
        return self.folder_oids[folder]

    def is_folder(self, path: str) -> bool:
        return path in self.children

    def listing(self, folder: str, recursive: bool) -> list[str]:
        """Children of ``folder`` (folders first), or every descendant in path order."""
        if not recursive:
            kids = self.children[folder]
            return sorted(k for k in kids if k in self.children) + sorted(
                k for k in kids if k in self.files
            )
        out: list[str] = []
        for child in sorted(self.children[folder]):
            out.append(child)
            if child in self.children:
                out.extend(self.listing(child, recursive=True))
        return out

    def entry(self, path: str, expand: bool) -> dict[str, Any]:
        """The JSON object the Hub's tree and paths-info endpoints return for ``path``."""
        if path in self.files:
            f = self.files[path]
            out: dict[str, Any] = {"type": "file", "oid": f.oid, "size": f.size, "path": path}
            if f.is_lfs:
                out["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
        else:
            out = {"type": "directory", "oid": self.folder_oids[path], "size": 0, "path": path}
        if expand:
            out["lastCommit"] = {"id": self.sha, "title": "Upload dataset", "date": REPO_DATE}
        return out


SAMPLE_IDS = (
    "V00_S0809_I00000582_P0947",
    "V00_S0809_I00000582_P0948",
    "V00_S0644_I00000125_P0299A",
    "V01_S0101_I00000007_P0012",
    "V01_S0101_I00000007_P0013",
)


def _sample_members(rng: random.Random, file_id: str) -> list[tuple[str, bytes]]:
    doc = {"id": file_id, "metadata:transcript": [], "metadata:vad": []}
    return [
        (f"{file_id}.json", json.dumps(doc, indent=4).encode()),
        (f"{file_id}.mp4", rng.randbytes(rng.randint(2_000, 6_000))),
        (f"{file_id}.npz", rng.randbytes(rng.randint(2_000, 6_000))),
        (f"{file_id}.wav", rng.randbytes(rng.randint(2_000, 6_000))),
    ]


def write_tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    """A plain (uncompressed) tar, members in the given order, fixed mtime for determinism."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_750_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))


def write_hub_repo(root: Path, *, seed: int = 42, n_extras: int = 30) -> list[str]:
    """Write a miniature ``facebook/seamless-interaction`` repo under ``root``; return its paths.

    Three WebDataset tars (archive 0001 is a gap, as on the Hub), a README, ``.gitattributes``
    marking tars as LFS, and ``n_extras`` small JSON files so tree listings span several pages.
    """
    rng = random.Random(seed)
    tars = {
        "improvised/dev/0000/0000.tar": SAMPLE_IDS[:2],
        "improvised/dev/0000/0002.tar": SAMPLE_IDS[2:3],
        "naturalistic/test/0001/0000.tar": SAMPLE_IDS[3:],
    }
    for rel, ids in tars.items():
        write_tar(root / rel, [m for fid in ids for m in _sample_members(rng, fid)])
    (root / "README.md").write_text("# Seamless Interaction (test copy)\n")
    (root / ".gitattributes").write_text("*.tar filter=lfs diff=lfs merge=lfs -text\n")
    for i in range(n_extras):
        extra = root / "extras" / "meta" / f"{i:03d}.json"
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text(json.dumps({"i": i, "pad": rng.randbytes(rng.randint(10, 200)).hex()}))
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
