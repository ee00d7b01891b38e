"""Member bytes -> Python objects: the JSON document, the NPZ arrays, the audio samples.

The WAV header is parsed by :func:`~seamless_catalog.formats.probes.probe_wav` (never assumed):
float32/float64 and 8/16/24/32-bit PCM all become float32 in [-1, 1). Only the samples
present are returned; a file whose data chunk declares more than it holds is reported as
``truncated`` with both counts, never padded.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MediaFormatError
from ..formats.probes import WavFacts, probe_wav
from ..formats.readers import BytesReader
from ..layout import ANNOTATION_PREFIX, TRANSCRIPT, VAD, FileRef, annotation_items

_PCM_SCALE = {"int16": 2.0**15, "int24": 2.0**23, "int32": 2.0**31}


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    sample_format: str  # as stored: "float32", "int16", "int24"...
    n_samples: int  # frames present (what ``audio`` holds)
    n_samples_declared: int  # frames the header declares
    truncated: bool  # fewer present than declared


def decode_json(data: bytes) -> dict[str, Any]:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as e:
        raise MediaFormatError("json", str(e)) from e


def decode_npz(data: bytes) -> dict[str, np.ndarray]:
    """Every array of an npz (loaded now, not lazily), keyed as in the file."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, OSError) as e:
        raise MediaFormatError("npz", str(e)) from e


def _frames(raw: bytes, facts: WavFacts) -> np.ndarray:
    fmt = facts.sample_format
    if fmt == "float32":
        return np.frombuffer(raw, "<f4").astype(np.float32, copy=True)
    if fmt == "float64":
        return np.frombuffer(raw, "<f8").astype(np.float32)
    if fmt == "uint8":
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if fmt == "int24":
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return (v / _PCM_SCALE[fmt]).astype(np.float32)
    if fmt in ("int16", "int32"):
        dtype = "<i2" if fmt == "int16" else "<i4"
        return (np.frombuffer(raw, dtype) / _PCM_SCALE[fmt]).astype(np.float32)
    raise MediaFormatError("wav", f"sample format {fmt} is not supported (PCM or float only)")


def decode_wav(data: bytes) -> tuple[np.ndarray, AudioInfo]:
    """float32 samples (shape (n,) for mono, (n, channels) otherwise) and what the header says."""
    facts = probe_wav(BytesReader(data))
    width = facts.block_align // facts.channels
    expected = {"uint8": 1, "int16": 2, "int24": 3, "int32": 4, "float32": 4, "float64": 8}
    if expected.get(facts.sample_format) != width:
        raise MediaFormatError(
            "wav", f"{facts.sample_format} with {width}-byte samples is not a layout we read"
        )
    end = min(len(data), facts.data_offset + facts.data_size)
    present = max(0, end - facts.data_offset) // facts.block_align
    raw = data[facts.data_offset : facts.data_offset + present * facts.block_align]
    samples = _frames(raw, facts)
    if facts.channels > 1:
        samples = samples.reshape(-1, facts.channels)
    info = AudioInfo(
        facts.sample_rate, facts.channels, facts.sample_format, present, facts.n_samples,
        present < facts.n_samples,
    )  # fmt: skip
    return samples, info


@dataclass
class Sample:
    """One participant's recording: whichever modalities were asked for.

    Attribute or item access (``s.audio`` or ``s["audio"]``). ``video`` is the path of the
    materialized mp4 when there is one, else its bytes.
    """

    ref: FileRef  # which file, and where it lives (``file_id``, ``label``... read through)
    json: dict[str, Any] | None = None
    npz: dict[str, np.ndarray] | None = None
    audio: np.ndarray | None = None
    sample_rate: int | None = None
    audio_info: AudioInfo | None = None
    video: Path | bytes | None = None
    sources: dict[str, str] = field(default_factory=dict)  # ext -> where it was read from

    file_id = property(lambda self: self.ref.file_id)
    interaction_key = property(lambda self: self.ref.interaction_key)
    label = property(lambda self: self.ref.label)
    split = property(lambda self: self.ref.split)
    batch_idx = property(lambda self: self.ref.batch_idx)
    archive_idx = property(lambda self: self.ref.archive_idx)

    @property
    def transcript(self) -> list[dict[str, Any]]:
        return (self.json or {}).get(TRANSCRIPT) or []

    @property
    def vad(self) -> list[dict[str, Any]]:
        return (self.json or {}).get(VAD) or []

    @property
    def annotations(self) -> dict[str, list[dict[str, Any]]]:
        """``{"3P-IS": [...], ...}``: only the types the file has, each a list (a file that
        upstream's per-file download wrote holds a one-line type as one object)."""
        doc = self.json or {}
        return {
            k[len(ANNOTATION_PREFIX) :]: annotation_items(v)
            for k, v in doc.items()
            if k.startswith(ANNOTATION_PREFIX)
        }

    def __getitem__(self, key: str) -> Any:
        if key not in self.as_dict():
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "ref"}
        return {**self.ref.meta, **fields}


def decode(ref: FileRef, blobs: dict[str, bytes], paths: dict[str, Path]) -> Sample:
    """A :class:`Sample` from the member bytes of one file."""
    s = Sample(ref)
    if "json" in blobs:
        s.json = decode_json(blobs["json"])
    if "npz" in blobs:
        s.npz = decode_npz(blobs["npz"])
    if "wav" in blobs:
        s.audio, s.audio_info = decode_wav(blobs["wav"])
        s.sample_rate = s.audio_info.sample_rate
    if "mp4" in paths:
        s.video = paths["mp4"]
    elif "mp4" in blobs:
        s.video = blobs["mp4"]
    return s
