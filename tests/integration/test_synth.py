"""The synthetic release: parsed back with csv/json/tarfile/zipfile/struct/numpy, never with the
generator's own code, and checked against dataset-facts.md and turn-taking.md."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import statistics
import struct
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from seamless_catalog.synth import generate
from seamless_catalog.synth.plan import build_plan

pytestmark = pytest.mark.slow  # generates releases of its own, byte for byte twice

FILE_ID = re.compile(r"^(V0[0-3])_S(\d{4})_I(\d{8})_P(\d{4}[A-Z]?)$")
EXTS = ("json", "mp4", "npz", "wav")
N_FILES = 40
POSE_KEYS = {
    "boxes_and_keypoints:box": ((4,), "float32"),
    "boxes_and_keypoints:is_valid_box": ((), "bool"),
    "boxes_and_keypoints:keypoints": ((133, 3), "float32"),
    "smplh:body_pose": ((21, 3), "float32"),
    "smplh:global_orient": ((3,), "float32"),
    "smplh:left_hand_pose": ((15, 3), "float32"),
    "smplh:right_hand_pose": ((15, 3), "float32"),
    "smplh:translation": ((3,), "float32"),
    "smplh:is_valid": ((), "bool"),
}
MOVEMENT_KEYS = {
    "FAUValue": (24,), "expression": (128,), "frame_latent": (64,), "gaze_encodings": (2,),
    "head_encodings": (3,), "emotion_scores": (8,), "emotion_valence": (1,),
    "emotion_arousal": (1,), "FAUToken": (1,), "EmotionValenceToken": (1,),
    "EmotionArousalToken": (1,), "alignment_head_rotation": (3,),
    "alignment_translation": (2, 3), "is_valid": (1,),
}  # fmt: skip


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def rel(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "a"
    return generate(out, n_files=N_FILES, seed=0, smplh_240hz=True)


@pytest.fixture(scope="session")
def meta(rel):
    return json.loads(rel.release_json.read_text())


@pytest.fixture(scope="session")
def rows(rel):
    with rel.filelist.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def truth(rel):
    with rel.truth.open(newline="") as fh:
        return {r["file_id"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="session")
def docs(rel, rows):
    return {r["file_id"]: json.loads(tree_file(rel, r, "json")) for r in rows}


def tree_file(rel, row: dict, ext: str) -> bytes:
    folder = (
        f"{row['label']}/{row['split']}/{int(row['batch_idx']):04d}/{int(row['archive_idx']):04d}"
    )
    return (rel.tree / folder / f"{row['file_id']}.{ext}").read_bytes()


def tar_path(row: dict) -> str:
    batch, archive = int(row["batch_idx"]), int(row["archive_idx"])
    return f"{row['label']}/{row['split']}/{batch:04d}/{archive:04d}.tar"


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def to_ms(x) -> int:
    return round(x * 1000)


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_other_seed_other_bytes(rel, tmp_path):
    # CDN bytes are pinned to the tree's by test_cdn_matches_tree; skip rewriting ~1 GB of .npy
    again = generate(
        tmp_path / "b", n_files=N_FILES, seed=0, layouts=("tree", "hf"), smplh_240hz=True
    )
    first = {k: v for k, v in digest_tree(rel.root).items() if not k.startswith("cdn/")}
    second = digest_tree(again.root)
    del first["release.json"], second["release.json"]
    assert first == second
    docs = [json.loads((r.root / "release.json").read_text()) for r in (rel, again)]
    for doc in docs:  # the only difference: which layouts were asked for
        del doc["params"]["layouts"], doc["layouts"]
    assert docs[0] == docs[1]
    other = generate(tmp_path / "c", n_files=N_FILES, seed=1, layouts=("tree",), metadata_only=True)
    assert rel.filelist.read_bytes() != other.filelist.read_bytes()
    assert (rel.assets / "interactions.csv").read_bytes() != (
        other.assets / "interactions.csv"
    ).read_bytes()


def test_argument_validation(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, n_files=10, scale=0.1)
    with pytest.raises(ValueError):
        generate(tmp_path, n_files=40, layouts=("ftp",))
    with pytest.raises(ValueError):
        generate(tmp_path, n_files=40, filelist_columns=6)


# --------------------------------------------------------------------------- filelist
def test_filelist_rows(rel, rows, meta):
    header = (rel.filelist.read_text().splitlines()[0]).split(",")
    assert header == [
        "file_id", "label", "split", "batch_idx", "archive_idx",
        "has_imitator_movement", "has_annotation_1p", "has_annotation_3p",
    ]  # fmt: skip
    assert len(rows) == rel.n_files == meta["counts"]["files"]
    assert abs(len(rows) - N_FILES) <= 3
    for r in rows:
        assert FILE_ID.match(r["file_id"])
        for key in ("batch_idx", "archive_idx"):
            assert re.fullmatch(r"0|[1-9]\d*", r[key])
        for key in header[5:]:
            assert r[key] in ("0", "1")
    assert {(r["label"], r["split"]) for r in rows} == {
        (lab, s) for lab in ("improvised", "naturalistic") for s in ("train", "dev", "test")
    }
    assert {r["file_id"][:3] for r in rows} == {"V00", "V01", "V02", "V03"}
    assert len({r["file_id"] for r in rows}) == len(rows)


def test_filelist_five_columns_and_metadata_only(tmp_path):
    small = generate(tmp_path, n_files=24, seed=3, metadata_only=True, filelist_columns=5)
    lines = small.filelist.read_text().splitlines()
    assert lines[0] == "file_id,label,split,batch_idx,archive_idx"
    assert all(len(line.split(",")) == 5 for line in lines)
    assert {p.suffix for p in small.tree.rglob("*.*")} == {".json"}
    for tar in small.hf.rglob("*.tar"):
        with tarfile.open(tar) as tf:
            assert {Path(n).suffix for n in tf.getnames()} == {".json"}
    top = {p.relative_to(small.cdn).parts[2] for p in small.cdn.rglob("*") if p.is_file()}
    assert top <= {"metadata", "annotations"}


def test_batches_archives_gaps_and_split_pairs(rows, meta):
    batches = defaultdict(set)
    per_batch = defaultdict(int)
    by_key = defaultdict(list)
    for r in rows:
        batch = (r["label"], r["split"], r["batch_idx"])
        batches[batch].add(int(r["archive_idx"]))
        per_batch[batch] += 1
        by_key[r["file_id"].rsplit("_P", 1)[0]].append(r)
    assert max(per_batch.values()) <= 500
    gaps = [b for b, nums in batches.items() if len(nums) < max(nums) + 1]
    assert gaps, "some batch must skip an archive number"
    assert meta["archive_gaps"]
    split = [
        k
        for k, rs in by_key.items()
        if len(rs) == 2 and rs[0]["archive_idx"] != rs[1]["archive_idx"]
    ]
    assert split
    for rs in by_key.values():  # both halves: same label/split/batch
        assert len({(r["label"], r["split"], r["batch_idx"]) for r in rs}) == 1
    assert sum(len(rs) == 1 for rs in by_key.values()) >= 1


# --------------------------------------------------------------------------- tars
def test_tars_member_order_and_bytes(rel, rows, meta):
    by_tar = defaultdict(list)
    for r in rows:
        by_tar[tar_path(r)].append(r)
    row_of = {r["file_id"]: r for r in rows}
    strays = {(s["archive_path"], s["file_id"]) for s in meta["strays"]}
    seen_strays = set()
    tars = sorted(str(p.relative_to(rel.hf)) for p in rel.hf.rglob("*.tar"))
    assert set(tars) == set(by_tar) - set(meta["missing_hub_archives"])
    for name in tars:
        with tarfile.open(rel.hf / name) as tf:
            members = tf.getmembers()
            assert all(m.isfile() and "/" not in m.name for m in members)
            names = [m.name for m in members]
            assert len(names) % 4 == 0 and 4 <= len(names) // 4 <= 10 or len(by_tar[name]) < 4
            ids = []
            for i in range(0, len(names), 4):
                fid = names[i].rsplit(".", 1)[0]
                assert names[i : i + 4] == [f"{fid}.{e}" for e in EXTS]
                ids.append(fid)
                for m in members[i : i + 4]:
                    ext = m.name.rsplit(".", 1)[1]
                    data = tf.extractfile(m).read()
                    assert data == tree_file(rel, row_of[fid], ext)
            listed = {r["file_id"] for r in by_tar[name]}
            assert listed <= set(ids)
            for fid in set(ids) - listed:
                assert (name, fid) in strays
                assert tar_path(row_of[fid]) != name  # a de-duplicated copy of another row
                seen_strays.add((name, fid))
    assert seen_strays == strays and strays


def test_missing_hub_archive_exists_in_tree(rel, rows, meta):
    missing = meta["missing_hub_archives"]
    assert missing and missing[0].startswith("naturalistic/dev/0000/")
    for r in rows:
        if tar_path(r) in missing:
            assert not (rel.hf / tar_path(r)).exists()
            assert tree_file(rel, r, "json")


# --------------------------------------------------------------------------- CDN
def test_cdn_matches_tree(rel, rows, docs):
    for r in rows:
        fid, base = r["file_id"], rel.cdn / r["label"] / r["split"]
        doc = docs[fid]
        vad = (base / "metadata/vad" / f"{fid}.jsonl").read_text().splitlines()
        assert [json.loads(x) for x in vad] == doc["metadata:vad"]
        tpath = base / "metadata/transcript" / f"{fid}.jsonl"
        got = [json.loads(x) for x in tpath.read_text().splitlines()] if tpath.exists() else []
        assert got == doc["metadata:transcript"]
        for kind in ("1P-IS", "1P-R", "3P-IS", "3P-R", "3P-V"):
            path = base / "annotations" / kind / f"{fid}.json"
            flag = r["has_annotation_1p" if kind.startswith("1P") else "has_annotation_3p"]
            assert path.exists() == (flag == "1")
            if path.exists():
                lines = [json.loads(x) for x in path.read_text().splitlines()]
                assert lines == doc[f"annotations:{kind}"]
        assert (base / "audio" / f"{fid}.wav").read_bytes() == tree_file(rel, r, "wav")
        assert (base / "video" / f"{fid}.mp4").read_bytes() == tree_file(rel, r, "mp4")
        raw_npz = tree_file(rel, r, "npz")
        with np.load(io.BytesIO(raw_npz)) as npz, zipfile.ZipFile(io.BytesIO(raw_npz)) as zf:
            for key in npz.files:
                group, feature = key.split(":", 1)
                path = base / group / feature / f"{fid}.npy"
                arr = np.load(path)
                assert arr.dtype == npz[key].dtype and np.array_equal(arr, npz[key])
                assert path.read_bytes() == zf.read(f"{key}.npy")
        has_movement = (base / "movement/FAUValue" / f"{fid}.npy").exists()
        assert has_movement == (r["has_imitator_movement"] == "1")


# --------------------------------------------------------------------------- media
def riff_chunks(data: bytes) -> dict[bytes, tuple[int, bytes]]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    out, pos = {}, 12
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        out[tag] = (size, data[pos + 8 : pos + 8 + size])
        if tag == b"data":
            break
        pos += 8 + size
    return out


def test_wav_headers(rel, rows, truth, meta):
    for r in rows:
        data = tree_file(rel, r, "wav")
        chunks = riff_chunks(data)
        fmt = struct.unpack("<HHIIHH", chunks[b"fmt "][1][:14] + chunks[b"fmt "][1][14:16])
        assert fmt == (3, 1, 48000, 192000, 4, 32)
        declared = chunks[b"data"][0]
        assert declared == int(truth[r["file_id"]]["duration_ms"]) * 48 * 4
        assert (
            struct.unpack("<I", data[4:8])[0] == len(data) - 8 - len(chunks[b"data"][1]) + declared
        )
    for fid in meta["quirks"]["placeholder"]:
        data = tree_file(rel, {**next(x for x in rows if x["file_id"] == fid)}, "wav")
        assert len(data) == 58 and riff_chunks(data)[b"data"][0] == 0


def test_wav_full_length_and_follows_vad(rel, rows, docs, meta):
    """Every sample is there, and the signal is loud inside the VAD's speech, faint outside."""
    louder = 0
    for r in rows:
        fid = r["file_id"]
        data = tree_file(rel, r, "wav")
        chunks = riff_chunks(data)
        declared, payload = chunks[b"data"]
        assert len(payload) == declared  # full length, not a prefix
        x = np.frombuffer(payload, "<f4")
        speech = np.zeros(len(x), bool)
        for v in docs[fid]["metadata:vad"]:
            a, b = round(v["start"] * 48000), round(v["end"] * 48000)
            speech[a + 960 : max(a + 960, b - 960)] = True  # away from the 10 ms fades
        silence = np.ones(len(x), bool)
        for v in docs[fid]["metadata:vad"]:
            silence[max(0, round(v["start"] * 48000) - 480) : round(v["end"] * 48000) + 480] = False
        if speech.any() and silence.any():
            assert np.sqrt(np.mean(x[speech] ** 2)) > 50 * np.sqrt(np.mean(x[silence] ** 2)), fid
            louder += 1
    assert louder >= len(rows) // 2


