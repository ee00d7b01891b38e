"""Every table we write keeps a portable profile that other engines read.

Signed integers only, no HUGEINT/UUID/INTERVAL/MAP, UTC microsecond timestamps, plain
strings, hive partitions only on text (label, split); and the files read back with
DuckDB, Polars and pyarrow.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from seamless_catalog import schema, store


def _portable(t: pa.DataType) -> bool:
    if pa.types.is_list(t):
        return _portable(t.value_type)
    if pa.types.is_timestamp(t):
        return t.unit == "us" and t.tz in ("UTC", "+00:00")
    return t in (pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_())


def _tables(root):
    m = store.read_manifest(root)
    return {name: [root / f for f in files] for name, files in m.tables.items() if files}


def test_every_written_column_is_portable(hf_catalog):
    tables = _tables(hf_catalog)
    assert {"files", "members", "vad_segments", "ingest_runs"} <= set(tables)
    for name, files in tables.items():
        declared = schema.table(name).file_schema
        for f in files:
            got = pq.read_schema(f)
            for field in got:
                assert _portable(field.type), f"{name}.{field.name}: {field.type}"
            assert got.names == declared.names, name
            assert [f.type for f in got] == [f.type for f in declared], name


def test_partitions_are_text_values_only(hf_catalog):
    for name, files in _tables(hf_catalog).items():
        t = schema.table(name)
        for f in files:
            parts = [p for p in f.relative_to(hf_catalog).parts if "=" in p]
            assert [p.split("=")[0] for p in parts] == list(t.partition_by)
            assert all(not p.split("=")[1].isdigit() for p in parts)


@pytest.mark.parametrize("name", ["files", "vad_segments", "members", "features", "prompts"])
def test_polars_and_pyarrow_read_the_tables(hf_catalog, name):
    files = _tables(hf_catalog)[name]
    t = schema.table(name)
    hive = bool(t.partition_by)
    df = pl.read_parquet([str(f) for f in files], hive_partitioning=hive)
    arrow = ds.dataset(
        [str(f) for f in files], format="parquet", partitioning="hive" if hive else None
    ).to_table()
    from seamless_catalog.catalog import Catalog

    with Catalog.open(hf_catalog) as cat:
        n = cat.value(f"select count(*) from raw.{name}")
    assert df.height == arrow.num_rows == n > 0
    if hive:
        assert df.schema["label"] == pl.String
