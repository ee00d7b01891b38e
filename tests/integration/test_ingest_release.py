"""A generated release ingested from its tars, its tree and its per-file layout.

Expected values come from the release's files read here with json, csv, tarfile,
struct and numpy, never from the catalog's code.
"""

from __future__ import annotations

import csv
import json
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from tests.unit.test_docbatch import parse_both_ways


def _filelist(release: Path) -> list[dict[str, str]]:
    with open(release / "filelist.csv", newline="") as f:
        return list(csv.DictReader(f))


def _quirks(release: Path) -> dict:
    return json.loads((release / "release.json").read_text())


def _tree_docs(release: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_bytes()) for p in (release / "tree").rglob("*.json")}


def _wav_seconds(path: Path) -> float:
    data = path.read_bytes()
    pos, rate, align, n_bytes = 12, None, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"fmt ":
            rate = struct.unpack("<I", data[pos + 12 : pos + 16])[0]
            align = struct.unpack("<H", data[pos + 20 : pos + 22])[0]
        if cid == b"data":
            n_bytes = size
            break
        pos += 8 + size + (size & 1)
    return n_bytes / align / rate


@pytest.fixture(scope="module")
def hf(hf_catalog):
    with Catalog.open(hf_catalog) as cat:
        yield cat


def _ingested(release: Path, tmp_path_factory, layout: str):
    root = tmp_path_factory.mktemp(f"{layout}_cat")
    result = ingest(
        root,
        [str(release / layout)],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )
    assert result.ok, result.issues
    return Catalog.open(root)


@pytest.fixture(scope="module")
def tree(release, tmp_path_factory):
    with _ingested(release, tmp_path_factory, "tree") as cat:
        yield cat


@pytest.fixture(scope="module")
def cdn(release, tmp_path_factory):
    with _ingested(release, tmp_path_factory, "cdn") as cat:
        yield cat


def test_files_match_the_filelist(hf, release):
    rows = _filelist(release)
    got = {
        r[0]: r[1:]
        for r in hf.sql(
            "select file_id, label, split, batch_idx, archive_idx, has_imitator_movement from files"
        ).fetchall()
    }
    assert got == {
        r["file_id"]: (
            r["label"],
            r["split"],
            int(r["batch_idx"]),
            int(r["archive_idx"]),
            r["has_imitator_movement"] == "1",
        )
        for r in rows
    }


def test_member_index_equals_tarfile(hf, release):
    expected = set()
    for tar in (release / "hf").rglob("*.tar"):
        rel = tar.relative_to(release / "hf").as_posix()
        with tarfile.open(tar) as tf:
            expected |= {(rel, m.name, m.offset_data, m.size) for m in tf.getmembers()}
    got = set(hf.sql("select archive_path, member, offset_data, size from raw.members").fetchall())
    assert got == expected
    order = hf.sql(
        "select list(ext order by member_idx) from raw.members group by archive_path, file_id"
    ).fetchall()
    assert {tuple(o[0]) for o in order} == {("json", "mp4", "npz", "wav")}


def test_metadata_rows_match_the_json(hf, release):
    docs = _tree_docs(release)
    on_hub = {r[0] for r in hf.sql("select distinct file_id from raw.members").fetchall()}
    n_vad = sum(len(d["metadata:vad"]) for f, d in docs.items() if f in on_hub)
    n_seg = sum(len(d["metadata:transcript"]) for f, d in docs.items() if f in on_hub)
    n_words = sum(
        len(s["words"]) for f, d in docs.items() if f in on_hub for s in d["metadata:transcript"]
    )
    n_ann = sum(
        len(v)
        for f, d in docs.items()
        if f in on_hub
        for k, v in d.items()
        if k.startswith("annotations:")
    )
    assert hf.value("select count(*) from raw.vad_segments") == n_vad
    assert hf.value("select count(*) from raw.transcript_segments") == n_seg
    assert hf.value("select count(*) from raw.transcript_words") == n_words
    assert hf.value("select count(*) from raw.annotations") == n_ann
    fid, d = next((f, d) for f, d in sorted(docs.items()) if f in on_hub and d["metadata:vad"])
    first = d["metadata:vad"][0]
    assert hf.sql(
        "select start_s, end_s from raw.vad_segments where file_id = ? and segment_idx = 0", [fid]
    ).fetchall() == [(first["start"], first["end"])]


def test_durations_from_headers(hf, release):
    wavs = {p.stem: p for p in (release / "tree").rglob("*.wav")}
    got = dict(
        hf.sql("select file_id, duration_s from files where duration_source = 'wav'").fetchall()
    )
    assert got
    for fid, seconds in got.items():
        assert seconds == pytest.approx(_wav_seconds(wavs[fid]), abs=1e-9)


