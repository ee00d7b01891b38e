"""Small but valid media: float WAV headers, MP4 box trees, and deterministic NPZ zips.

Headers tell the truth about the full recording (sample count, mvhd duration, frame counts);
only the payloads are cut short or made low-entropy so files stay tiny.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib

import numpy as np

SAMPLE_RATE = 48_000
WAV_PREFIX_SAMPLES = 480
FPS = 30
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SENTINEL = 1e12
MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ENCODER = b"Lavf60.3.100"  # makes the stream-less placeholder exactly 261 bytes
# mdat payload per second of video: real files carry ~600 kB/s; 4 kB/s keeps releases small
# while a sample's media still outweigh its tar headers the way real ones do (by far)
MDAT_BYTES_PER_S = 4096


# --------------------------------------------------------------------------- wav
def wav_bytes(duration_ms: int) -> bytes:
    """RIFF/WAVE, IEEE float (format 3), mono, 48 kHz, 32-bit: fmt(18) + fact + data.

    The data chunk declares every sample of the recording; only a short prefix is written.
    A zero duration gives the 58-byte empty placeholder.
    """
    n = duration_ms * SAMPLE_RATE // 1000
    fmt = struct.pack("<HHIIHHH", 3, 1, SAMPLE_RATE, SAMPLE_RATE * 4, 4, 32, 0)
    t = np.arange(min(n, WAV_PREFIX_SAMPLES), dtype=np.float32)
    samples = (0.01 * np.sin(t * (2 * math.pi * 220 / SAMPLE_RATE))).astype("<f4").tobytes()
    body = (
        b"WAVE"
        + _chunk(b"fmt ", fmt)
        + _chunk(b"fact", struct.pack("<I", n))
        + b"data"
        + struct.pack("<I", n * 4)
    )
    return b"RIFF" + struct.pack("<I", len(body) + n * 4) + body + samples


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("<I", len(payload)) + payload


# --------------------------------------------------------------------------- mp4
def _box(kind: bytes, *payload: bytes) -> bytes:
    data = b"".join(payload)
    return struct.pack(">I", 8 + len(data)) + kind + data


def _full(version_flags: int = 0) -> bytes:
    return struct.pack(">I", version_flags)


def mp4_bytes(duration_ms: int, video_frames: int, ntsc: bool) -> bytes:
    """ftyp + moov(mvhd [+ video trak] + udta) + mdat. No trak when there are no frames.

    mvhd timescale is 30000 for 29.97 fps sources (``ntsc``), else 1000. The trak's stts gives
    the frame count (30000 timescale, 1000 or 1001 per frame).
    """
    timescale = 30_000 if ntsc else 1000
    duration = round(duration_ms * timescale / 1000)
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    mvhd = _box(
        b"mvhd", _full(), struct.pack(">IIII", 0, 0, timescale, duration),
        struct.pack(">IH", 0x10000, 0x100), bytes(10), MATRIX, bytes(24),
        struct.pack(">I", 2 if video_frames else 1),
    )  # fmt: skip
    trak = _video_trak(duration, video_frames, 1001 if ntsc else 1000) if video_frames else b""
    udta = _udta()
    if not video_frames:
        return ftyp + _box(b"free") + _box(b"mdat") + _box(b"moov", mvhd, udta)
    mdat = bytes(MDAT_BYTES_PER_S * duration_ms // 1000)
    return ftyp + _box(b"moov", mvhd, trak, udta) + _box(b"mdat", mdat)


def _video_trak(duration: int, frames: int, delta: int) -> bytes:
    tkhd = _box(
        b"tkhd", _full(3), struct.pack(">IIIII", 0, 0, 1, 0, duration), bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0), MATRIX, struct.pack(">II", 1080 << 16, 1920 << 16),
    )  # fmt: skip
    mdhd = _box(b"mdhd", _full(), struct.pack(">IIIIHH", 0, 0, 30_000, frames * delta, 0x55C4, 0))
    hdlr = _box(b"hdlr", _full(), bytes(4), b"vide", bytes(12), b"VideoHandler\0")
    stts = _box(b"stts", _full(), struct.pack(">III", 1, frames, delta))
    stbl = _box(b"stbl", _box(b"stsd", _full(), struct.pack(">I", 0)), stts)
    minf = _box(b"minf", _box(b"vmhd", _full(1), bytes(8)), stbl)
    return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))


def _udta() -> bytes:
    hdlr = _box(b"hdlr", _full(), bytes(4), b"mdir", b"appl", bytes(8), b"\0")
    data = _box(b"data", struct.pack(">II", 1, 0), ENCODER)
    return _box(b"udta", _box(b"meta", _full(), hdlr, _box(b"ilst", _box(b"\xa9too", data))))


# --------------------------------------------------------------------------- npz
MOVEMENT_SHAPES = {
    "EmotionArousalToken": (1,),
    "EmotionValenceToken": (1,),
    "FAUToken": (1,),
    "FAUValue": (24,),
    "alignment_head_rotation": (3,),
    "alignment_translation": (2, 3),
    "emotion_arousal": (1,),
    "emotion_scores": (8,),
    "emotion_valence": (1,),
    "expression": (128,),
    "frame_latent": (64,),
    "gaze_encodings": (2,),
    "head_encodings": (3,),
    "is_valid": (1,),
}  # fmt: skip; hypernet_features is handled apart (one row per 15 frames)
POSE_SHAPES = {
    "boxes_and_keypoints:box": (4,), "boxes_and_keypoints:keypoints": (133, 3),
    "smplh:body_pose": (21, 3), "smplh:global_orient": (3,), "smplh:left_hand_pose": (15, 3),
    "smplh:right_hand_pose": (15, 3), "smplh:translation": (3,),
}  # fmt: skip
HYPERNET_STRIDE, HYPERNET_DIM = 15, 5120


def n_frames(duration_ms: int) -> int:
    return duration_ms * FPS // 1000


def feature_arrays(n: int, movement: bool, seed: int) -> dict[str, np.ndarray]:
    """The npz arrays (sorted keys): 9 pose keys, plus 15 ``movement:*`` keys with movement.

    Each feature repeats one random frame (so deflate squeezes it); a few leading frames are
    invalid, with the translation sentinel there.
    """
    rng = np.random.default_rng(seed)
    invalid = np.zeros(n, dtype=bool)
    invalid[: min(n, int(rng.integers(0, 12)))] = True
    arrays = {key: _tiled(rng, n, shape) for key, shape in POSE_SHAPES.items()}
    arrays["smplh:translation"][invalid] = SENTINEL
    arrays["smplh:is_valid"] = ~invalid
    arrays["boxes_and_keypoints:is_valid_box"] = ~invalid
    if movement:
        for key, shape in MOVEMENT_SHAPES.items():
            arrays[f"movement:{key}"] = _tiled(rng, n, shape)
        arrays["movement:is_valid"] = (~invalid).astype(np.float32)[:, None]
        hyper_rows = -(-n // HYPERNET_STRIDE)
        arrays["movement:hypernet_features"] = _tiled(rng, hyper_rows, (HYPERNET_DIM,))
    return dict(sorted(arrays.items()))


def _tiled(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    frame = np.round(rng.standard_normal(shape), 2).astype(np.float32)
    return np.broadcast_to(frame, (n, *shape)).copy()


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def npz_bytes(members: dict[str, bytes]) -> bytes:
    """A ``savez_compressed``-style zip of ``{key}.npy`` members, deflated, fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, data in members.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=zlib.Z_DEFAULT_COMPRESSION)
    return buf.getvalue()
