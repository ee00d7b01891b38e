"""The portable profile itself (``seamless_catalog.store.portable``): the checker refuses what
another reader could not read back the same, and every declared table schema passes it.
Whether the files an ingest writes keep it is ``tests/integration/test_portable.py``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seamless_catalog.store import portable, schema
from seamless_catalog.store.catalogdb import connect

# ------------------------------------------------------------------ the profile checker itself


@pytest.mark.parametrize(
    "bad",
    [
        pa.uint32(), pa.uint64(), pa.decimal128(38, 0), pa.large_string(), pa.string_view(),
        pa.dictionary(pa.int32(), pa.string()), pa.map_(pa.string(), pa.int64()),
        pa.duration("us"), pa.month_day_nano_interval(), pa.timestamp("ns", tz="UTC"),
        pa.timestamp("us"), pa.binary(), pa.list_(pa.uint8()),
        pa.struct([("x", pa.timestamp("ns"))]), pa.uuid(),
    ],
    ids=str,
)  # fmt: skip
def test_checker_refuses_unportable_arrow_types(bad, tmp_path):
    assert portable.arrow_problem(bad)


def test_checker_reads_what_a_parquet_file_stores(tmp_path):
    """pyarrow stores its Arrow schema in the file: a large_string or dictionary hint is caught
    there, unsigned and nanosecond columns in the Parquet logical types."""
    ok = pa.table({"id": pa.array(["0947"]), "t": pa.array([0], pa.timestamp("us", tz="UTC"))})
    pq.write_table(ok, tmp_path / "ok.parquet")
    assert portable.parquet_problems(tmp_path / "ok.parquet") == []
    for name, arr in {
        "large": pa.array(["a"], pa.large_string()),
        "dict": pa.array(["a"]).dictionary_encode(),
        "u32": pa.array([1], pa.uint32()),
        "ns": pa.array([0], pa.timestamp("ns", tz="UTC")),
        "map": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
    }.items():
        pq.write_table(pa.table({"c": arr}), tmp_path / f"{name}.parquet")
        assert portable.parquet_problems(tmp_path / f"{name}.parquet"), name


def test_checker_refuses_unportable_duckdb_types():
    con = connect()
    rel = con.sql(
        "select 1::hugeint a, 1::ubigint b, interval 1 day c, uuid() d, map([1], [2]) e, "
        "1.5::decimal(38, 2) f, now()::timestamp_ns g, [1::utinyint] h, {'x': 1::hugeint} i, "
        "now()::timestamp j"
    )
    assert all(portable.duckdb_type_problem(t) for t in rel.types), rel.types
    ok = con.sql("select [{'a': 1::bigint, 'b': ['x']}] a, now() b, 1.5::double c")
    assert not any(portable.duckdb_type_problem(t) for t in ok.types)


@pytest.mark.parametrize("value", ["2025", "0001", "1.5", "1e3", "true", "2025-06-27", "", "NaN"])
def test_numeric_looking_partition_values_are_refused(value):
    assert portable.partition_value_problem(value)


@pytest.mark.parametrize("value", ["improvised", "naturalistic", "train", "dev", "test", "V00"])
def test_text_partition_values_pass(value):
    assert portable.partition_value_problem(value) is None


# ------------------------------------------------------------------ declared schemas


# every declared table: the parsed ones and the derived ones (stored rows of sql/ views)
DECLARED = [*schema.TABLES, *getattr(schema, "DERIVED", {})]


@pytest.mark.parametrize("name", DECLARED)
def test_declared_schema_is_portable(name):
    t = schema.table(name)
    assert portable.schema_problems(t.schema) == []
    for col in t.partition_by:
        assert t.schema.field(col).type == pa.string(), f"{name}.{col}: partitions are text"
