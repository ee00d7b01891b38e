"""Materialize from the test Hub server: one ranged GET per sample, fetched/needed measured."""

from __future__ import annotations

from collections import Counter

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.materialize import materialize

pytest.importorskip("seamless_catalog.remote.hub")
SQL = "select file_id from files where file_id in (select file_id from raw.members)"


def _cdn_traffic(server) -> tuple[int, int]:
    """Ranged reads of tar bytes (after the 302) and their body bytes."""
    records = [r for r in server.stats.snapshot() if r.kind == "cdn" and r.method == "GET"]
    return len(records), sum(r.body_bytes for r in records)


def test_hub_one_request_per_sample_and_fetched_over_needed(
    make_hub_server, hf_catalog, release, tmp_path
):
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    source = "hf://datasets/facebook/seamless-interaction"
    r = materialize(hf_catalog, sql=SQL, to=tmp_path, source=source, settings=settings)
    assert r.ok, r.failures
    resolves = Counter(rec.file for rec in server.stats.snapshot() if rec.kind == "resolve")
    tars = {i.parts[0].key for i in r.plan.items}
    assert set(resolves) == tars and set(resolves.values()) == {1}, resolves  # 4 workers
    for f in (p for p in tmp_path.rglob("*") if p.is_file() and ".seamless-catalog" not in p.parts):
        assert f.read_bytes() == (release / "tree" / f.relative_to(tmp_path)).read_bytes()
    n_samples = len({i.file_id for i in r.plan.items})
    gets, body = _cdn_traffic(server)
    needed = sum(i.size for i in r.plan.items)
    assert gets <= n_samples  # at most one ranged GET per selected sample
    ratio = body / needed
    print(f"hub: {gets} GETs for {n_samples} samples; fetched/needed = {ratio:.4f}")
    # only the three 512-byte headers between a sample's four members (and padding) are extra
    headers = 3 * 512 + 4 * 511
    assert body <= needed + headers * n_samples
    assert ratio <= 1.01
    server.reset_counters()
    again = materialize(hf_catalog, sql=SQL, to=tmp_path, source=source, settings=settings)
    assert again.bytes_fetched == 0 and _cdn_traffic(server) == (0, 0)


def test_hub_on_the_fly_index_counts_header_reads(make_hub_server, release, tmp_path):
    from seamless_catalog.ingestion.pipeline import ingest

    cat = tmp_path / "cat"
    ingest(cat, [], filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    sql = "select file_id from files where split = 'test'"
    r = materialize(
        cat,
        sql=sql,
        to=tmp_path / "out",
        source="hf://datasets/facebook/seamless-interaction",
        settings=settings,
    )
    assert r.ok and r.plan.index_requests > 0
    out = tmp_path / "out"
    for f in (p for p in out.rglob("*") if p.is_file() and ".seamless-catalog" not in p.parts):
        assert f.read_bytes() == (release / "tree" / f.relative_to(out)).read_bytes()
    _, body = _cdn_traffic(server)
    ratio = body / r.plan.bytes_needed
    print(f"hub, indexing on the fly: fetched/needed = {ratio:.4f}")
    assert ratio <= 1.01, "header reads of the on-the-fly index included"
