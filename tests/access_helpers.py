"""Shared by the load/stream/export/upstream tests: where the generator put each file."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np

IN_TARS = "select file_id from files where file_id in (select file_id from raw.members)"


def filelist(release: Path) -> list[dict[str, str]]:
    with (release / "filelist.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def tree_path(release: Path, row: dict[str, str], ext: str) -> Path:
    folder = (
        f"{row['label']}/{row['split']}/{int(row['batch_idx']):04d}/{int(row['archive_idx']):04d}"
    )
    return release / "tree" / folder / f"{row['file_id']}.{ext}"


def by_id(release: Path) -> dict[str, dict[str, str]]:
    return {r["file_id"]: r for r in filelist(release)}


def wav_samples(data: bytes) -> tuple[int, np.ndarray]:
    """Rate and float32 samples present, by walking the RIFF chunks here (an independent reader)."""
    pos, rate, code, bits = 12, 0, 0, 0
    while pos + 8 <= len(data):
        cid, size = struct.unpack("<4sI", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            code, _, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            assert (code, bits) == (3, 32), "the generator writes 32-bit float"
            n = len(body) // 4
            return rate, np.frombuffer(body[: n * 4], "<f4")
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")
