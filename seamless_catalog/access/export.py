"""Write a selection as new WebDataset tar shards, with an index of shards and samples.

Members keep the release's naming and order (``{file_id}.json``, ``.mp4``, ``.npz``,
``.wav``, adjacent per sample) and its bytes exactly. Samples go in interaction order; a shard
is closed at the first interaction boundary where the next sample would take it past
``shard_size``, never between the two sides of a pair (so a shard may pass the limit by
the second side of its last pair, and a pair larger than the limit has a shard of its own).
Each shard is written to a temp file in the target folder and renamed into place once
complete; ``.seamless-catalog/index.json`` (written last, the same way) lists each shard
(name, bytes, samples, sha256) and each sample (its shard and every member's data offset and
size). The index sits in a hidden subfolder so that the folder holds nothing but shards where
a loader looks: ``datasets.load_dataset("webdataset", data_dir=to)`` reads every file it finds
there as a tar (and skips hidden folders), as ``webdataset.WebDataset`` reads a ``*.tar`` glob.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError, disk_errors
from ..layout import EXTENSIONS, parse_modalities, wanted_exts
from ..select.windows import selects_windows
from ..store.catalogdb import CatalogDB
from .clips import clips
from .stream import SampleStream

INDEX_NAME = "index.json"
INDEX_DIR = ".seamless-catalog"  # under the shard folder, hidden from data_dir= loaders
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
MTIME = 0  # members carry no time: the same selection gives the same bytes


def parse_size(text: str | int) -> int:
    """``"1GB"`` (10^9), ``"512MiB"`` (2^20 based), ``"1000"`` (bytes) -> bytes."""
    if isinstance(text, int):
        n = text
    else:
        m = _SIZE_RE.match(str(text))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise UsageError(f"--shard-size {text!r}: expected e.g. 1GB, 500MB, 512MiB")
        n = int(float(m.group(1)) * _UNITS[unit])
    if n <= 0:
        raise UsageError(f"--shard-size {text!r}: give a positive size")
    return n


@dataclass
class ExportResult:
    to: Path
    index: Path
    shards: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(s["bytes"] for s in self.shards)


class _ShardWriter:
    """One shard being written under a temp name; ``commit`` renames it into place."""

    def __init__(self, to: Path, name: str) -> None:
        self.name = name
        self.dest = to / name
        self.temp = to / f".{name}.{uuid.uuid4().hex[:12]}.part"
        self.tar = tarfile.open(self.temp, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.n_samples = 0

    @property
    def size(self) -> int:
        return self.tar.offset

    def add(self, key: str, blobs: dict[str, bytes], exts: tuple[str, ...]) -> dict[str, list[int]]:
        members: dict[str, list[int]] = {}
        for ext in exts:
            data = blobs[ext]
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            self.tar.addfile(info, _Bytes(data))
            padded = -(-len(data) // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
            members[ext] = [self.tar.offset - padded, len(data)]
        self.n_samples += 1
        return members

    def commit(self) -> dict[str, Any]:
        self.tar.close()
        digest = hashlib.sha256()
        with self.temp.open("rb+") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
            os.fsync(fh.fileno())
        size = self.temp.stat().st_size
        os.replace(self.temp, self.dest)
        return {"name": self.name, "bytes": size, "n_samples": self.n_samples,
                "sha256": digest.hexdigest()}  # fmt: skip

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.tar.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.temp)


class _Bytes:
    """A file-like over bytes for ``TarFile.addfile`` (no copy into a BytesIO)."""

    def __init__(self, data: bytes) -> None:
        self.view, self.pos = memoryview(data), 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.view) if n < 0 else min(len(self.view), self.pos + n)
        out, self.pos = bytes(self.view[self.pos : end]), end
        return out


def export_webdataset(
    cat: CatalogDB,
    sql: str,
    to: str | Path,
    *,
    shard_size: str | int = "1GB",
    source: str | None = None,
    media: str | Path | None = None,
    modalities: str | tuple[str, ...] = EXTENSIONS,
    prefix: str = "shard",
    prefetch: int = 4,
    errors: str = "raise",
    settings=None,
    pad: float = 0.0,
    features: str | None = None,
) -> ExportResult:
    """Write the samples ``sql`` selects as ``{prefix}-{n:06d}.tar`` shards under ``to``.

    When ``sql`` selects windows (``start_s``/``end_s``, see select/windows.py) each window is
    one sample of clips, keyed ``{file_id}_t{start_ms:07d}-{end_ms:07d}`` (``pad`` and
    ``features`` as for clips); rows that give no window are in ``skipped``. A write that fails
    (read-only, full, no permission) raises a DiskError naming the file; the shard being
    written is removed, the shards already complete stay."""
    limit = parse_size(shard_size)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", prefix):
        raise UsageError(f"--prefix {prefix!r}: letters, digits, '_', '.', '-' only")
    to = Path(to)
    with disk_errors(to):
        return _export(cat, sql, to, limit, source, media, modalities, prefix, prefetch, errors,
                       settings, pad, features)  # fmt: skip


def _export(
    cat: CatalogDB, sql: str, to: Path, limit: int, source, media, modalities, prefix: str,
    prefetch: int, errors: str, settings, pad: float, features: str | None,
) -> ExportResult:  # fmt: skip
    to.mkdir(parents=True, exist_ok=True)
    exts = wanted_exts(parse_modalities(modalities))
    skipped: list[tuple[str, str]] = []
    windowed = selects_windows(cat, sql, None)
    if windowed:
        chosen = clips(cat, sql, pad=pad, modalities=modalities, features=features,
                       source=source, settings=settings, workers=prefetch)  # fmt: skip
        skipped += [(w.key, f"selection row {w.row}: {w.reason}") for w in chosen.invalid]
        samples = ((c.window.stem, c.window.ref, c.blobs) for c in chosen)
    else:
        stream = SampleStream(
            cat, sql, modalities=modalities, source=source, media=media, pairs_together=True,
            prefetch=prefetch, errors=errors, decode=False, settings=settings,
        )  # fmt: skip
        samples = ((r.row.file_id, r.row, r.blobs) for r in stream)
    result = ExportResult(to, to / INDEX_DIR / INDEX_NAME)
    shard: _ShardWriter | None = None
    last_key = None
    try:
        for name, row, blobs in samples:
            key = row.interaction_key
            nbytes = sum(len(b) for b in blobs.values())
            full = shard is not None and shard.size + nbytes + 512 * len(exts) > limit
            if full and shard.n_samples and key != last_key:
                result.shards.append(shard.commit())
                shard = None
            if shard is None:
                shard = _ShardWriter(to, f"{prefix}-{len(result.shards):06d}.tar")
            members = shard.add(name, blobs, exts)
            entry = {"file_id": row.file_id, "interaction_key": key, "shard": shard.name,
                     "members": members}  # fmt: skip
            if name != row.file_id:
                entry["key"] = name  # a window's clips
            result.samples.append(entry)
            last_key = key
        if shard is not None:
            result.shards.append(shard.commit())
            shard = None
    finally:
        if shard is not None:
            shard.discard()
    result.skipped = skipped if windowed else stream.skipped
    _write_index(result, sql, source, exts)
    return result


def _write_index(result: ExportResult, sql: str, source: str | None, exts) -> None:
    doc = {
        "format": "webdataset",
        "sql": sql,
        "source": source,
        "members": list(exts),
        "shards": result.shards,
        "samples": result.samples,
        "skipped": [{"file_id": f, "reason": r} for f, r in result.skipped],
    }
    result.index.parent.mkdir(exist_ok=True)
    temp = result.index.with_name(f".{INDEX_NAME}.{uuid.uuid4().hex[:12]}.part")
    temp.write_text(json.dumps(doc, indent=1))
    os.replace(temp, result.index)
    _remove_old_index(result.to / INDEX_NAME)


def _remove_old_index(path: Path) -> None:
    """The index an earlier version wrote among the shards (where it breaks ``data_dir=``),
    when it is ours: the new one replaces it."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if isinstance(old, dict) and old.get("format") == "webdataset" and "shards" in old:
        path.unlink()
