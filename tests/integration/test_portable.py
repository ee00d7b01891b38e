"""Every table we write keeps the portable profile (``seamless_catalog.store.portable``), and the
catalog reads back the same with DuckDB, Polars and pyarrow.

The checks iterate over ``schema.TABLES`` and over the Parquet files an ingest actually wrote,
so a table added later is checked without touching this file. The checker itself, and the
declared schemas, are tested in ``tests/unit/test_portable_profile.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from seamless_catalog.store import portable, schema, snapshots
from seamless_catalog.store.catalogdb import connect

# tables an ingest of the test release (with one bad filelist line) must write
WRITTEN = {"files", "prompts", "participants", "relationships", "documents", "members",
           "media", "features", "vad_segments", "transcript_segments", "transcript_words",
           "annotations", "ingest_issues", "ingest_runs", "units"}  # fmt: skip


@pytest.fixture(scope="module")
def catalog(hf_catalog: Path, release: Path, tmp_path_factory) -> Path:
    """The shared catalog, re-ingested with a filelist that has one bad line, so that
    ``ingest_issues`` (empty for a clean release) is written too."""
    from seamless_catalog.ingestion.pipeline import ingest

    tmp = tmp_path_factory.mktemp("portable")
    root = tmp / "cat"
    shutil.copytree(hf_catalog, root)
    filelist = tmp / "filelist.csv"
    filelist.write_text((release / "filelist.csv").read_text() + "not-an-id,improvised,dev,0,0\n")
    ingest(root, filelist=str(filelist))
    return root


def _tables(root: Path) -> dict[str, list[Path]]:
    m = snapshots.require_manifest(root)
    return {name: m.files(root, name) for name in m.tables if m.tables[name]}


# ------------------------------------------------------------------ the catalog keeps it


def test_every_written_file_is_portable(catalog):
    tables = _tables(catalog)
    assert set(tables) >= WRITTEN, WRITTEN - set(tables)
    for name, files in tables.items():
        declared = schema.table(name).file_schema
        for f in files:
            assert portable.parquet_problems(f) == [], f
            got = pq.read_schema(f)
            assert got.names == declared.names, f
            assert got.types == declared.types, f


def test_partitions_are_text_values_only(catalog):
    for name, files in _tables(catalog).items():
        t = schema.table(name)
        for f in files:
            parts = [p.split("=", 1) for p in f.relative_to(catalog).parts if "=" in p]
            assert [k for k, _ in parts] == list(t.partition_by), f
            assert [portable.partition_value_problem(v) for _, v in parts] == [None] * len(parts)


def test_catalog_duckdb_views_are_portable(catalog):
    """Every view of catalog.duckdb (raw.<table> and the sql/ views) has portable column types:
    what a user exports with ``query --format parquet`` or COPY keeps the profile."""
    con = duckdb.connect(str(catalog / "catalog.duckdb"), read_only=True)
    try:
        names = con.execute(
            "select schema_name, view_name from duckdb_views() where not internal order by all"
        ).fetchall()
        assert len(names) > len(schema.TABLES)
        problems = []
        for sch, view in names:
            rel = con.sql(f"select * from {schema.quote_ident(sch)}.{schema.quote_ident(view)}")
            for col, t in zip(rel.columns, rel.types):
                if problem := portable.duckdb_type_problem(t):
                    problems.append(f"{sch}.{view}.{col}: {problem}")
    finally:
        con.close()
    assert problems == []


def test_ingest_bookkeeping_tables(catalog, release):
    runs = pq.read_table(_tables(catalog)["ingest_runs"])
    assert runs.schema.field("started_at").type == pa.timestamp("us", tz="UTC")
    assert runs.num_rows == 2
    issues = pq.read_table(_tables(catalog)["ingest_issues"])
    bad_line = len((release / "filelist.csv").read_text().splitlines()) + 1
    assert issues.column("location").to_pylist() == [
        f"{catalog.parent / 'filelist.csv'}:{bad_line}"
    ]


# ------------------------------------------------------------------ three engines agree


def _current_dir(root: Path, files: list[Path]) -> Path:
    """The one ``data/<table>/<token>/`` folder the manifest's files of a table live in."""
    (token,) = {f.relative_to(root).parts[:3] for f in files}
    return root.joinpath(*token)


def _text_columns(table: pa.Table) -> list[tuple]:
    cols = [n for n in table.column_names if pa.types.is_string(table.schema.field(n).type)
            or pa.types.is_large_string(table.schema.field(n).type)
            or pa.types.is_string_view(table.schema.field(n).type)]  # fmt: skip
    return sorted(zip(*(table.column(c).cast(pa.string()).to_pylist() for c in cols)), key=str)


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_duckdb_polars_and_pyarrow_agree(catalog, name):
    """Each engine reads the table's current folder with its own hive discovery; counts, text
    values, label/split types and leading zeros agree."""
    t = schema.table(name)
    files = _tables(catalog)[name]
    folder = _current_dir(catalog, files)
    hive = bool(t.partition_by)
    glob = str(folder / ("**/*.parquet" if hive else "*.parquet"))

    con = connect()
    duck = con.sql(
        f"select * from read_parquet({snapshots.sql_literal(glob)}, "
        f"hive_partitioning = {str(hive).lower()})"
    ).arrow()
    if not isinstance(duck, pa.Table):  # DuckDB >= 1.4 returns a RecordBatchReader
        duck = duck.read_all()
    polars = pl.scan_parquet(glob, hive_partitioning=hive).collect().to_arrow()
    arrow = ds.dataset(str(folder), format="parquet", partitioning="hive" if hive else None)
    arrow = arrow.to_table()

    assert duck.num_rows == polars.num_rows == arrow.num_rows > 0
    for got in (duck, polars, arrow):
        assert set(got.column_names) == set(t.schema.names)
        for col in t.partition_by:
            typ = got.schema.field(col).type
            assert (
                pa.types.is_string(typ)
                or pa.types.is_large_string(typ)
                or (pa.types.is_string_view(typ))
            ), f"{col}: {typ}"
    polars, arrow = polars.select(duck.column_names), arrow.select(duck.column_names)
    assert _text_columns(duck) == _text_columns(polars) == _text_columns(arrow)
    if "prompt_hash" in t.schema.names:
        for got in (duck, polars, arrow):
            hashes = got.column("prompt_hash").cast(pa.string()).to_pylist()
            assert all(len(h) == 8 and h.startswith("0") for h in hashes if h is not None)
    if name == "files":
        ids = polars.column("participant").cast(pa.string()).to_pylist()
        assert any(p.startswith("0") for p in ids) and any(p[-1].isalpha() for p in ids)
