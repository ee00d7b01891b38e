"""Reading generated media back the way a user would (PyAV, numpy), never with the generator.

The generator's frames spell their index in a 4x4 grid of 16x16 luma blocks (bit b of the
index in block b, row-major, bright = 1); :func:`frame_index` reads it from a decoded frame.
"""

from __future__ import annotations

import io

import numpy as np


def frame_index(gray: np.ndarray) -> int:
    blocks = gray[:64, :64].astype(np.float64).reshape(4, 16, 4, 16).mean(axis=(1, 3))
    bits = blocks.reshape(-1) > 140
    return int(sum(1 << b for b, on in enumerate(bits) if on))


def decoded_indices(data: bytes) -> tuple[list[int], list[float]]:
    """(frame indices, presentation times in s) of every frame PyAV presents."""
    import av

    indices, times = [], []
    with av.open(io.BytesIO(data)) as c:
        for frame in c.decode(video=0):
            indices.append(frame_index(frame.to_ndarray(format="gray")))
            times.append(float(frame.time))
    return indices, times


def keyframes(data: bytes) -> list[int]:
    """Decode-order positions of the keyframe packets."""
    import av

    with av.open(io.BytesIO(data)) as c:
        packets = [p for p in c.demux(video=0) if p.size]
    return [i for i, p in enumerate(packets) if p.is_keyframe]


def top_boxes(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        out.append(kind)
        if size < 8:
            break
        pos += size
    return out
