"""Catalog.stream: exactly the selection, seeded order, disjoint ranks, resume, server faults."""

from __future__ import annotations

import json

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.config import Settings
from seamless_catalog.errors import SampleUnavailable
from seamless_catalog.remote import http
from tests.access_helpers import IN_TARS, by_id, tree_path

HUB = "hf://datasets/facebook/seamless-interaction"


@pytest.fixture(scope="module")
def cat(hf_catalog):
    with Catalog.open(hf_catalog) as c:
        yield c


@pytest.fixture(scope="module")
def selection(cat) -> list[str]:
    return sorted(r[0] for r in cat.sql(IN_TARS).fetchall())


def _ids(cat, release, **options) -> list[str]:
    options.setdefault("modalities", "json")
    options.setdefault("source", str(release / "hf"))
    return [s.file_id for s in cat.stream(IN_TARS, **options)]


def test_yields_exactly_the_selection(cat, release, selection):
    rows = by_id(release)
    samples = list(cat.stream(IN_TARS, modalities="json", source=str(release / "hf")))
    assert [s.file_id for s in samples] == selection  # no shuffle: file_id order
    for s in samples:
        assert s.json == json.loads(tree_path(release, rows[s.file_id], "json").read_bytes())


def test_order_is_stable_for_a_seed(cat, release, selection):
    a = _ids(cat, release, shuffle=True, seed=3)
    assert a == _ids(cat, release, shuffle=True, seed=3, prefetch=1)
    assert sorted(a) == selection and a != selection
    assert a != _ids(cat, release, shuffle=True, seed=4)


@pytest.mark.parametrize("pairs_together", [False, True])
def test_ranks_are_disjoint_and_cover(cat, release, selection, pairs_together):
    parts = [
        _ids(
            cat, release, shuffle=True, seed=1, rank=r, world_size=3, pairs_together=pairs_together
        )
        for r in range(3)
    ]
    flat = [f for p in parts for f in p]
    assert sorted(flat) == selection and len(set(flat)) == len(flat)
    if pairs_together:
        key = {f: f.rsplit("_", 1)[0] for f in selection}
        owners = {}
        for r, part in enumerate(parts):
            for f in part:
                assert owners.setdefault(key[f], r) == r  # both sides on one rank
        for part in parts:  # and next to each other: one run per interaction
            keys = [key[f] for f in part]
            runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
            assert len(runs) == len(set(keys))


def test_resumes_where_it_stopped(cat, release):
    full = _ids(cat, release, shuffle=True, seed=9, rank=1, world_size=2)
    stream = cat.stream(IN_TARS, modalities="json", source=str(release / "hf"), shuffle=True,
                        seed=9, rank=1, world_size=2)  # fmt: skip
    first = []
    for s in stream:
        first.append(s.file_id)
        if len(first) == 4:
            break
    assert stream.position == 4
    rest = _ids(cat, release, shuffle=True, seed=9, rank=1, world_size=2, start=stream.position)
    assert first + rest == full


def test_skips_what_the_source_lacks_when_asked(cat, release, selection):
    sql = "select file_id from files"
    stream = cat.stream(sql, modalities="json", source=str(release / "hf"), errors="skip")
    got = [s.file_id for s in stream]
    assert got == selection and stream.skipped
    assert all("absent" in reason for _, reason in stream.skipped)
    with pytest.raises(SampleUnavailable, match="absent"):
        list(cat.stream(sql, modalities="json", source=str(release / "hf")))


def test_survives_resets_429_and_503(make_hub_server, cat, release, selection, monkeypatch):
    monkeypatch.setattr(http, "sleep", lambda s: None)
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    server.faults.reset_after(3_000, times=2, kind="cdn")
    server.faults.status(429, retry_after=1, times=2, kind="cdn")
    server.faults.status(503, times=2, kind="cdn")
    rows = by_id(release)
    got = []
    for s in cat.stream(IN_TARS, modalities="json,wav,mp4", source=HUB, settings=settings,
                        prefetch=3):  # fmt: skip
        row = rows[s.file_id]
        assert s.video == tree_path(release, row, "mp4").read_bytes()
        assert s.json == json.loads(tree_path(release, row, "json").read_bytes())
        got.append(s.file_id)
    assert got == selection and not server.faults.pending


def test_torch_dataset_splits_by_worker(hf_catalog, release, selection):
    torch = pytest.importorskip("torch", reason="torch not installed (pip install torch)")
    with Catalog.open(hf_catalog) as c:
        order = _ids(c, release, shuffle=True, seed=2, rank=0, world_size=2)
        ds = c.torch_dataset(IN_TARS, modalities="json", source=str(release / "hf"),
                             shuffle=True, seed=2, rank=0, world_size=2)  # fmt: skip
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    got = [s.file_id for s in loader]
    assert got == order  # two workers, interleaved back into the rank's order
