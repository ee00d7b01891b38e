"""Media faithful to the release: full-length float WAV, MP4 box trees, deterministic NPZ zips.

The wav holds every sample of the recording (48 kHz mono float32), its signal following the
file's VAD: a voiced tone with soft edges inside speech, faint noise outside. npz arrays
encode their frame index (see :func:`feature_arrays`) so a slice can be checked exactly.
Decodable H.264 comes from :mod:`.video`; :func:`mp4_stub` is the header-only mp4 written
without PyAV and for placeholders.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

SAMPLE_RATE = 48_000
FPS = 30
NTSC_FPS = Fraction(30000, 1001)  # V03
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SENTINEL = 1e12
MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ENCODER = b"Lavf60.3.100"  # makes the stream-less placeholder exactly 261 bytes
# header-only mp4 (no PyAV): zero payload per second, so the sample still outweighs its headers
MDAT_BYTES_PER_S = 4096
SPEECH_LEVEL, NOISE_LEVEL = 0.2, 0.001
EDGE_S = 0.01  # fade in/out of each speech segment


# --------------------------------------------------------------------------- wav
def wav_header(n: int) -> bytes:
    """RIFF/WAVE header, IEEE float (format 3), mono, 48 kHz, 32-bit: fmt(18) + fact + data."""
    fmt = struct.pack("<HHIIHHH", 3, 1, SAMPLE_RATE, SAMPLE_RATE * 4, 4, 32, 0)
    body = (
        b"WAVE"
        + _chunk(b"fmt ", fmt)
        + _chunk(b"fact", struct.pack("<I", n))
        + b"data"
        + struct.pack("<I", n * 4)
    )
    return b"RIFF" + struct.pack("<I", len(body) + n * 4) + body


def wav_bytes(duration_ms: int, speech_ms: Sequence[tuple[int, int]] = (), seed: int = 0) -> bytes:
    """The whole recording: ``duration_ms`` of samples whose level follows ``speech_ms``
    (VAD segments in ms). A zero duration gives the 58-byte empty placeholder."""
    n = duration_ms * SAMPLE_RATE // 1000
    return wav_header(n) + speech_signal(n, speech_ms, seed).astype("<f4").tobytes()


def speech_signal(n: int, speech_ms: Sequence[tuple[int, int]], seed: int) -> np.ndarray:
    """``n`` float32 samples: noise, plus a harmonic tone (f0 100-220 Hz) inside speech."""
    rng = np.random.default_rng(seed)
    out = (NOISE_LEVEL * rng.standard_normal(n)).astype(np.float32)
    if not n:
        return out
    envelope = np.zeros(n, np.float32)
    edge = int(EDGE_S * SAMPLE_RATE)
    for start_ms, end_ms in speech_ms:
        a, b = start_ms * SAMPLE_RATE // 1000, min(n, end_ms * SAMPLE_RATE // 1000)
        if b <= a:
            continue
        seg = np.ones(b - a, np.float32)
        ramp = min(edge, (b - a) // 2)
        if ramp:
            seg[:ramp] = np.linspace(0, 1, ramp, dtype=np.float32)
            seg[-ramp:] = np.linspace(1, 0, ramp, dtype=np.float32)
        envelope[a:b] = seg
    f0 = float(rng.uniform(100, 220))
    phase = np.arange(n, dtype=np.float64) * (2 * math.pi * f0 / SAMPLE_RATE)
    tone = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    out += (SPEECH_LEVEL / 1.75 * tone * envelope).astype(np.float32)
    return out


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("<I", len(payload)) + payload


# --------------------------------------------------------------------------- mp4
def _box(kind: bytes, *payload: bytes) -> bytes:
    data = b"".join(payload)
    return struct.pack(">I", 8 + len(data)) + kind + data


def _full(version_flags: int = 0) -> bytes:
    return struct.pack(">I", version_flags)


def mp4_stub(duration_ms: int, video_frames: int, ntsc: bool) -> bytes:
    """Header-only ftyp + moov(mvhd [+ video trak] + udta) + mdat; no trak without frames.

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


def n_frames(duration_ms: int, ntsc: bool = False) -> int:
    """Frames of a recording at 30 Hz (29.97 for ``ntsc``, V03): the npz's N."""
    rate = NTSC_FPS if ntsc else FPS
    return int(duration_ms * rate // 1000)


def feature_arrays(
    n: int, movement: bool, seed: int, smplh_n: int | None = None
) -> dict[str, np.ndarray]:
    """The npz arrays (sorted keys): 9 pose keys, plus 15 ``movement:*`` keys with movement.

    Every float value encodes its frame: ``a[i].flat[j] == i + (j % 256) / 256`` (exact in
    float32 below 65,536 frames), so ``floor(a[:, 0...])`` is the frame index and a slice
    can be checked exactly; ``hypernet_features`` (one row per 15 frames) encodes its row.
    A few leading frames are invalid (``is_valid`` false, the translation sentinel there).
    ``smplh_n``: another frame count for the ``smplh:*`` group (upstream issue #34: SMPL-H at
    240 Hz beside 30 Hz video).
    """
    rng = np.random.default_rng(seed)
    n_invalid = int(rng.integers(0, 12))
    counts = {"smplh": smplh_n if smplh_n is not None else n}
    arrays = {}
    for key, shape in POSE_SHAPES.items():
        arrays[key] = indexed(counts.get(key.split(":")[0], n), shape)
    for group in ("smplh", "boxes_and_keypoints"):
        valid = _validity(counts.get(group, n), n_invalid * counts.get(group, n) // max(n, 1))
        arrays["smplh:is_valid" if group == "smplh" else f"{group}:is_valid_box"] = valid
    arrays["smplh:translation"][~arrays["smplh:is_valid"]] = SENTINEL
    if movement:
        for key, shape in MOVEMENT_SHAPES.items():
            arrays[f"movement:{key}"] = indexed(n, shape)
        arrays["movement:is_valid"] = _validity(n, n_invalid).astype(np.float32)[:, None]
        hyper_rows = -(-n // HYPERNET_STRIDE)
        arrays["movement:hypernet_features"] = indexed(hyper_rows, (HYPERNET_DIM,))
    return dict(sorted(arrays.items()))


def indexed(n: int, shape: tuple[int, ...]) -> np.ndarray:
    """``(n, *shape)`` float32 with ``a[i].flat[j] == i + (j % 256) / 256``."""
    per_frame = int(np.prod(shape, dtype=np.int64))
    fraction = (np.arange(per_frame) % 256 / 256).astype(np.float32).reshape(shape)
    frames = np.arange(n, dtype=np.float32).reshape((n,) + (1,) * len(shape))
    return frames + fraction


def _validity(n: int, n_invalid: int) -> np.ndarray:
    valid = np.ones(n, dtype=bool)
    valid[: min(n, n_invalid)] = False
    return valid


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
