"""filelist.csv ingested end to end: parsed by header, 8 or 5 columns; bad rows quarantined with
file and line, in ``raw.ingest_issues``; the views see the rest. The parser alone, on the same
cases, is ``tests/unit/test_filelist_parse.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from tests.unit.test_filelist_parse import BAD_ROWS, GOOD, HEADER8, QUOTED_NEWLINE

pytestmark = pytest.mark.slow  # a full ingest per case (13); the parser's own run in unit/


def _assets(tmp: Path) -> Path:
    d = tmp / "assets"
    d.mkdir()
    (d / "interactions.csv").write_text(
        ",prompt_hash,prompt_id_unique,participant_a_prompt_text,participant_b_prompt_text,"
        "ipc_a,ipc_b,interaction_type\n"
    )
    (d / "participants.csv").write_text(
        "extraversion_raw,agreeableness_raw,conscientiousness_raw,neuroticism_raw,openness_raw,"
        "vendor_id,participant_id\n"
    )
    (d / "relationships.csv").write_text("vendor_id,session_id,relationship,relationship_detail\n")
    return d


def _ingest(tmp: Path, text: str):
    fl = tmp / "filelist.csv"
    fl.write_text(text)
    result = ingest(tmp / "cat", filelist=str(fl), assets=str(_assets(tmp)))
    return result, Catalog.open(tmp / "cat")


def test_eight_columns(tmp_path):
    result, cat = _ingest(tmp_path, "\n".join([HEADER8, *GOOD]) + "\n")
    assert result.ok
    rows = cat.sql(
        "select file_id, participant, session_key, interaction_key, batch_idx, "
        "archive_idx, archive_path, has_imitator_movement, has_annotation_1p "
        "from files order by file_id"
    ).fetchall()
    assert rows[0] == (
        "V00_S0809_I00000582_P0299A",
        "0299A",
        "V00_S0809",
        "V00_S0809_I00000582",
        0,
        5,
        "improvised/dev/0000/0005.tar",
        True,
        False,
    )
    assert len(rows) == 3


def test_five_columns_in_another_order_have_null_flags(tmp_path):
    header = "split,file_id,archive_idx,label,batch_idx"
    body = ["dev,V00_S0809_I00000582_P0947,3,improvised,0"]
    result, cat = _ingest(tmp_path, "\n".join([header, *body]) + "\n")
    assert result.ok
    row = cat.sql(
        "select label, split, batch_idx, archive_idx, has_imitator_movement, "
        "has_annotation_3p from files"
    ).fetchall()
    assert row == [("improvised", "dev", 0, 3, None, None)]


@pytest.mark.parametrize("bad, reason", BAD_ROWS)
def test_bad_rows_are_quarantined_with_line_and_the_rest_kept(tmp_path, bad, reason):
    text = "\n".join([HEADER8, GOOD[0], bad, *GOOD[1:]]) + "\n"
    result, cat = _ingest(tmp_path, text)
    assert not result.ok and result.n_errors == 1
    location, why = cat.sql("select location, reason from raw.ingest_issues").fetchall()[0]
    assert location.endswith("filelist.csv:3") and reason in why
    assert cat.value("select count(*) from files") == 3


def test_quoted_field_with_newline_keeps_line_numbers(tmp_path):
    result, cat = _ingest(tmp_path, QUOTED_NEWLINE)
    assert result.n_errors == 1
    assert cat.value("select location from raw.ingest_issues").endswith(":3")
    assert cat.value("select filelist_line from raw.files where file_id like 'V03%'") == 5


def test_missing_required_column_is_a_clear_error(tmp_path):
    result, cat = _ingest(tmp_path, "file_id,label,split\nV00_S0809_I00000582_P0947,x,y\n")
    assert result.n_errors == 1
    assert "lacks batch_idx, archive_idx" in cat.value("select reason from raw.ingest_issues")


def test_bom_and_crlf(tmp_path):
    text = "\ufeff" + "\r\n".join([HEADER8, *GOOD]) + "\r\n"
    result, cat = _ingest(tmp_path, text)
    assert result.ok
    assert cat.value("select count(*) from files") == 3
