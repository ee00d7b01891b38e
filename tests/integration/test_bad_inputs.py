"""Bad inputs: each bad record is quarantined with its file and line (or tar member), every
valid record is kept, and the counts reconcile.

Text cases live in ``tests/corpus/<case>/`` (an ``input/`` release fragment and an
``expect.json``): add a folder to add a case. Tar cases are built here, since their
member names cannot be files in a repository.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from tests.paths import CORPUS

pytestmark = pytest.mark.slow  # one full ingest per bad input (31)

FID = "V00_S0001_I00000001_P0001"
FILELIST = (
    "file_id,label,split,batch_idx,archive_idx,has_imitator_movement,has_annotation_1p,"
    f"has_annotation_3p\n{FID},improvised,dev,0,0,0,0,1\n"
)
ASSETS = {
    "interactions.csv": ",prompt_hash,prompt_id_unique,participant_a_prompt_text,"
    "participant_b_prompt_text,ipc_a,ipc_b,interaction_type\n",
    "participants.csv": "extraversion_raw,agreeableness_raw,conscientiousness_raw,"
    "neuroticism_raw,openness_raw,vendor_id,participant_id\n",
    "relationships.csv": "vendor_id,session_id,relationship,relationship_detail\n",
}


def _ingest(tmp: Path, source: Path):
    (tmp / "filelist.csv").write_text(FILELIST)
    assets = tmp / "assets"
    assets.mkdir()
    for name, text in ASSETS.items():
        (assets / name).write_text(text)
    result = ingest(
        tmp / "cat", [str(source)], filelist=str(tmp / "filelist.csv"), assets=str(assets)
    )
    return result, Catalog.open(tmp / "cat")


def _issues(cat: Catalog, severity: str) -> list[tuple[str, str]]:
    return cat.sql(
        "select location, reason from raw.ingest_issues where severity = ?", [severity]
    ).fetchall()


def _assert_listed(expected: list[list[str]], got: list[tuple[str, str]]) -> None:
    assert len(got) == len(expected), got
    for where, why in expected:
        assert any(where in loc and why in reason for loc, reason in got), (where, why, got)


@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.iterdir() if p.is_dir()))
def test_corpus_case(case, tmp_path):
    src = CORPUS / case
    expect = json.loads((src / "expect.json").read_text())
    shutil.copytree(src / "input", tmp_path / "input")
    result, cat = _ingest(tmp_path, tmp_path / "input")
    _assert_listed(expect["issues"], _issues(cat, "error"))
    _assert_listed(expect.get("warnings", []), _issues(cat, "warning"))
    assert result.n_errors == len(expect["issues"])
    table = expect["table"]
    assert cat.value(f"select count(*) from raw.{table}") == expect["rows"]
    if "speech_s" in expect:
        assert (
            cat.value("select speech_s from speech_activity where file_id = ?", [FID])
            == expect["speech_s"]
        )
    jsonl = [
        p
        for p in (tmp_path / "input").rglob("*")
        if p.is_file() and ("metadata" in p.parts or "annotations" in p.parts)
    ]
    if table in ("vad_segments", "annotations") and jsonl:
        seen = sum(1 for p in jsonl for line in p.read_bytes().split(b"\n") if line.strip())
        assert expect["rows"] + len(expect["issues"]) == seen, "ingested + quarantined = seen"


# -- tars --------------------------------------------------------------------------------
def _member(tf: tarfile.TarFile, name: str, data: bytes = b"", **kw) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    tf.addfile(info, io.BytesIO(data) if data else None)


def _sample_json() -> bytes:
    return json.dumps(
        {"id": FID, "metadata:transcript": [], "metadata:vad": [{"start": 1.0, "end": 2.0}]}
    ).encode()


def _tar(path: Path, extra) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        extra(tf)
        _member(tf, f"{FID}.json", _sample_json())
    return path


TAR_CASES = {
    "dotdot_name": (lambda tf: _member(tf, "../evil.json", b"{}"), "'..' component"),
    "absolute_name": (lambda tf: _member(tf, "/etc/evil.json", b"{}"), "absolute path"),
    "newline_in_name": (lambda tf: _member(tf, "a\nb.json", b"{}"), "control character"),
    "symlink": (
        lambda tf: _member(tf, "link.json", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
        "symlink",
    ),
    "hardlink": (
        lambda tf: _member(tf, "hard.json", type=tarfile.LNKTYPE, linkname="x.json"),
        "hardlink",
    ),
    "device": (lambda tf: _member(tf, "dev.json", type=tarfile.CHRTYPE), "device"),
    "not_a_sample_name": (lambda tf: _member(tf, "readme.txt", b"hello"), "not named"),
    "bad_id_in_name": (lambda tf: _member(tf, "V00_S1_I1_P1.json", b"{}"), "not named"),
}


@pytest.mark.parametrize("case", sorted(TAR_CASES))
def test_tar_member_is_quarantined_and_the_rest_kept(case, tmp_path):
    build, reason = TAR_CASES[case]
    _tar(tmp_path / "hf" / "improvised" / "dev" / "0000" / "0000.tar", build)
    result, cat = _ingest(tmp_path, tmp_path / "hf")
    issues = _issues(cat, "error")
    assert any(reason in r and "improvised/dev/0000/0000.tar" in loc for loc, r in issues), issues
    assert cat.value("select count(*) from raw.members") == 1
    assert cat.value("select count(*) from raw.vad_segments where file_id = ?", [FID]) == 1
    assert not list(tmp_path.rglob("evil.json")), "nothing is ever extracted"


def test_truncated_member_is_reported(tmp_path):
    tar = _tar(
        tmp_path / "hf" / "improvised" / "dev" / "0000" / "0000.tar",
        lambda tf: _member(tf, f"{FID}.wav", b"RIFF" + b"\0" * 3000),
    )
    data = tar.read_bytes()
    tar.write_bytes(data[: 512 + 1024])  # header + part of the wav member
    result, cat = _ingest(tmp_path, tmp_path / "hf")
    assert any("past" in r or "truncated" in r or "ends" in r for _, r in _issues(cat, "error"))
    assert not result.ok


def test_gzip_named_tar_says_decompress_first(tmp_path):
    tar = _tar(tmp_path / "src.tar", lambda tf: None)
    dest = tmp_path / "hf" / "improvised" / "dev" / "0000" / "0000.tar"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(gzip.compress(tar.read_bytes()))
    result, cat = _ingest(tmp_path, tmp_path / "hf")
    assert any("gzip" in r and "decompress" in r for _, r in _issues(cat, "error"))


def test_zero_byte_tar_is_a_clear_issue(tmp_path):
    dest = tmp_path / "hf" / "improvised" / "dev" / "0000" / "0000.tar"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"")
    result, cat = _ingest(tmp_path, tmp_path / "hf")
    assert not result.ok
    assert any("empty file" in r for _, r in _issues(cat, "error"))