def mp4_boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((kind, data[pos + 8 : pos + size]))
        pos += size
    return out


def test_mp4_mvhd(rel, rows, truth, meta):
    for r in rows:
        data = tree_file(rel, r, "mp4")
        top = dict(mp4_boxes(data))
        assert mp4_boxes(data)[0][0] == b"ftyp" and b"mdat" in top
        moov = dict(mp4_boxes(top[b"moov"]))
        mvhd = moov[b"mvhd"]
        assert mvhd[0] == 0  # version 0
        timescale, duration = struct.unpack(">II", mvhd[12:20])
        facts = truth[r["file_id"]]
        fps = 30000 / 1001 if facts["fps"] == "29.97" else 30.0
        expected_s = int(facts["n_video_frames"]) / fps  # the video's own length
        assert abs(duration / timescale - expected_s) < 1.5 / fps
        if r["file_id"] in meta["quirks"]["placeholder"]:
            assert len(data) == 261 and duration == 0 and b"trak" not in moov
        else:
            assert b"trak" in moov


def test_mp4_decodes_to_indexed_frames(rel, rows, truth, meta):
    """H.264 that PyAV decodes: every frame spells its index, the GOP is 1-2 s, both moov
    placements occur, V03 runs at 29.97 fps, and a truncated file keeps its moov."""
    av = pytest.importorskip("av", reason="the [video] extra (PyAV) is not installed")
    from tests.media_helpers import decoded_indices, keyframes, top_boxes

    q = meta["quirks"]
    placements = set()
    for r in rows:
        fid, facts = r["file_id"], truth[r["file_id"]]
        if fid in q["placeholder"] or fid in q["truncated_mp4"]:
            continue
        data = tree_file(rel, r, "mp4")
        boxes = top_boxes(data)
        placements.add(boxes.index(b"moov") < boxes.index(b"mdat"))
        assert (boxes.index(b"moov") < boxes.index(b"mdat")) == (facts["moov_first"] == "1")
        indices, times = decoded_indices(data)
        assert indices == list(range(int(facts["n_video_frames"]))), fid
        fps = 30000 / 1001 if fid.startswith("V03") else 30
        assert times[1] - times[0] == pytest.approx(1 / fps, abs=1e-4)
        keys = keyframes(data)
        gop = int(facts["gop_frames"])
        assert 30 <= gop <= 60 and keys == list(range(0, len(indices), gop)), fid
    assert placements == {True, False}
    (cut,) = q["truncated_mp4"]
    row = next(x for x in rows if x["file_id"] == cut)
    data = tree_file(rel, row, "mp4")
    boxes = top_boxes(data)
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # it keeps its moov
    got = []
    with pytest.raises(av.error.InvalidDataError), av.open(io.BytesIO(data)) as c:
        for frame in c.decode(video=0):  # the samples past the cut are gone
            got.append(frame)
    assert 0 < len(got) < int(truth[cut]["n_video_frames"])