def test_npz_inventory_equals_numpy(hf, release):
    npz = sorted((release / "tree").rglob("*.npz"))[0]
    with np.load(npz) as z:
        expected = {(k, str(z[k].dtype), tuple(z[k].shape)) for k in z.files}
    got = {
        (k, d, tuple(s))
        for k, d, s in hf.sql(
            "select key, dtype, shape from raw.features where file_id = ?", [npz.stem]
        ).fetchall()
    }
    assert got == expected


def test_pairs_and_singletons(hf, release):
    groups: dict[str, list[str]] = {}
    for r in _filelist(release):
        groups.setdefault(r["file_id"].rsplit("_P", 1)[0], []).append(r["file_id"])
    pairs = {k: sorted(v) for k, v in groups.items() if len(v) == 2}
    got = {
        k: [a, b]
        for k, a, b in hf.sql("select interaction_key, file_id_a, file_id_b from pairs").fetchall()
    }
    assert got == pairs
    singles = {k for k, v in groups.items() if len(v) == 1}
    assert singles and singles == {
        r[0]
        for r in hf.sql("select interaction_key from interactions where n_files = 1").fetchall()
    }


def test_sessions_with_relationships_outer_joined(hf, release):
    with open(release / "assets" / "relationships.csv", newline="") as f:
        rel = {f"{r['vendor_id']}_S{r['session_id']}": r["relationship"] for r in csv.DictReader(f)}
    sessions = {r["file_id"][:9] for r in _filelist(release)}
    got = dict(hf.sql("select session_key, relationship from sessions").fetchall())
    assert got == {s: rel.get(s) for s in sessions}
    assert None in got.values(), "the release has a session without a relationship row"


def test_quirks_surface_as_columns(hf, release):
    q = _quirks(release)["quirks"]
    suffixed = q["participant_suffix_a"][0]
    assert hf.value("select participant from files where file_id = ?", [suffixed]).endswith("A")
    undisclosed = q["participant_undisclosed"][0]
    assert hf.sql(
        "select p.bfi2_disclosed, p.extraversion from files f join participants p "
        "using (vendor, participant) where f.file_id = ?",
        [undisclosed],
    ).fetchall() == [(False, None)]
    no_row = q["participant_not_in_csv"][0]
    assert (
        hf.value(
            "select p.in_participants_csv from files f join participants p "
            "using (vendor, participant) where f.file_id = ?",
            [no_row],
        )
        is False
    )
    split = q["pair_split_across_archives"][0]
    assert hf.value(
        "select archive_idx_a <> archive_idx_b from pairs where ? in (file_id_a, file_id_b)",
        [split],
    )


def test_placeholders_and_empty_vad(hf, release):
    q = _quirks(release)["quirks"]
    ph = q["placeholder"][0]
    row = hf.sql(
        "select placeholder, placeholder_modalities from files where file_id = ?", [ph]
    ).fetchall()
    assert row[0][0] is True and set(row[0][1]) >= {"wav", "npz"}
    wav = next((release / "tree").rglob(f"{ph}.wav"))
    assert wav.stat().st_size == 58
    empty = [f for f in q["empty_vad"] if f != ph]
    on_hub = {r[0] for r in hf.sql("select distinct file_id from raw.members").fetchall()}
    for fid in empty:
        expected = 0.0 if fid in on_hub else None
        assert hf.value("select speech_s from speech_activity where file_id = ?", [fid]) == expected


def test_null_word_times_and_json_shapes(hf, release):
    q = _quirks(release)["quirks"]
    fid = q["null_word_times"][0]
    n_null = sum(
        1
        for s in _tree_docs(release)[fid]["metadata:transcript"]
        for w in s["words"]
        if w["start"] is None
    )
    assert (
        hf.value(
            "select count(*) from raw.transcript_words where file_id = ? and start_s "
            "is null and score is null",
            [fid],
        )
        == n_null
        > 0
    )
    assert (
        hf.value("select indent from raw.documents where file_id = ?", [q["json_indent_2"][0]]) == 2
    )
    assert (
        hf.value("select indent from raw.documents where file_id = ?", [q["json_indent_4"][0]]) == 4
    )
    assert (
        hf.value(
            "select len(extra_keys) from raw.documents where file_id = ?", [q["extra_json_key"][0]]
        )
        >= 1
    )


