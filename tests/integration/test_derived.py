"""Derived tables (seamless_catalog.store.derive) and the fast open of catalog.duckdb.

The stored rows must equal what the views compute from the ingested tables, after a first
ingest, after incremental ones (a tar added, a tar removed, nothing changed), without VAD,
and on the real VAD files; rows of other view definitions must never be used.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.store import derive, schema, snapshots, views
from tests.integration.test_real_raw import _layout

pytestmark = pytest.mark.slow  # incremental ingests of the release, and the real VAD files

VIEWS = [t.view for t in schema.DERIVED.values()]


def _ingest(root: Path, release: Path, sources: list[str]):
    return ingest(
        root,
        sources,
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )


def assert_stored_equals_computed(root: Path) -> None:
    """Every derived view, read from its table and computed from the ingested tables."""
    with Catalog.open(root) as stored, Catalog.open(root, derived=False) as computed:
        assert stored.prebuilt
        assert views.stored_views(computed.con, computed.manifest) == set(VIEWS)
        for view in VIEWS:
            described = [c.sql(f"describe {view}").fetchall() for c in (stored, computed)]
            assert described[0] == described[1], view
            rows_got = stored.sql(f"select * from {view} order by all").fetchall()
            rows_want = computed.sql(f"select * from {view} order by all").fetchall()
            assert rows_got == rows_want, view
            assert rows_got, view


@pytest.fixture
def hf_copy(release, tmp_path) -> Path:
    hf = tmp_path / "hf"
    shutil.copytree(release / "hf", hf)
    return hf


def _scopes(monkeypatch) -> list:
    """Record what each ingest's derivation chose to recompute."""
    seen: list = []
    original = derive.affected_files

    def spy(writer, changed_units):
        seen.append(original(writer, changed_units))
        return seen[-1]

    monkeypatch.setattr(derive, "affected_files", spy)
    return seen


def test_first_ingest_stores_what_the_views_compute(hf_catalog):
    assert_stored_equals_computed(hf_catalog)
    m = snapshots.require_manifest(hf_catalog)
    assert all(m.tables[name] for name in schema.DERIVED)


def test_incremental_ingests_recompute_only_the_touched_interactions(
    release, hf_copy, tmp_path, monkeypatch
):
    tars = sorted(hf_copy.rglob("*.tar"))
    held = tmp_path / "held.tar"
    shutil.move(tars[-1], held)
    root = tmp_path / "cat"
    scopes = _scopes(monkeypatch)
    _ingest(root, release, [str(hf_copy)])
    assert scopes[-1] is derive.EVERYTHING
    assert_stored_equals_computed(root)

    shutil.move(held, tars[-1])  # a tar appears: its files and their partners are recomputed
    _ingest(root, release, [str(hf_copy)])
    added = scopes[-1]
    assert added not in (derive.EVERYTHING, [])
    with Catalog.open(root) as cat:
        n_files = cat.value("select count(*) from files")
    assert len(added) < n_files
    assert_stored_equals_computed(root)

    before = snapshots.require_manifest(root).tables
    _ingest(root, release, [str(hf_copy)])  # nothing changed: the derived files are kept
    assert scopes[-1] == []
    after = snapshots.require_manifest(root).tables
    assert all(before[name] == after[name] for name in schema.DERIVED)

    tars[0].unlink()  # a tar disappears
    _ingest(root, release, [str(hf_copy)])
    assert scopes[-1] not in (derive.EVERYTHING, [])
    assert_stored_equals_computed(root)


def test_chunks_shared_by_parallel_connections_store_what_the_views_compute(
    release, hf_copy, tmp_path, monkeypatch
):
    """Many small chunks on two connections, first ingest and incremental: the same rows."""
    monkeypatch.setattr(derive, "CHUNK_INTERACTIONS", 2)
    monkeypatch.setattr(derive, "WORKERS", 2)
    ran: list[tuple[int, str]] = []
    original = derive._compute_chunk

    def spy(con, i, first):
        ran.append((i, threading.current_thread().name))
        return original(con, i, first)

    monkeypatch.setattr(derive, "_compute_chunk", spy)
    root = tmp_path / "cat"
    _ingest(root, release, [str(hf_copy)])
    chunks = sorted(i for i, _ in ran)
    assert len(chunks) > 2 and chunks == list(range(len(chunks)))  # each chunk once
    assert len({name for _, name in ran}) == 2
    assert_stored_equals_computed(root)

    sorted(hf_copy.rglob("*.tar"))[0].unlink()  # incremental: chunks of the touched ones
    ran.clear()
    _ingest(root, release, [str(hf_copy)])
    assert ran
    assert_stored_equals_computed(root)


