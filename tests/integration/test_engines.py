"""Engines schedule shards of one plan: local, Ray and Dask give the same tree and receipts
from the test Hub server with one resolve per tar; a shard whose worker dies is retried.

One Ray runtime and one Dask cluster serve the whole module (they are slow to start); both
are small (2 CPUs) and on loopback."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.materialize import make_plan, plan_status, read_plan, run_plan
from tests.fakes.hub import HubServer
from tests.integration.test_plan_file import TARS, receipt_rows, tree

pytestmark = pytest.mark.slow  # starts a Ray and a Dask cluster

SOURCE = "hf://datasets/facebook/seamless-interaction"


@pytest.fixture(scope="module")
def hub(release):
    with HubServer(release / "hf") as server:
        yield server


@pytest.fixture(scope="module")
def settings(hub) -> Settings:
    return Settings(hf_endpoint=hub.endpoint, progress=False)


@pytest.fixture(scope="module")
def ray_runtime():
    ray = pytest.importorskip("ray", reason="ray is not installed: pip install '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed: pip install '.[dask]'"
    )
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def local_run(hf_catalog, hub, settings, tmp_path_factory):
    """The local engine's run of the plan: the tree, receipts and Hub requests to match."""
    return _run("local", hf_catalog, hub, settings, tmp_path_factory.mktemp("local"))


def _run(engine: str, catalog: Path, hub: HubServer, settings: Settings, work: Path, **kw):
    plan = work / "plan.parquet"
    make_plan(catalog, plan, to=work / "out", sql=TARS, source=SOURCE, settings=settings)
    hub.reset_counters()
    out = run_plan(plan, engine=engine, shards=3, settings=settings, **kw)
    records = hub.stats.snapshot()
    resolves = Counter(r.file for r in records if r.kind == "resolve")
    pf = read_plan(plan)
    return {
        "summaries": out,
        "tree": tree(pf.to),
        "receipts": receipt_rows(pf.to, pf.plan_id),
        "resolves": resolves,
        "tars": {p.key for i in pf.items if i.state == "todo" for p in i.parts},
        "plan": plan,
    }


def _check_like_local(got: dict, local: dict) -> None:
    assert all(s.ok for s in got["summaries"]), got["summaries"]
    assert got["tree"] == local["tree"] and got["tree"]
    assert got["receipts"] == local["receipts"]  # same shards, paths, statuses, sizes, sha256
    assert set(got["resolves"]) == got["tars"]  # every tar resolved...
    assert max(got["resolves"].values()) == 1  # ...once, whichever worker read it
    assert plan_status(got["plan"]).complete


def test_local_engine_resolves_each_tar_once(local_run, release):
    _check_like_local(local_run, local_run)
    for rel, _ in local_run["tree"].items():  # and the bytes are the release's
        assert (release / "tree" / rel).exists()


def test_ray_engine_is_like_local(ray_runtime, hf_catalog, hub, settings, local_run, tmp_path):
    _check_like_local(_run("ray", hf_catalog, hub, settings, tmp_path), local_run)


def test_dask_engine_is_like_local(dask_client, hf_catalog, hub, settings, local_run, tmp_path):
    _check_like_local(_run("dask", hf_catalog, hub, settings, tmp_path), local_run)


@pytest.mark.parametrize("engine", ["ray", "dask"])
def test_a_shard_whose_worker_dies_is_retried(
    engine, request, hf_catalog, hub, settings, local_run, tmp_path
):
    request.getfixturevalue("ray_runtime" if engine == "ray" else "dask_client")
    marker = tmp_path / "crashed"
    got = _run(engine, hf_catalog, hub, settings, tmp_path, _crash_marker=str(marker))
    assert marker.exists()  # a first attempt died (os._exit in the task)
    _check_like_local(got, local_run)


def test_an_engine_resumes_another_engines_work(
    dask_client, hf_catalog, hub, settings, local_run, tmp_path
):
    plan = tmp_path / "plan.parquet"
    make_plan(hf_catalog, plan, to=tmp_path / "out", sql=TARS, source=SOURCE, settings=settings)
    first = run_plan(plan, shard="2/3", settings=settings)  # an array member did one shard
    rest = run_plan(plan, engine="dask", shards=3, settings=settings)
    assert sum(s.skipped for s in rest) == first[0].delivered > 0
    assert tree(tmp_path / "out") == local_run["tree"]


@pytest.mark.parametrize("engine, extra", [("ray", "ray"), ("dask", "dask")])
def test_a_missing_engine_names_its_extra(engine, extra, monkeypatch, tmp_path):
    import sys

    from seamless_catalog.errors import UsageError

    monkeypatch.setitem(sys.modules, "ray" if engine == "ray" else "distributed", None)
    with pytest.raises(UsageError, match=rf"pip install 'seamless-catalog\[{extra}\]'"):
        run_plan(tmp_path / "absent.parquet", engine=engine)
