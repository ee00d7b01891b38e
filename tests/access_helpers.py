"""Shared by the load/stream/export/upstream/clips tests: where the generator put each file,
and the checks of a clip against the whole file it was cut from."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from seamless_catalog.layout import FRAME_STRIDE, nominal_fps

IN_TARS = "select file_id from files where file_id in (select file_id from raw.members)"
SECOND_VAD = (  # a window per file: its second VAD segment, with an extra column
    "select file_id, start_s, end_s, 'speech' as kind from ("
    " select v.file_id, v.start_s, v.end_s, row_number() over (partition by v.file_id "
    " order by v.segment_idx) as n from raw.vad_segments v where v.file_id in ({ids})"
    ") where n = 2"
)


def media_ids(cat, n: int) -> list[str]:
    """The first ``n`` files in the tars with real media and at least two VAD segments."""
    sql = (
        f"{IN_TARS} and file_id not in (select file_id from raw.media where placeholder) and "
        "file_id in (select file_id from raw.vad_segments group by 1 having count(*) >= 2) "
        "order by 1"
    )
    return [r[0] for r in cat.sql(sql).fetchall()][:n]


def second_vad(ids: list[str]) -> str:
    """The :data:`SECOND_VAD` windows of ``ids``."""
    return SECOND_VAD.format(ids=", ".join(f"'{i}'" for i in ids))


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


def check_wav_clip(clip, release, row) -> None:
    """The clip's audio is the source's samples round(start·rate) to round(end·rate)."""
    rate, source = wav_samples(tree_path(release, row, "wav").read_bytes())
    first, stop = round(clip.window.start_s * rate), round(clip.window.end_s * rate)
    assert clip.sample.sample_rate == rate
    assert clip.sample.audio.tobytes() == source[first:stop].tobytes()


def check_npz_clip(clip, release, row) -> None:
    """Each feature's rows are the source's frames i with start <= i / fps < end."""
    w, fps = clip.window, nominal_fps(clip.file_id)
    with np.load(tree_path(release, row, "npz")) as src:
        for key in clip.sample.npz:
            stride = FRAME_STRIDE.get(key, 1)  # hypernet_features: a row per 15 frames
            frames = [i for i in range(len(src[key]) * stride) if w.start_s <= i / fps < w.end_s]
            rows = sorted({i // stride for i in frames})
            assert np.array_equal(clip.sample.npz[key], src[key][rows]), key


def check_json_clip(clip, release, row) -> None:
    """Exactly the overlapping timed words and VAD segments, times relative to the clip."""
    w = clip.window
    doc = json.loads(tree_path(release, row, "json").read_bytes())
    words = [x for seg in doc["metadata:transcript"] for x in seg["words"]]
    words = [x for x in words if x["start"] is not None]  # an untimed word cannot be placed
    words = [x for x in words if x["start"] < w.end_s and x["end"] > w.start_s]
    got = clip.words
    assert [x["word"] for x in got] == [x["word"] for x in words]
    for g, x in zip(got, words):
        assert g["start"] == pytest.approx(x["start"] - w.start_s, abs=1e-9)
        assert g["end"] == pytest.approx(x["end"] - w.start_s, abs=1e-9)
    vad = [s for s in doc["metadata:vad"] if s["start"] < w.end_s and s["end"] > w.start_s]
    assert len(clip.sample.vad) == len(vad) >= 1
    record = clip.sample.json["clip"]
    assert record["file_id"] == clip.file_id and record["start_s"] == w.start_s
    assert record["npz_fps"]["smplh"] == pytest.approx(nominal_fps(clip.file_id))
