"""Per-file metadata: the merged ``{file_id}.json`` document and its CDN JSON Lines pieces.

Every function is a pure function of (release seed, FileRec), so a sample renders to the same
bytes wherever it is written (tree, tar, stray copy in another tar, CDN).
"""

from __future__ import annotations

import json
import random

from . import speech, texts
from .model import ANNOTATION_TYPES_1P, ANNOTATION_TYPES_3P, FileRec

EXTRA_KEY = "metadata:pipeline_version"  # an unknown key a reader must tolerate


def rng_for(seed: int, *parts: str) -> random.Random:
    """A private generator per (seed, purpose); str seeds hash with SHA-512, not ``hash()``."""
    return random.Random(":".join((str(seed), *parts)))


def vad_segments(seed: int, rec: FileRec) -> list[speech.Segment]:
    """This side's VAD in integer ms (the dyad is simulated jointly, then one side is taken)."""
    if rec.placeholder or rec.silent:
        return []
    rng = rng_for(seed, rec.interaction_key, "conversation")
    pair = speech.simulate_pair(rng, rec.pair_ms, rec.zero_start_side)
    return pair[rec.side]


def file_doc(seed: int, rec: FileRec) -> dict:
    """The merged per-file JSON object (key order as the upstream tool writes it)."""
    segments = vad_segments(seed, rec)
    words_rng = rng_for(seed, rec.file_id, "words")
    doc: dict = {
        "id": rec.file_id,
        "metadata:transcript": speech.transcript(
            words_rng, segments, rec.force_null_word, rec.dense_words
        ),
        "metadata:vad": speech.vad_records(rng_for(seed, rec.file_id, "vad"), segments),
    }
    doc.update(annotations(seed, rec))
    if rec.extra_key:
        doc[EXTRA_KEY] = "2.3.1"
    return doc


def annotations(seed: int, rec: FileRec) -> dict[str, list[dict]]:
    """``annotations:<type>`` lists; IS/R/V lines of one moment share their whole-second times."""
    out: dict[str, list[dict]] = {}
    rng = rng_for(seed, rec.file_id, "annotations")
    for flagged, types in ((rec.ann_1p, ANNOTATION_TYPES_1P), (rec.ann_3p, ANNOTATION_TYPES_3P)):
        if not flagged:
            continue
        moments = [_moment(rng, rec.duration_ms, i == 0) for i in range(rng.randint(2, 3))]
        for i, kind in enumerate(types):
            lines = [{"annotation": m[2][i], "start_ts": m[0], "end_ts": m[1]} for m in moments]
            rng.shuffle(lines)  # ordered differently per type (join on times, not line index)
            if lines == sorted(lines, key=lambda x: x["start_ts"]):
                lines.reverse()  # and never time-sorted
            out[f"annotations:{kind}"] = lines
    return out


def _moment(
    rng: random.Random, duration_ms: int, trail: bool
) -> tuple[int, int, tuple[str, str, str]]:
    last = max(1, duration_ms // 1000 - 7)
    start = rng.randint(0, last)
    trail = trail or rng.random() < 0.4
    return start, start + rng.randint(1, 6), texts.annotation_lines(rng, trail)


def encode_doc(doc: dict, indent: int) -> bytes:
    """The merged JSON as stored in tars and trees (no final newline)."""
    return json.dumps(doc, indent=indent).encode()


def encode_jsonl(records: list[dict]) -> bytes:
    """One object per line, as the per-file CDN objects are written."""
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def cdn_metadata(doc: dict) -> dict[str, bytes]:
    """CDN relative paths (without ``{label}/{split}/``) -> bytes, for the JSON-derived objects.

    The transcript object is optional upstream: it is left out when the transcript is empty.
    """
    file_id = doc["id"]
    out = {f"metadata/vad/{file_id}.jsonl": encode_jsonl(doc["metadata:vad"])}
    if doc["metadata:transcript"]:
        out[f"metadata/transcript/{file_id}.jsonl"] = encode_jsonl(doc["metadata:transcript"])
    for key, lines in doc.items():
        if key.startswith("annotations:"):
            out[f"annotations/{key.split(':', 1)[1]}/{file_id}.json"] = encode_jsonl(lines)
    return out
