"""Materialized media in the upstream local layout.

A file lives at ``{root}/{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..formats.probes import probe_npz
from ..formats.readers import FileReader
from ..layout import archive_folder

FPS = 30.0  # frame rate of the npz features (as the catalog's duration fallback assumes)
MAX_POINTS = 1500


def media_path(root: Path | None, row: dict[str, Any], ext: str) -> Path | None:
    """Where ``row``'s (a ``files`` row) ``.ext`` lives under ``root``; None when absent."""
    if root is None:
        return None
    folder = archive_folder(
        row["label"], row["split"], int(row["batch_idx"]), int(row["archive_idx"])
    )
    path = Path(root) / folder / f"{row['file_id']}.{ext}"
    return path if path.is_file() else None


def read_json(path: Path, max_items: int = 50) -> Any:
    """The file's JSON with long lists cut to ``max_items`` (a preview, not the data)."""
    return _trim(json.loads(path.read_text(encoding="utf-8")), max_items)


def _trim(value: Any, n: int) -> Any:
    if isinstance(value, list):
        items = [_trim(v, n) for v in value[:n]]
        return items + ([f"... {len(value) - n} more"] if len(value) > n else [])
    if isinstance(value, dict):
        return {k: _trim(v, n) for k, v in value.items()}
    return value


def npz_inventory(path: Path) -> list[dict[str, Any]]:
    """key, dtype and shape of every array, read from the .npy headers only."""
    with FileReader(path) as reader:
        facts = probe_npz(reader)
    return [{"key": f.key, "dtype": f.dtype, "shape": list(f.shape)} for f in facts]


def feature_frames(path: Path, key: str, max_dims: int = 6) -> dict[str, np.ndarray]:
    """``key`` over time as columns: time_s plus up to ``max_dims`` flattened dimensions,
    decimated to at most MAX_POINTS frames."""
    with np.load(path, allow_pickle=False) as npz:
        arr = np.asarray(npz[key])
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    arr = arr.reshape(arr.shape[0], -1)[:, :max_dims].astype(np.float64)
    step = max(1, arr.shape[0] // MAX_POINTS)
    idx = np.arange(0, arr.shape[0], step)
    cols = {"time_s": idx / FPS}
    for d in range(arr.shape[1]):
        cols[f"dim {d}"] = arr[idx, d]
    return cols