def test_catalog_without_vad_stays_valid(release, tmp_path):
    root = tmp_path / "cat"
    _ingest(root, release, [])
    assert_stored_equals_computed(root)
    with Catalog.open(root) as cat:
        assert cat.value("select count(*) from turn_taking where speech_a_s is not null") == 0
        assert cat.value("select count(*) from speech_activity where speech_s is null") > 0


def test_rows_of_other_definitions_are_not_used_and_get_recomputed(
    release, hf_copy, tmp_path, monkeypatch
):
    root = tmp_path / "cat"
    _ingest(root, release, [str(hf_copy)])
    monkeypatch.setattr(views, "derived_source_unit", lambda: "derive:other")
    monkeypatch.setattr(views, "definitions_version", lambda directory=None: "other")
    with Catalog.open(root) as cat:
        assert not cat.prebuilt  # catalog.duckdb was built from other definitions
        assert views.stored_views(cat.con, cat.manifest) == set()
        assert cat.value("select count(*) from turn_taking") > 0
    scopes = _scopes(monkeypatch)
    _ingest(root, release, [str(hf_copy)])  # unchanged sources, new definitions
    assert scopes[-1] is derive.EVERYTHING
    assert_stored_equals_computed(root)


def test_a_moved_catalog_does_not_attach_its_old_catalog_duckdb(hf_catalog, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(hf_catalog, moved)
    with Catalog.open(moved) as cat, Catalog.open(hf_catalog) as original:
        assert not cat.prebuilt and original.prebuilt
        assert views.stored_views(cat.con, cat.manifest) == set(VIEWS)
        q = "select * from turn_taking order by all"
        assert cat.sql(q).fetchall() == original.sql(q).fetchall()


def test_prebuilt_catalog_is_sandboxed_and_takes_temp_tables(hf_catalog, tmp_path):
    with Catalog.open(hf_catalog, sandbox=True) as cat:
        assert cat.prebuilt
        cat.sql("create temp table picked as select file_id from files limit 3")
        assert cat.value("select count(*) from picked") == 3
        with pytest.raises(Exception, match="(?i)permission|disabled"):
            cat.sql(f"select * from read_csv('{tmp_path}/x.csv')").fetchall()


def test_real_vad_files_stored_equal_computed(real, tmp_path):
    _layout(real, tmp_path)
    root = tmp_path / "cat"
    result = ingest(
        root,
        [str(tmp_path / "cdn")],
        filelist=str(tmp_path / "filelist.csv"),
        assets=str(real / "assets"),
    )
    assert result.ok
    assert_stored_equals_computed(root)
    with Catalog.open(root) as cat:
        assert cat.value("select count(*) from turn_taking where overlap_s > 0") == 10


def test_declared_derived_schemas_match_the_views(hf_catalog):
    with Catalog.open(hf_catalog, derived=False) as cat:
        for t in schema.DERIVED.values():
            described = [r[:2] for r in cat.sql(f"describe {t.view}").fetchall()]
            declared = [(f.name, schema.duckdb_type(f.type)) for f in t.schema]
            assert described == declared[:-1] and declared[-1][0] == "source_unit", t.name


def test_import_and_open_stay_light(hf_catalog):
    """Opening a catalog and querying it loads neither pyarrow nor the ingest pipeline, and
    ``from seamless_catalog import ingest`` is the function even once the subpackage loaded."""
    code = (
        "import sys; from seamless_catalog import Catalog; "
        f"c = Catalog.open({str(hf_catalog)!r}); assert c.prebuilt; "
        "c.sql('select * from turn_taking').fetchall(); "
        "heavy = [m for m in ('pyarrow', 'polars', 'seamless_catalog.ingestion.pipeline') "
        "if m in sys.modules]; assert not heavy, heavy; "
        "import seamless_catalog.ingestion.tars; from seamless_catalog import ingest; "
        "assert callable(ingest) and ingest.__module__ == 'seamless_catalog.ingestion.pipeline'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
