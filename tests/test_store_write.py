"""SnapshotWriter.write_table: one sorted Parquet file per partition, whatever the values."""

from __future__ import annotations

import duckdb

from seamless_catalog import store

ROWS = [("b", "improvised", "train"), ("a", "improvised", "train"), ("c", "odd label", "dev")]
SQL = (
    "SELECT file_id, 0 AS segment_idx, 1.0 AS start_s, 2.0 AS end_s, label, split, "
    "'u' AS source_unit FROM src"
)


def test_one_sorted_file_per_partition_and_odd_values_and_no_rows(tmp_path):
    con = duckdb.connect()
    values = ", ".join(f"('{f}', '{lab}', '{sp}')" for f, lab, sp in ROWS)
    con.execute(f"CREATE TABLE src AS SELECT * FROM (VALUES {values}) v(file_id, label, split)")
    writer = store.SnapshotWriter(tmp_path, con)
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
