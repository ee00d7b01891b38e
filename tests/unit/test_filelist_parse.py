"""The filelist.csv parser against a row sink: rows by header (8 columns, or 5 in any order),
each bad row an issue at its file and line, the rest kept. The same cases ingested end to end,
through the catalog's views, are ``tests/integration/test_filelist.py``."""

from __future__ import annotations

import pytest

from seamless_catalog.errors import SourceFormatError
from seamless_catalog.ingestion import filelist
from seamless_catalog.ingestion.sink import RowSink

GOOD = [
    "V00_S0809_I00000582_P0947,improvised,dev,0,3,1,0,1",
    "V00_S0809_I00000582_P0299A,improvised,dev,0,5,1,0,1",
    "V03_S1805_I00000007_P0947,naturalistic,train,12,0,0,1,0",
]
HEADER8 = (
    "file_id,label,split,batch_idx,archive_idx,has_imitator_movement,has_annotation_1p,"
    "has_annotation_3p"
)
# a bad row, put on line 3 between good ones, and what its issue must say
BAD_ROWS = [
    ("V00_S0809_I582_P0947,improvised,dev,0,3,1,0,1", "does not parse"),
    ("V00_S0809_I00000582_P0948,improvised,valid,0,3,1,0,1", "split"),
    ("V00_S0809_I00000582_P0949,acted,dev,0,3,1,0,1", "label"),
    ("V00_S0809_I00000582_P0950,improvised,dev,-1,3,1,0,1", "batch_idx"),
    ("V00_S0809_I00000582_P0951,improvised,dev,0,x,1,0,1", "archive_idx"),
    ("V00_S0809_I00000582_P0952,improvised,dev,0,3,2,0,1", "has_imitator_movement"),
    ("V00_S0809_I00000582_P0953,improvised,dev,0,3,1,0", "expected 8 fields"),
    ("V00_S0809_I00000582_P0947,improvised,test,0,3,1,0,1", "duplicate file_id"),
]

# The second data row's file_id holds a newline inside quotes: one record over lines 3-4.
QUOTED_NEWLINE = (
    "\n".join(
        [
            HEADER8,
            '"V00_S0809_I00000582_P0947",improvised,dev,0,3,1,0,1',
            '"bad\nid",improvised,dev,0,3,1,0,1',
            GOOD[2],
        ]
    )
    + "\n"
)


def _parse(text: str) -> tuple[list[dict], list[dict]]:
    """The ``files`` rows (by file_id) and the ``ingest_issues`` rows the parser adds."""
    sink = RowSink("run", source="filelist")
    filelist.parse(text.encode(), "in/filelist.csv", sink)
    tables = sink.tables()
    files = tables["files"].to_pylist() if "files" in tables else []
    issues = tables["ingest_issues"].to_pylist() if "ingest_issues" in tables else []
    return sorted(files, key=lambda r: r["file_id"]), issues


def test_eight_columns():
    files, issues = _parse("\n".join([HEADER8, *GOOD]) + "\n")
    assert issues == []
    assert [r["file_id"] for r in files] == [
        "V00_S0809_I00000582_P0299A",
        "V00_S0809_I00000582_P0947",
        "V03_S1805_I00000007_P0947",
    ]
    row = files[0]
    assert {k: row[k] for k in ("participant", "session_key", "interaction_key")} == {
        "participant": "0299A",
        "session_key": "V00_S0809",
        "interaction_key": "V00_S0809_I00000582",
    }
    assert (row["label"], row["split"], row["batch_idx"], row["archive_idx"]) == (
        "improvised",
        "dev",
        0,
        5,
    )
    assert row["archive_path"] == "improvised/dev/0000/0005.tar"
    assert (row["has_imitator_movement"], row["has_annotation_1p"], row["has_annotation_3p"]) == (
        True,
        False,
        True,
    )
    assert [r["filelist_line"] for r in files] == [3, 2, 4]
    assert files[2]["archive_path"] == "naturalistic/train/0012/0000.tar"


def test_five_columns_in_another_order_have_null_flags():
    files, issues = _parse("split,file_id,archive_idx,label,batch_idx\n"
                           "dev,V00_S0809_I00000582_P0947,3,improvised,0\n")  # fmt: skip
    assert issues == []
    [row] = files
    assert (row["label"], row["split"], row["batch_idx"], row["archive_idx"]) == (
        "improvised",
        "dev",
        0,
        3,
    )
    assert [row[f] for f in filelist.FLAGS] == [None, None, None]


@pytest.mark.parametrize("bad, reason", BAD_ROWS)
def test_a_bad_row_is_an_issue_at_its_line_and_the_rest_is_kept(bad, reason):
    files, issues = _parse("\n".join([HEADER8, GOOD[0], bad, *GOOD[1:]]) + "\n")
    [issue] = issues
    assert issue["location"] == "in/filelist.csv:3" and reason in issue["reason"]
    assert (issue["severity"], issue["run_id"], issue["source"]) == ("error", "run", "filelist")
    assert sorted(r["file_id"] for r in files) == sorted(g.split(",")[0] for g in GOOD)
    kept = next(r for r in files if r["file_id"] == "V00_S0809_I00000582_P0947")
    assert (kept["split"], kept["filelist_line"]) == ("dev", 2)  # a duplicate keeps the first


def test_a_quoted_field_with_a_newline_keeps_line_numbers():
    files, issues = _parse(QUOTED_NEWLINE)
    assert [i["location"] for i in issues] == ["in/filelist.csv:3"]
    assert [(r["file_id"], r["filelist_line"]) for r in files] == [
        ("V00_S0809_I00000582_P0947", 2),
        ("V03_S1805_I00000007_P0947", 5),
    ]


def test_a_missing_required_column_refuses_the_whole_file():
    with pytest.raises(SourceFormatError, match="filelist header lacks batch_idx, archive_idx"):
        _parse("file_id,label,split\nV00_S0809_I00000582_P0947,x,y\n")


def test_bom_crlf_and_blank_lines():
    files, issues = _parse("\ufeff" + "\r\n".join([HEADER8, GOOD[0], "", *GOOD[1:]]) + "\r\n")
    assert issues == []
    assert [r["filelist_line"] for r in files] == [4, 2, 5]
