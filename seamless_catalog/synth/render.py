"""Render one sample to bytes: the merged JSON and, unless metadata-only, wav/mp4/npz/.npy."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from . import content, media, video
from .model import FileRec

GOPS = (30, 45, 60)  # frames between keyframes: the release's 1-2 s
TRUNCATE_AT = 0.6  # a truncated mp4 keeps this share of its bytes


@dataclass(frozen=True)
class MediaOptions:
    """How media are made: ``video`` "h264" (PyAV, decodable) or "stub" (header-only);
    ``kbps``: a constant video bitrate (filler-padded; None: small CRF-coded files)."""

    video: str = "h264"
    kbps: int | None = None


@dataclass(frozen=True)
class Sample:
    """Everything written for one file_id; ``members`` is in tar member order."""

    rec: FileRec
    doc: dict
    members: dict[str, bytes]  # "json", "mp4", "npz", "wav" -> bytes
    npy: dict[str, bytes] = field(default_factory=dict)  # "smplh:body_pose" -> .npy bytes
    n_frames: int = 0
    n_video_frames: int = 0
    gop: int = 0


def render(
    seed: int, rec: FileRec, metadata_only: bool, options: MediaOptions | None = None
) -> Sample:
    options = options or MediaOptions()
    doc = content.file_doc(seed, rec)
    members = {"json": content.encode_doc(doc, rec.indent)}
    if metadata_only:
        return Sample(rec, doc, members)
    frames = media.n_frames(rec.duration_ms, rec.ntsc)
    rng = content.rng_for(seed, rec.file_id, "media")
    n_video = 0 if rec.placeholder else max(1, frames + rng.randint(-3, 5))
    gop = rng.choice(GOPS)
    array_seed = zlib.crc32(f"{seed}:{rec.file_id}".encode())
    smplh_n = frames * rec.smplh_rate_multiple if rec.smplh_rate_multiple > 1 else None
    arrays = media.feature_arrays(frames, rec.movement, array_seed, smplh_n)
    npy = {key: media.npy_bytes(a) for key, a in arrays.items()}
    members["mp4"] = _mp4(rec, n_video, gop, options)
    members["npz"] = media.npz_bytes(npy)
    speech = content.vad_segments(seed, rec)
    members["wav"] = media.wav_bytes(rec.duration_ms, speech, array_seed)
    return Sample(rec, doc, members, npy, frames, n_video, gop if n_video else 0)


def _mp4(rec: FileRec, n_video: int, gop: int, options: MediaOptions) -> bytes:
    if not n_video or options.video == "stub":
        return media.mp4_stub(rec.duration_ms, n_video, rec.ntsc)
    data = video.mp4_h264(n_video, rec.ntsc, gop, rec.moov_first, options.kbps)
    return data[: int(len(data) * TRUNCATE_AT)] if rec.truncated_mp4 else data
