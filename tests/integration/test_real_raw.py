"""The real raw VAD and annotation files, laid out as the per-file (CDN) layout and ingested.

Every expected value is computed here from the raw files with plain Python.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest

FIELDS = [
    "file_id",
    "label",
    "split",
    "batch_idx",
    "archive_idx",
    "has_imitator_movement",
    "has_annotation_1p",
    "has_annotation_3p",
]


def _layout(real: Path, out: Path) -> list[dict[str, str]]:
    """usc-raw laid out as {label}/{split}/metadata/vad, annotations/{kind}; filelist rows."""
    rows = []
    for inter in sorted((real / "usc-raw").iterdir()):
        entries = json.loads((inter / "interaction" / "filelist_entries.json").read_text())
        rows += entries
        where = {e["file_id"]: (e["label"], e["split"]) for e in entries}
        for f in sorted(inter.glob("participant_*/*")):
            kind, fid = f.stem.split("_", 1)
            label, split = where[fid]
            base = out / "cdn" / label / split
            if kind == "vad":
                dest = base / "metadata" / "vad" / f"{fid}.jsonl"
            else:
                dest = base / "annotations" / kind / f"{fid}.json"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    with open(out / "filelist.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        w.writerows(rows)
    return rows


def _union_ms(path: Path) -> list[tuple[int, int]]:
    segs = sorted(
        (round(d["start"] * 1000), round(d["end"] * 1000))
        for d in map(json.loads, path.read_text().splitlines())
        if d["end"] > d["start"]
    )
    merged: list[list[int]] = []
    for s, e in segs:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [tuple(m) for m in merged]


def _overlap_ms(a, b) -> int:
    i = j = total = 0
    while i < len(a) and j < len(b):
        total += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


@pytest.fixture(scope="module")
def setup(real, tmp_path_factory):
    out = tmp_path_factory.mktemp("realraw")
    rows = _layout(real, out)
    result = ingest(
        out / "cat",
        [str(out / "cdn")],
        filelist=str(out / "filelist.csv"),
        assets=str(real / "assets"),
    )
    cat = Catalog.open(out / "cat")
    yield real, out, rows, result, cat
    cat.close()


def test_ingests_without_issues(setup):
    *_, result, cat = setup
    assert result.ok and result.n_warnings == 0, result.issues
    assert cat.value("select count(*) from files") == 20


def test_vad_rows_and_speech_per_file(setup):
    real, out, rows, _, cat = setup
    vad_files = sorted((out / "cdn").rglob("metadata/vad/*.jsonl"))
    assert len(vad_files) == 20
    n_lines = sum(len(p.read_text().splitlines()) for p in vad_files)
    assert cat.value("select count(*) from raw.vad_segments") == n_lines == 1121
    got = dict(cat.sql("select file_id, speech_s from speech_activity").fetchall())
    for p in vad_files:
        expected_ms = sum(e - s for s, e in _union_ms(p))
        assert abs(got[p.stem] * 1000 - expected_ms) <= 1, p.stem


def test_annotations_rows_and_types(setup):
    _, out, _, _, cat = setup
    files = sorted((out / "cdn").rglob("annotations/*/*.json"))
    expected = {(p.stem, p.parent.name): len(p.read_text().splitlines()) for p in files}
    got = {
        (f, t): n
        for f, t, n in cat.sql(
            "select file_id, annotation_type, count(*) from raw.annotations group by all"
        ).fetchall()
    }
    assert got == expected
    assert sum(expected.values()) == 117
    first = json.loads(files[0].read_text().splitlines()[0])
    text = cat.value(
        "select text from raw.annotations where file_id = ? and annotation_type = ? "
        "and annotation_idx = 0",
        [files[0].stem, files[0].parent.name],
    )
    assert text == first["annotation"]  # trailing spaces kept


def test_pairs_and_overlap(setup):
    _, out, rows, _, cat = setup
    by_inter: dict[str, list[str]] = {}
    for r in rows:
        by_inter.setdefault(r["file_id"].rsplit("_P", 1)[0], []).append(r["file_id"])
    pairs = cat.sql("select interaction_key, file_id_a, file_id_b from pairs").fetchall()
    assert {p[0]: [p[1], p[2]] for p in pairs} == {k: sorted(v) for k, v in by_inter.items()}
    vad = {p.stem: p for p in (out / "cdn").rglob("metadata/vad/*.jsonl")}
    got = dict(cat.sql("select interaction_key, overlap_s from turn_taking").fetchall())
    for key, (a, b) in ((k, sorted(v)) for k, v in by_inter.items()):
        expected_ms = _overlap_ms(_union_ms(vad[a]), _union_ms(vad[b]))
        assert abs(got[key] * 1000 - expected_ms) <= 1, key


def test_sessions_have_relationships_and_participants_flags(setup):
    real, _, rows, _, cat = setup
    with open(real / "assets" / "relationships.csv", newline="") as f:
        rel = {f"{r['vendor_id']}_S{r['session_id']}": r["relationship"] for r in csv.DictReader(f)}
    with open(real / "assets" / "participants.csv", newline="") as f:
        bfi = {
            (f"V{r['vendor_id']}", r["participant_id"]): r["extraversion_raw"] != "Undisclosed"
            for r in csv.DictReader(f)
        }
    sessions = dict(cat.sql("select session_key, relationship from sessions").fetchall())
    expected = {r["file_id"][:9]: rel.get(r["file_id"][:9]) for r in rows}
    assert sessions == expected
    got = {
        (v, p): (flag, in_csv)
        for v, p, flag, in_csv in cat.sql(
            "select vendor, participant, bfi2_disclosed, in_participants_csv "
            "from participants where n_files > 0"
        ).fetchall()
    }
    for r in rows:
        key = (r["file_id"][:3], r["file_id"].rsplit("_P", 1)[1])
        assert got[key] == (bfi.get(key, False), key in bfi)
