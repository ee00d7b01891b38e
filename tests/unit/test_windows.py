"""select/windows.py: SQL or a selection file with start_s/end_s -> windows, every row that
gives none reported with its reason; padding clipped to the recording; shards by interaction."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.errors import UsageError
from seamless_catalog.layout import FileRef
from seamless_catalog.select.windows import (
    InvalidWindow,
    Window,
    WindowSelection,
    has_windows,
    select_windows,
)


@pytest.fixture(scope="module")
def cat(hf_catalog):
    with Catalog.open(hf_catalog) as c:
        yield c


@pytest.fixture(scope="module")
def pair(cat):
    """A pair whose two sides have known, different durations, and the shorter side."""
    key, a, b = cat.sql(
        "select interaction_key, file_id_a, file_id_b from pairs "
        "where duration_a_s > 20 and duration_b_s > 20 and abs(duration_a_s - duration_b_s) > 2 "
        "order by interaction_key limit 1"
    ).fetchall()[0]
    durations = dict(
        cat.sql(f"select file_id, duration_s from files where file_id in ('{a}', '{b}')").fetchall()
    )
    return key, a, b, durations


def one(selection: WindowSelection) -> Window:
    assert not selection.invalid, selection.invalid
    (w,) = selection.windows
    return w


def test_has_windows():
    assert has_windows(["file_id", "start_s", "end_s"])
    assert has_windows(["Interaction_Key", "START_S", "end_s", "kind"])
    assert not has_windows(["file_id", "start_s"])
    assert not has_windows(["session_key", "start_s", "end_s"])
    assert not has_windows(["file_id"])


def test_a_file_window_names_its_clip(cat, pair):
    _, a, _, _ = pair
    w = one(select_windows(cat, sql=f"select '{a}' as file_id, 1.5 as start_s, 4.25 as end_s"))
    assert (w.file_id, w.start_s, w.end_s, w.kind) == (a, 1.5, 4.25, None)
    assert (w.start_ms, w.end_ms) == (1500, 4250)
    assert w.stem == f"{a}_t0001500-0004250"
    assert w.path("wav") == f"{w.ref.folder}/{a}_t0001500-0004250.wav"
    assert w.ref.folder.count("/") == 3 and not w.clipped and w.row == 1
    (folder,) = cat.sql(f"select archive_path from files where file_id = '{a}'").fetchall()[0]
    assert folder == w.ref.folder + ".tar"


def test_an_interaction_window_gives_both_sides_over_the_same_span(cat, pair):
    key, a, b, _ = pair
    sel = select_windows(
        cat, sql=f"select '{key}' as interaction_key, 10 as start_s, 12 as end_s, 'moi' as kind"
    )
    assert not sel.invalid
    assert [(w.file_id, w.start_s, w.end_s, w.kind) for w in sel.windows] == [
        (a, 10.0, 12.0, "moi"),
        (b, 10.0, 12.0, "moi"),
    ]
    assert [r.file_id for r in sel.refs] == [a, b]


def test_a_null_file_id_falls_back_to_the_interaction(cat, pair):
    key, a, b, _ = pair
    sql = (
        f"select * from (values ('{a}', '{key}', 1.0, 2.0), (null, '{key}', 5.0, 6.0)) "
        "t(file_id, interaction_key, start_s, end_s)"
    )
    sel = select_windows(cat, sql=sql)
    assert [(w.file_id, w.start_ms) for w in sel.windows] == [(a, 1000), (a, 5000), (b, 5000)]
    assert [w.row for w in sel.windows] == [1, 2, 2]


def test_padding_widens_and_is_clipped_to_the_recording(cat, pair):
    key, a, b, durations = pair
    w = one(select_windows(cat, sql=f"select '{a}' file_id, 3 start_s, 5 end_s", pad=0.5))
    assert (w.start_s, w.end_s, w.clipped) == (2.5, 5.5, False)
    assert (w.requested_start_s, w.requested_end_s) == (2.5, 5.5)
    w = one(select_windows(cat, sql=f"select '{a}' file_id, 3 start_s, 5 end_s", before=1, after=2))
    assert (w.start_s, w.end_s) == (2.0, 7.0)
    w = one(select_windows(cat, sql=f"select '{a}' file_id, 0.5 start_s, 2 end_s", pad=1.5))
    assert (w.start_s, w.end_s) == (0.0, 3.5) and w.clipped
    assert w.record["requested_start_s"] == -1.0 and w.record["clipped"] is True
    end = durations[a]
    w = one(select_windows(cat, sql=f"select '{a}' file_id, {end - 1} start_s, {end} end_s", pad=2))
    assert w.end_s == end and w.start_s == pytest.approx(end - 3) and w.clipped
    assert w.requested_end_s == pytest.approx(end + 2) and w.record["recording_duration_s"] == end
    # a pair window past the end of the shorter side: each side clipped to its own recording
    short, long_ = sorted((a, b), key=durations.get)
    t = durations[short]
    sel = select_windows(cat, sql=f"select '{key}' interaction_key, {t - 1} start_s, {t + 1} end_s")
    got = {w.file_id: w for w in sel.windows}
    assert got[short].end_s == t and got[short].clipped
    assert got[long_].end_s == pytest.approx(t + 1) and not got[long_].clipped


def test_negative_padding_is_refused(cat, pair):
    with pytest.raises(UsageError, match="0 or more"):
        select_windows(cat, sql=f"select '{pair[1]}' file_id, 1 start_s, 2 end_s", pad=-1)


def test_invalid_rows_are_reported_one_by_one(cat, pair):
    key, a, b, durations = pair
    (no_duration,) = cat.sql(
        "select file_id from files where duration_s is null order by file_id limit 1"
    ).fetchall()[0]
    end = durations[a]
    rows = [
        (a, None, 1.0, 2.0),  # 1 valid
        (a, None, 3.0, 3.0),  # 2 end <= start
        (a, None, 5.0, 4.0),  # 3 end < start
        (a, None, end + 1, end + 5),  # 4 after the end
        (a, None, -5.0, 0.0),  # 5 before the start
        (no_duration, None, 1.0, 2.0),  # 6 duration unknown
        ("V00_S9999_I00009999_P9999", None, 1.0, 2.0),  # 7 unknown file
        ("not-an-id", None, 1.0, 2.0),  # 8 not a file_id
        (None, "V00_S9999_I00009999", 1.0, 2.0),  # 9 unknown interaction
        (None, None, 1.0, 2.0),  # 10 no key
        (a, None, None, 2.0),  # 11 null start
        (a, None, 1.0, 2.0),  # 12 duplicate of row 1
        (None, key, 1.0, 2.0),  # 13 a's side duplicates row 1, b's side is new
        (a, None, 1.0, 1.0004),  # 14 rounds to an empty window
    ]
    values = ", ".join(
        "(" + ", ".join("null" if v is None else repr(v) for v in r) + ")" for r in rows
    )
    sql = f"select * from (values {values}) t(file_id, interaction_key, start_s, end_s)"
    sel = select_windows(cat, sql=sql)
    assert [(w.file_id, w.row) for w in sel.windows] == [(a, 1), (b, 13)]
    reasons = {w.row: w for w in sel.invalid}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert all(isinstance(w, InvalidWindow) for w in sel.invalid)
    assert "end_s 3.0 <= start_s 3.0" in reasons[2].reason
    assert "<=" in reasons[3].reason and (reasons[3].start_s, reasons[3].end_s) == (5.0, 4.0)
    assert "outside the recording" in reasons[4].reason and f"{end:g}" in reasons[4].reason
    assert "outside the recording" in reasons[5].reason
    assert "duration unknown" in reasons[6].reason and reasons[6].key == no_duration
    assert "unknown file_id" in reasons[7].reason
    assert "not a valid file_id" in reasons[8].reason
    assert "unknown interaction_key" in reasons[9].reason
    assert "no file_id or interaction_key" in reasons[10].reason
    assert "start_s is null" in reasons[11].reason and reasons[11].start_s is None
    assert "same window as row 1" in reasons[12].reason
    assert reasons[13].key == f"{a} (of {key})" and "row 1" in reasons[13].reason
    assert "shorter than 1 ms" in reasons[14].reason


def test_selection_files_csv_and_parquet(cat, pair, tmp_path):
    key, a, b, _ = pair
    path = tmp_path / "w.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file_id", "start_s", "end_s", "kind"])
        w.writerows([[a, "1.25", "2", "x"], [a, "abc", "2", "x"], [b, "0", "", "y"]])
    sel = select_windows(cat, selection=path)
    assert [(w.file_id, w.start_ms, w.end_ms, w.kind) for w in sel.windows] == [
        (a, 1250, 2000, "x")
    ]
    reasons = {w.row: w.reason for w in sel.invalid}
    assert reasons == {2: "start_s 'abc' is not a number", 3: "end_s is null"}
    pq.write_table(
        pa.table({"interaction_key": [key], "start_s": [3], "end_s": [4]}), tmp_path / "w.parquet"
    )
    sel = select_windows(cat, selection=tmp_path / "w.parquet")
    assert [w.file_id for w in sel.windows] == [a, b]
    (tmp_path / "ids.txt").write_text(a + "\n")
    with pytest.raises(UsageError, match="CSV or Parquet"):
        select_windows(cat, selection=tmp_path / "ids.txt")


def test_a_result_without_times_is_not_a_window_selection(cat, pair):
    with pytest.raises(UsageError, match="start_s and end_s"):
        select_windows(cat, sql=f"select '{pair[1]}' as file_id")
    with pytest.raises(UsageError, match="exactly one"):
        select_windows(cat)


def test_shards_keep_both_sides_together_and_cover_everything(cat):
    sql = (
        "select interaction_key, 1.0 as start_s, 2.0 as end_s from interactions "
        "union all select 'V00_S9999_I00009999', 1, 2 "
        "union all select null, 1, 2"
    )
    whole = select_windows(cat, sql=sql)
    parts = [select_windows(cat, sql=sql, shard=(k, 3)) for k in (1, 2, 3)]
    assert sorted(w.stem for p in parts for w in p.windows) == sorted(w.stem for w in whole.windows)
    assert sorted(w.row for p in parts for w in p.invalid) == sorted(w.row for w in whole.invalid)
    for p in parts:
        keys = {w.interaction_key for w in p.windows}
        for other in parts:
            if other is not p:
                assert keys.isdisjoint(w.interaction_key for w in other.windows)
    assert len({len(p.windows) for p in parts}) > 1 or len(whole.windows) < 3


def test_window_checks_itself():
    ref = FileRef("V00_S0001_I00000001_P0001", "improvised", "dev", 0, 0)
    assert Window(ref, 0, 0.001).stem == "V00_S0001_I00000001_P0001_t0000000-0000001"
    with pytest.raises(UsageError):
        Window(ref, 2.0, 2.0)
    with pytest.raises(UsageError):
        Window(ref, -1.0, 2.0)


def test_stream_order_keeps_the_sides_of_a_window_together_on_one_rank():
    """access.stream.order_windows: with pairs_together a unit is one window asked for on an
    interaction, whatever each side's recording clipped it to; ranks split by unit."""
    from seamless_catalog.access.stream import order_windows

    def side(key: str, p: str, start: float, end: float, asked_end: float) -> Window:
        ref = FileRef(f"{key}_P{p}", "improvised", "dev", 0, 0)
        return Window(ref, start, end, None, start, asked_end)

    windows = []
    for i in range(7):
        key = f"V00_S0001_I{i:08d}"
        windows += [side(key, "0001", 1.0, 3.0, 3.0), side(key, "0002", 1.0, 2.5, 3.0)]  # clipped
        windows += [side(key, "0001", 5.0, 6.0, 6.0)]  # one side only
    parts = [order_windows(windows, shuffle=True, seed=4, rank=r, world_size=3,
                           pairs_together=True) for r in range(3)]  # fmt: skip
    stems = [w.stem for p in parts for w in p]
    assert sorted(stems) == sorted(w.stem for w in windows) and len(set(stems)) == len(stems)
    for part in parts:
        asked = [(w.interaction_key, w.requested_start_s, w.requested_end_s) for w in part]
        runs = [a for i, a in enumerate(asked) if i == 0 or asked[i - 1] != a]
        assert len(runs) == len(set(runs))  # each window's sides next to each other
        assert all(asked.count(a) == (2 if a[1] == 1.0 else 1) for a in runs)
    alone = order_windows(windows, shuffle=True, seed=4)
    assert [w.stem for w in alone] != sorted(w.stem for w in alone)  # shuffled per window
    assert sorted(w.stem for w in alone) == sorted(stems)