def test_missing_archives_leave_metadata_unknown(hf, release):
    missing = _quirks(release)["quirks"]["missing_on_hub"]
    rows = hf.sql(
        "select f.metadata_read, f.duration_s, s.speech_s from files f "
        "join speech_activity s using (file_id) where file_id in "
        "(select unnest(?))",
        [missing],
    ).fetchall()
    assert rows and all(r == (False, None, None) for r in rows)


def test_stray_sample_is_unlisted_and_not_counted_twice(hf, release):
    stray = _quirks(release)["strays"][0]
    got = hf.sql("select file_id, archive_path from unlisted_samples").fetchall()
    assert (stray["file_id"], stray["archive_path"]) in got
    assert (
        hf.value(
            "select count(distinct source_unit) from raw.vad_segments where file_id = ?",
            [stray["file_id"]],
        )
        <= 1
    )


TABLES = ("documents", "transcript_segments", "transcript_words", "vad_segments", "annotations")


@pytest.mark.slow  # ingests the whole release again, as a tree
@pytest.mark.parametrize("table", TABLES)
def test_tree_and_tar_give_the_same_rows(hf, tree, table):
    cols = "* exclude (source_unit, origin)" if table == "documents" else "* exclude (source_unit)"
    a = hf.sql(f"select {cols} from raw.{table} order by all").fetchall()
    b = tree.sql(
        f"select {cols} from raw.{table} where file_id in "
        "(select file_id from raw.documents) order by all"
    ).fetchall()
    on_hub = {r[0] for r in hf.sql("select distinct file_id from raw.members").fetchall()}
    b = [r for r in b if r[0] in on_hub]
    if table == "documents":
        a = [r for r in a if r[0] in on_hub]
    assert a == b


@pytest.mark.slow  # ingests the whole release again, as a tree and per file
@pytest.mark.parametrize("table", TABLES[1:])
def test_per_file_layout_gives_the_same_rows(tree, cdn, table):
    a = tree.sql(f"select * exclude (source_unit) from raw.{table} order by all").fetchall()
    b = cdn.sql(f"select * exclude (source_unit) from raw.{table} order by all").fetchall()
    assert a == b


@pytest.mark.slow  # as above
def test_per_file_layout_probes_media(tree, cdn):
    a = tree.sql("select file_id, duration_s from files order by file_id").fetchall()
    b = cdn.sql("select file_id, duration_s from files order by file_id").fetchall()
    assert a == b


def test_archive_gaps_are_taken_from_the_filelist(hf, release):
    gap = _quirks(release)["archive_gaps"][0]
    label, split, batch = gap["batch"].split("/")
    got = {
        r[0]
        for r in hf.sql(
            "select distinct archive_idx from files "
            "where label = ? and split = ? and batch_idx = ?",
            [label, split, int(batch)],
        ).fetchall()
    }
    assert not got & set(gap["missing"]) and max(got) > min(gap["missing"])
    indexed = {r[0] for r in hf.sql("select distinct archive_path from raw.members").fetchall()}
    listed = {r[0] for r in hf.sql("select distinct archive_path from files").fetchall()}
    missing = set(_quirks(release)["missing_hub_archives"])
    assert listed - missing <= indexed


def test_float_noise_and_integer_times_kept_exactly(hf, release):
    q = _quirks(release)["quirks"]
    docs = _tree_docs(release)
    for fid in (q["vad_float_noise"][0], q["vad_int_times"][0]):
        expected = [(float(v["start"]), float(v["end"])) for v in docs[fid]["metadata:vad"]]
        got = hf.sql(
            "select start_s, end_s from raw.vad_segments where file_id = ? order by segment_idx",
            [fid],
        ).fetchall()
        assert got == expected


def test_synthetic_prompts_with_newlines_round_trip(hf, release):
    with open(release / "assets" / "interactions.csv", newline="") as f:
        rows = {r["prompt_hash"]: r for r in csv.DictReader(f)}
    for h in _quirks(release)["quirks"]["prompt_with_crlf"]:
        text = hf.value(
            "select participant_a_prompt_text || coalesce(participant_b_prompt_text, "
            "'') from prompts where prompt_hash = ?",
            [h],
        )
        r = rows[h]
        assert text == r["participant_a_prompt_text"] + r["participant_b_prompt_text"]
        assert "\r\n" in text


def test_generated_release_documents_match_the_reference(release):
    """The Arrow batch parse of every merged document of the release (the fast path of an
    ingest) gives the rows and issues of the reference parse, one document at a time."""
    docs = {p.stem: p.read_bytes() for p in sorted((release / "tree").rglob("*.json"))}
    batched, alone = parse_both_ways(
        [(fid, data, fid, "naturalistic", "train", fid) for fid, data in docs.items()]
    )
    assert batched == alone
