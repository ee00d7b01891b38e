"""The real asset CSVs ingest with zero issues, keys as text, BFI-2 as DOUBLE or NULL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def cat(real, tmp_path_factory) -> Catalog:
    root = tmp_path_factory.mktemp("assets")
    filelist = root / "filelist.csv"
    filelist.write_text("file_id,label,split,batch_idx,archive_idx\n")
    result = ingest(root / "cat", filelist=str(filelist), assets=str(real / "assets"))
    assert result.n_errors == 0 and result.n_warnings == 0, result.issues
    c = Catalog.open(root / "cat")
    yield c
    c.close()


def test_row_counts_match_the_csvs(cat, real):
    for table, name in [
        ("prompts", "interactions"),
        ("participants", "participants"),
        ("relationships", "relationships"),
    ]:
        n = cat.value(f"select count(*) from raw.{table}")
        assert n == len(_rows(real / "assets" / f"{name}.csv"))


def test_no_issues_recorded(cat):
    assert cat.value("select count(*) from raw.ingest_issues") == 0


def test_prompt_hash_stays_text_and_texts_keep_newlines(cat, real):
    rows = _rows(real / "assets" / "interactions.csv")
    got = dict(cat.sql("select prompt_hash, participant_a_prompt_text from prompts").fetchall())
    assert set(got) == {r["prompt_hash"] for r in rows}
    assert all(len(h) == 8 for h in got)
    with_newline = [r for r in rows if "\n" in r["participant_a_prompt_text"]]
    assert with_newline, "the real file has prompts with embedded newlines"
    for r in with_newline:
        assert got[r["prompt_hash"]] == r["participant_a_prompt_text"]
    empty_b = sum(1 for r in rows if r["ipc_b"] == "")
    assert cat.value("select count(*) from prompts where ipc_b is null") == empty_b


def test_undisclosed_is_null_with_a_flag(cat, real):
    rows = _rows(real / "assets" / "participants.csv")
    traits = [k for k in rows[0] if k.endswith("_raw")]
    undisclosed = sum(1 for r in rows if all(r[t] == "Undisclosed" for t in traits))
    got = cat.sql(
        "select count(*) filter (not bfi2_disclosed), "
        "count(*) filter (not bfi2_disclosed and extraversion is null) "
        "from raw.participants"
    ).fetchall()[0]
    assert got == (undisclosed, undisclosed)
    r = next(r for r in rows if r["extraversion_raw"] != "Undisclosed")
    value = cat.value(
        "select extraversion from raw.participants where vendor = ? and participant = ?",
        params=["V" + r["vendor_id"], r["participant_id"]],
    )
    assert value == float(r["extraversion_raw"])


def test_participants_keyed_by_vendor_and_keep_letter_suffix(cat, real):
    rows = _rows(real / "assets" / "participants.csv")
    suffixed = {
        ("V" + r["vendor_id"], r["participant_id"])
        for r in rows
        if r["participant_id"][-1].isalpha()
    }
    got = set(
        cat.sql(
            "select vendor, participant from raw.participants "
            "where regexp_matches(participant, '[A-Z]$')"
        ).fetchall()
    )
    assert got == suffixed and len(got) > 100
    assert cat.value("select count(distinct participant) < count(*) from raw.participants"), (
        "bare ids recur under several vendors"
    )


def test_relationship_keys(cat, real):
    rows = _rows(real / "assets" / "relationships.csv")
    expected = {f"{r['vendor_id']}_S{r['session_id']}": r["relationship_detail"] for r in rows}
    got = dict(cat.sql("select session_key, relationship_detail from raw.relationships").fetchall())
    assert got == expected
