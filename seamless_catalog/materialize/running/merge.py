"""Merge per-file objects the way the upstream toolkit does (``SeamlessInteractionFS``).

* npz: every ``{group}/{feature}/{file_id}.npy`` under the key ``group:feature``, keys
  sorted, float64 cast to float32, written with ``np.savez`` (uncompressed, as upstream).
* json: ``{"id": file_id, "metadata:transcript": [...], "metadata:vad": [...],
  "annotations:<type>": [...]}`` from the JSON Lines objects, indented by 4. Unlike upstream,
  an absent transcript is written as an empty list, as the Hub's tars have it.
"""

from __future__ import annotations

import io
import json

import numpy as np

from ...errors import MediaFormatError


def npz_bytes(arrays: dict[str, bytes]) -> bytes:
    """``group:feature`` -> .npy bytes, merged into one npz."""
    loaded = {}
    for key in sorted(arrays):
        try:
            a = np.load(io.BytesIO(arrays[key]), allow_pickle=False)
        except (ValueError, OSError) as e:
            raise MediaFormatError("npy", f"{key}: {e}") from e
        loaded[key] = a.astype(np.float32) if a.dtype == np.float64 else a
    buf = io.BytesIO()
    np.savez(buf, **loaded)
    return buf.getvalue()


def _json_lines(name: str, data: bytes) -> list:
    try:
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError) as e:
        raise MediaFormatError("JSON Lines", f"{name}: {e}") from e


def json_bytes(file_id: str, documents: dict[str, bytes]) -> bytes:
    """``metadata:vad`` / ``annotations:3P-IS`` ... -> JSON Lines bytes, merged into one json."""
    doc: dict = {"id": file_id}
    order = sorted(documents, key=lambda k: (not k.startswith("metadata:"), k))
    for key in order:
        doc[key] = _json_lines(key, documents[key])
    return json.dumps(doc, indent=4).encode()
