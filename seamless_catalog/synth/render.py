"""Render one sample to bytes: the merged JSON and, unless metadata-only, wav/mp4/npz/.npy."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from . import content, media
from .model import FileRec


@dataclass(frozen=True)
class Sample:
    """Everything written for one file_id; ``members`` is in tar member order."""

    rec: FileRec
    doc: dict
    members: dict[str, bytes]  # "json", "mp4", "npz", "wav" -> bytes
    npy: dict[str, bytes] = field(default_factory=dict)  # "smplh:body_pose" -> .npy bytes
    n_frames: int = 0
    n_video_frames: int = 0


def render(seed: int, rec: FileRec, metadata_only: bool) -> Sample:
    doc = content.file_doc(seed, rec)
    members = {"json": content.encode_doc(doc, rec.indent)}
    if metadata_only:
        return Sample(rec, doc, members)
    frames = media.n_frames(rec.duration_ms)
    rng = content.rng_for(seed, rec.file_id, "media")
    video = 0 if rec.placeholder else max(1, frames + rng.randint(-3, 5))
    array_seed = zlib.crc32(f"{seed}:{rec.file_id}".encode())
    arrays = media.feature_arrays(frames, rec.movement, array_seed)
    if rec.smplh_rate_multiple > 1:  # upstream issue #34: SMPL-H at 240 Hz, the rest at 30
        dense = media.feature_arrays(frames * rec.smplh_rate_multiple, False, array_seed)
        arrays.update({k: a for k, a in dense.items() if k.startswith("smplh:")})
    npy = {key: media.npy_bytes(a) for key, a in arrays.items()}
    members["mp4"] = media.mp4_bytes(rec.duration_ms, video, rec.file_id.startswith("V03"))
    members["npz"] = media.npz_bytes(npy)
    members["wav"] = media.wav_bytes(rec.duration_ms)
    return Sample(rec, doc, members, npy, frames, video)
