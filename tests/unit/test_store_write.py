"""SnapshotWriter.write_table: one sorted Parquet file per partition, whatever the values."""

from __future__ import annotations

import duckdb

from seamless_catalog.store import snapshots

ROWS = [("b", "improvised", "train"), ("a", "improvised", "train"), ("c", "odd label", "dev")]
SQL = (
    "SELECT file_id, 0 AS segment_idx, 1.0 AS start_s, 2.0 AS end_s, label, split, "
    "'u' AS source_unit FROM src"
)


def test_one_sorted_file_per_partition_and_odd_values_and_no_rows(tmp_path):
    con = duckdb.connect()
    values = ", ".join(f"('{f}', '{lab}', '{sp}')" for f, lab, sp in ROWS)
    con.execute(f"CREATE TABLE src AS SELECT * FROM (VALUES {values}) v(file_id, label, split)")
    writer = snapshots.SnapshotWriter(tmp_path, con)
    assert writer.write_table("vad_segments", f"{SQL} WHERE label <> 'odd label'") == 2
    [path] = writer.tables["vad_segments"]
    assert path.endswith("label=improvised/split=train/data_0.parquet")
    got = con.execute(f"SELECT file_id FROM read_parquet('{tmp_path / path}')").fetchall()
    assert got == [("a",), ("b",)]
    # a value that is not a plain name: DuckDB's own partitioned COPY names the folders
    assert writer.write_table("vad_segments", SQL) == 3
    assert len(writer.tables["vad_segments"]) == 2
    assert writer.write_table("vad_segments", f"{SQL} WHERE false") == 0
    assert writer.tables["vad_segments"] == []


def test_a_large_partition_is_written_as_sorted_ranges_that_keep_every_row(tmp_path, monkeypatch):
    """Ranges of the first sort column, one file each: disjoint, in order, sorted inside,
    every row once (nulls and a value repeated across a cut included)."""
    monkeypatch.setattr(snapshots, "RANGE_ROWS", 100)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE src AS SELECT "
        "CASE WHEN i % 97 = 0 THEN NULL WHEN i < 300 THEN 'same' "
        "ELSE printf('f%05d', (i * 7919) % 1000) END AS file_id, "
        "i AS segment_idx, 'improvised' AS label, 'train' AS split FROM range(1000) t(i)"
    )
    writer = snapshots.SnapshotWriter(tmp_path, con)
    sql = (
        "SELECT file_id, segment_idx, 1.0 AS start_s, 2.0 AS end_s, label, split, "
        "'u' AS source_unit FROM src"
    )
    assert writer.write_table("vad_segments", sql) == 1000
    files = sorted(writer.tables["vad_segments"], key=lambda p: int(p.split("_")[-1][:-8]))
    assert len(files) >= 5
    read = [
        con.execute(f"SELECT file_id, segment_idx FROM read_parquet('{tmp_path / f}')").fetchall()
        for f in files
    ]

    def key(row):  # nulls last, as ORDER BY sorts them
        return (row[0] is None, row[0] or "", row[1])

    assert all(rows == sorted(rows, key=key) for rows in read)
    concatenated = [r for rows in read for r in rows]
    assert concatenated == sorted(concatenated, key=key)  # the files are consecutive ranges
    assert sorted(concatenated, key=key) == sorted(
        con.execute("SELECT file_id, segment_idx FROM src").fetchall(), key=key
    )