def test_npz_members(rel, rows, truth, meta):
    smplh_240 = set(meta["quirks"]["smplh_240hz"])
    assert smplh_240
    for r in rows:
        raw = tree_file(rel, r, "npz")
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
            assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        facts = truth[r["file_id"]]
        n = int(facts["n_frames"])
        rate = 30000 / 1001 if r["file_id"].startswith("V03") else 30
        assert n == int(int(facts["duration_ms"]) * rate // 1000)
        if facts["placeholder"] == "0":
            assert -3 <= int(facts["n_video_frames"]) - n <= 5
        with np.load(io.BytesIO(raw)) as npz:
            movement = r["has_imitator_movement"] == "1"
            assert len(npz.files) == (24 if movement else 9)
            smplh_n = int(facts["smplh_frames"])  # 8 x n where SMPL-H runs at 240 Hz
            assert smplh_n == (8 * n if r["file_id"] in smplh_240 else n)
            for key, (shape, dtype) in POSE_KEYS.items():
                rows_ = smplh_n if key.startswith("smplh:") else n
                assert npz[key].shape == (rows_, *shape) and npz[key].dtype == dtype
                if dtype == "float32" and key != "smplh:translation":
                    assert_frame_indexed(npz[key])
            valid = npz["smplh:is_valid"]
            assert np.all(npz["smplh:translation"][~valid] > 1e11)
            if valid.any():  # the valid frames are the last ones
                first = int(np.argmax(valid))
                assert valid[first:].all()
                assert_frame_indexed(npz["smplh:translation"][first:], first)
            if movement:
                for key, shape in MOVEMENT_KEYS.items():
                    arr = npz[f"movement:{key}"]
                    assert arr.shape == (n, *shape) and arr.dtype == np.float32
                    if key != "is_valid":
                        assert_frame_indexed(arr)
                hyper = npz["movement:hypernet_features"]
                assert hyper.shape == (math.ceil(n / 15), 5120)
                assert_frame_indexed(hyper)


def assert_frame_indexed(arr: np.ndarray, first: int = 0) -> None:
    """Row i holds i + (j % 256) / 256 at flat position j: a slice can be checked exactly."""
    if not len(arr):
        return  # a placeholder's N = 0
    flat = arr.reshape(len(arr), -1)
    j = np.arange(flat.shape[1]) % 256 / 256
    expected = np.arange(first, first + len(arr))[:, None] + j[None, :]
    assert np.array_equal(flat, expected.astype(np.float32))


# --------------------------------------------------------------------------- JSON
def test_json_layout_and_quirks(rel, rows, docs, meta):
    q = meta["quirks"]
    for r in rows:
        fid, text = r["file_id"], tree_file(rel, r, "json").decode()
        doc = docs[fid]
        assert doc["id"] == fid
        assert list(doc)[:3] == ["id", "metadata:transcript", "metadata:vad"]
        annotated = "1" in (r["has_annotation_1p"], r["has_annotation_3p"])
        indent = 2 if annotated else 4
        assert text.splitlines()[1].startswith(" " * indent + '"id"')
        assert (fid in q["json_indent_2"]) == annotated
        extra = set(doc) - {"id", "metadata:transcript", "metadata:vad"}
        extra -= {k for k in doc if k.startswith("annotations:")}
        assert bool(extra) == (fid in q["extra_json_key"])
    for fid in q["placeholder"] + q["empty_vad"]:
        assert docs[fid]["metadata:vad"] == [] and docs[fid]["metadata:transcript"] == []


def test_annotations(docs, rows):
    unsorted = trailing = 0
    for r in rows:
        doc = docs[r["file_id"]]
        for prefix, types in (("1P", ("IS", "R")), ("3P", ("IS", "R", "V"))):
            keys = [f"annotations:{prefix}-{t}" for t in types]
            flag = r[f"has_annotation_{prefix.lower()}"] == "1"
            assert all((k in doc) == flag for k in keys)
            if not flag:
                continue
            stamps = [sorted((x["start_ts"], x["end_ts"]) for x in doc[k]) for k in keys]
            assert all(s == stamps[0] for s in stamps)
            for k in keys:
                lines = doc[k]
                assert all(set(x) == {"annotation", "start_ts", "end_ts"} for x in lines)
                assert all(
                    type(x["start_ts"]) is int and x["start_ts"] < x["end_ts"] for x in lines
                )
                unsorted += [x["start_ts"] for x in lines] != sorted(x["start_ts"] for x in lines)
                trailing += any(x["annotation"].endswith(" ") for x in lines)
    assert unsorted and trailing


def test_vad_grid(docs, truth, meta):
    kinds = {"int": 0, "noisy": 0}
    for fid, doc in docs.items():
        vad = doc["metadata:vad"]
        assert all(set(v) == {"start", "end"} for v in vad)
        for v in vad:
            for t in v.values():
                kinds["int"] += type(t) is int
                kinds["noisy"] += type(t) is float and t != round(t, 3)
        segs = [(to_ms(v["start"]), to_ms(v["end"])) for v in vad]
        duration = int(truth[fid]["duration_ms"])
        assert segs == sorted(segs)
        for i, (s, e) in enumerate(segs):
            assert 0 <= s < e <= duration
            edge = s == 0 or e == duration
            if not edge:
                assert e - s >= 316 and (e - s - 60) % 32 == 0, (fid, s, e)
            if i:
                gap = s - segs[i - 1][1]
                assert gap >= 100 and (gap + 60) % 32 == 0, (fid, gap)
    assert kinds["int"] and kinds["noisy"]
    zero = meta["quirks"]["vad_starts_at_int_zero"][0]
    assert docs[zero]["metadata:vad"][0]["start"] == 0
    assert type(docs[zero]["metadata:vad"][0]["start"]) is int


def test_transcript_words_inside_speech(docs, meta):
    nulls = set()
    for fid, doc in docs.items():
        speech = [(to_ms(v["start"]), to_ms(v["end"])) for v in doc["metadata:vad"]]
        for seg in doc["metadata:transcript"]:
            assert set(seg) == {"words", "start", "end", "transcript"}
            assert seg["transcript"] == " ".join(w["word"] for w in seg["words"])
            timed = [w for w in seg["words"] if w["start"] is not None]
            assert seg["start"] == timed[0]["start"] and seg["end"] == timed[-1]["end"]
            for w in seg["words"]:
                if w["start"] is None:
                    assert w["end"] is None and "score" not in w
                    nulls.add(fid)
                    continue
                assert 0 <= w["score"] <= 1
                s, e = to_ms(w["start"]), to_ms(w["end"])
                assert any(a <= s < e <= b for a, b in speech), (fid, w)
    assert nulls and set(meta["quirks"]["null_word_times"]) == nulls


def _ipus(segs, bridge=200):
    out = []
    for s, e in segs:
        if out and s - out[-1][1] < bridge:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _states(a, b):
    """Heldner & Edlund sweep: list of (state, start, end) with A, B, AB, N."""
    points = sorted({t for seg in a + b for t in seg})
    out = []
    for t0, t1 in zip(points, points[1:]):
        mid = (t0 + t1) / 2
        state = "A" * any(s <= mid < e for s, e in a) + "B" * any(s <= mid < e for s, e in b)
        state = state or "N"
        if out and out[-1][0] == state:
            out[-1] = (state, out[-1][1], t1)
        else:
            out.append((state, t0, t1))
    return out


@pytest.fixture(scope="session")
def conversations(tmp_path_factory):
    """Recordings of the release's lengths (metadata only: media would cost 192 kB/s of wav),
    so that 20 pairs hold enough turns for the statistics below."""
    rel = generate(tmp_path_factory.mktemp("talk"), n_files=N_FILES, seed=0,
                   layouts=("tree",), metadata_only=True)  # fmt: skip
    with rel.filelist.open(newline="") as fh:
        listed = list(csv.DictReader(fh))
    return listed, {r["file_id"]: json.loads(tree_file(rel, r, "json")) for r in listed}


def test_turn_taking_sanity(conversations):
    """Conversations land in the sanity ranges of turn-taking.md (pooled over the pairs)."""
    rows, docs = conversations
    by_key = defaultdict(list)
    for r in rows:
        by_key[r["file_id"].rsplit("_P", 1)[0]].append(r["file_id"])
    fto, pauses, gaps, overlap, speech = [], 0, 0, 0, 0
    for ids in by_key.values():
        vads = [
            [(to_ms(v["start"]), to_ms(v["end"])) for v in docs[f]["metadata:vad"]] for f in ids
        ]
        if len(ids) != 2 or not all(vads):
            continue
        states = _states(_ipus(vads[0]), _ipus(vads[1]))
        for prev, cur, nxt in zip(states, states[1:], states[2:]):
            if prev[0] not in ("A", "B") or nxt[0] not in ("A", "B"):
                continue
            length = cur[2] - cur[1]
            if cur[0] == "N":
                pauses += prev[0] == nxt[0]
                if prev[0] != nxt[0]:
                    gaps += 1
                    fto.append(length)
            elif cur[0] == "AB" and prev[0] != nxt[0]:
                fto.append(-length)
        overlap += sum(e - s for k, s, e in states if k == "AB")
        speech += sum(e - s for v in vads for s, e in v)
    assert len(fto) > 50
    assert -150 <= statistics.median(fto) <= 250
    assert 0.25 <= sum(f < 0 for f in fto) / len(fto) <= 0.6
    assert overlap / speech < 0.09
    assert 2 <= pauses / gaps <= 7


# --------------------------------------------------------------------------- assets
def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_interactions_csv(rel, rows):
    table = read_csv(rel.assets / "interactions.csv")
    assert table[0] == [
        "", "prompt_hash", "prompt_id_unique", "participant_a_prompt_text",
        "participant_b_prompt_text", "ipc_a", "ipc_b", "interaction_type",
    ]  # fmt: skip
    body = table[1:]
    assert [r[0] for r in body] == [str(i) for i in range(len(body))]
    assert all(re.fullmatch(r"\d{8}", r[1]) for r in body)
    assert len({r[1] for r in body}) == len({r[2] for r in body}) == len(body)
    assert {r[7] for r in body} == {
        "ipc_conversation", "grounded_gesture", "collaborative_storytelling", "charades",
    }  # fmt: skip
    assert 0.3 <= sum(r[6] == "" for r in body) / len(body) <= 0.7
    assert any("\n" in r[3] + r[4] for r in body)
    assert any("\r\n" in r[3] + r[4] for r in body)
    assert b"\r\n" in (rel.assets / "interactions.csv").read_bytes()  # inside quotes only
    hashes = {r[1] for r in body}
    assert {FILE_ID.match(r["file_id"]).group(3) for r in rows} <= hashes
    sessions_of = defaultdict(set)
    for r in rows:
        v, s, i, _ = FILE_ID.match(r["file_id"]).groups()
        sessions_of[i].add((v, s))
    assert any(len(s) > 1 for s in sessions_of.values())


def test_participants_csv(rel, rows, meta):
    table = read_csv(rel.assets / "participants.csv")
    assert table[0][5:] == ["vendor_id", "participant_id"] and len(table[0]) == 7
    keys = set()
    for r in table[1:]:
        assert re.fullmatch(r"0[0-3]", r[5]) and re.fullmatch(r"\d{4}A?", r[6])
        if r[0] == "Undisclosed":
            assert r[:5] == ["Undisclosed"] * 5
        else:
            assert all(1 <= float(x) <= 5 for x in r[:5])
        keys.add((f"V{r[5]}", r[6]))
    assert any(r[0] == "Undisclosed" for r in table[1:])
    assert any(len(x) > 10 for r in table[1:] for x in r[:5] if x != "Undisclosed")
    people = {
        (FILE_ID.match(r["file_id"]).group(1), FILE_ID.match(r["file_id"]).group(4)) for r in rows
    }
    assert people - keys, "some participants have no participants.csv row"
    assert any(p.endswith("A") for _, p in people)
    bare = defaultdict(set)
    for v, p in people:
        bare[p].add(v)
    assert any(len(v) > 1 for v in bare.values())
    missing = {f for f in meta["quirks"]["participant_not_in_csv"]}
    assert missing and all((f[:3], f.rsplit("_P", 1)[1]) not in keys for f in missing)


def test_relationships_csv(rel, rows):
    table = read_csv(rel.assets / "relationships.csv")
    assert table[0] == ["vendor_id", "session_id", "relationship", "relationship_detail"]
    keys = set()
    for v, s, r, d in table[1:]:
        assert re.fullmatch(r"V0[0-3]", v) and re.fullmatch(r"\d{4}", s)
        assert r in ("stranger", "familiar") and d
        keys.add((v, s))
    sessions = {FILE_ID.match(r["file_id"]).groups()[:2] for r in rows}
    assert sessions - keys, "some sessions have no relationships.csv row"
    assert keys - sessions, "some rows match no session (outer joins)"


# --------------------------------------------------------------------------- quirks and scale
REQUIRED_QUIRKS = (
    "participant_suffix_a", "participant_not_in_csv", "participant_undisclosed",
    "participant_id_reused_across_vendors", "session_not_in_relationships",
    "session_number_reused_across_vendors", "prompt_reused_across_sessions",
    "singleton_interaction", "pair_split_across_archives", "archive_gap_in_batch",
    "placeholder", "empty_vad", "null_word_times", "vad_float_noise", "vad_int_times",
    "json_indent_2", "json_indent_4", "extra_json_key", "prompt_with_newline",
    "prompt_with_crlf", "stray_in_tar", "missing_on_hub", "dyad_duration_mismatch",
    "annotation_1p", "annotation_3p", "has_imitator_movement",
)  # fmt: skip


@pytest.mark.parametrize("n_files", [24, N_FILES])
def test_every_quirk_planted(n_files, rel, meta):
    quirks = meta["quirks"] if n_files == N_FILES else build_plan(n_files, 0).quirks
    for name in REQUIRED_QUIRKS:
        if name in ("vad_float_noise", "vad_int_times") and n_files != N_FILES:
            continue  # observed while rendering; checked on the full fixture
        assert quirks.get(name), name
    assert set(meta["quirks"]) >= set(REQUIRED_QUIRKS)


def test_full_scale_plan_counts():
    plan = build_plan(129_370, 0)
    files, keys = plan.files, {r.interaction_key for r in plan.files}
    assert abs(len(files) - 129_370) < 200
    assert abs(len(keys) - 64_739) < 300
    assert len({k.rsplit("_I", 1)[0] for k in keys}) == 5_098
    people = {(r.file_id[:3], r.file_id.rsplit("_P", 1)[1]) for r in files}
    assert abs(len(people) - 4_307) < 300
    assert len(plan.prompts) == 1_312
    assert all(4 <= len(a.files) <= 10 for a in plan.archives)
    splits = defaultdict(int)
    for r in files:
        splits[r.split] += 1
    assert splits["train"] > 20 * splits["dev"] and 1_000 < splits["dev"] < 4_000
