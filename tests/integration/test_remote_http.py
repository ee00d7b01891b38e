"""The HTTP client under faults: every answer is the right bytes, or a clear error.

Served by ``tests.fakes.cdn`` (a CDN-like static server) and ``tests.fakes.hub``; backoff
sleeps are recorded instead of slept.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.errors import ObjectChanged, RangeNotSupported, RemoteUnavailable, UsageError
from seamless_catalog.remote import http
from seamless_catalog.remote.dispatch import open_store
from seamless_catalog.remote.http import FixedTarget, HttpClient, HttpObject, RetryPolicy
from seamless_catalog.remote.https import HttpsStore
from seamless_catalog.remote.hub import HubStore, parse_hf_uri

KEY = "improvised/dev/audio/blob.bin"
TAR = "improvised/dev/0000/0000.tar"


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(http, "sleep", waits.append)
    return waits


@pytest.fixture
def blob(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(3).randbytes(300_000)
    path = tmp_path / "cdn" / KEY
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return tmp_path / "cdn", data


@pytest.fixture
def cdn(blob, make_cdn_server):
    return make_cdn_server(blob[0])


def _obj(cdn, data: bytes, client: HttpClient | None = None) -> HttpObject:
    return HttpObject(client or HttpClient(), FixedTarget(cdn.url(KEY)), len(data))


def _cdn_records(server):
    return [(r.method, r.range, r.status) for r in server.stats.snapshot()]


def test_ranged_reads_are_exact_and_one_request_each(cdn, blob):
    data = blob[1]
    obj = _obj(cdn, data)
    for start, n in [(0, 512), (100_001, 7_777), (len(data) - 10, 100), (len(data), 5)]:
        assert obj.read_at(start, n) == data[start : start + n]
    assert _cdn_records(cdn) == [
        ("GET", "bytes=0-511", 206),
        ("GET", "bytes=100001-107777", 206),
        ("GET", f"bytes={len(data) - 10}-{len(data) - 1}", 206),
    ]
    assert obj.client.traffic.requests == 3
    assert obj.client.traffic.bytes == 512 + 7_777 + 10


def test_range_ignored_is_sliced_not_trusted(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.ignore_range(kind="cdn")
    assert _obj(cdn, data).read_at(200_000, 1_000) == data[200_000:201_000]
    assert _cdn_records(cdn) == [("GET", "bytes=200000-200999", 200)]
    assert sleeps == []


def test_range_ignored_far_into_a_large_object_is_refused(cdn, blob, monkeypatch, sleeps):
    data = blob[1]
    monkeypatch.setattr(http, "MAX_SLICE_SKIP", 1000)
    monkeypatch.setattr(http, "MAX_WHOLE", 1000)  # the blob counts as a large object
    cdn.faults.ignore_range(kind="cdn")
    with pytest.raises(RangeNotSupported, match="does not support ranged reads") as e:
        _obj(cdn, data).read_at(200_000, 1_000)
    assert "try again" not in str(e.value) and "will not help" in str(e.value)
    assert sleeps == []  # not retried: it would not honour Range on another try


def test_range_ignored_small_object_is_read_whole_once(cdn, blob, sleeps):
    """One whole read per object, not one per member (olah moved 444 MB to read 4.6 MB)."""
    data = blob[1]
    cdn.faults.ignore_range(kind="cdn", times=1000)
    obj = _obj(cdn, data)
    reads = [(0, 512), (100_001, 7_777), (len(data) - 10, 100), (5, 5)]
    for start, n in reads:
        assert obj.read_at(start, n) == data[start : start + n]
    out = io.BytesIO()
    assert obj.copy_range(250_000, 3_000, out) == 3_000 and out.getvalue() == data[250_000:253_000]
    assert _cdn_records(cdn) == [("GET", "bytes=0-511", 200)]
    assert obj.client.traffic.bytes == len(data) and sleeps == []


def test_wrong_content_range_is_retried_then_reported(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.wrong_content_range(shift=3, kind="cdn")
    assert _obj(cdn, data).read_at(1_000, 500) == data[1_000:1_500]
    assert [s for _, _, s in _cdn_records(cdn)] == [206, 206] and len(sleeps) == 1

    cdn.faults.wrong_content_range(shift=3, kind="cdn", times=100)
    with pytest.raises(RemoteUnavailable, match="Content-Range"):
        _obj(cdn, data).read_at(1_000, 500)


def test_reset_mid_body_resumes_from_the_last_byte(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.reset_after(70_000, kind="cdn")
    assert _obj(cdn, data).read_at(10_000, 200_000) == data[10_000:210_000]
    recs = cdn.stats.snapshot()
    assert [r.range for r in recs][0] == "bytes=10000-209999"
    resumed_at = 10_000 + recs[0].body_bytes
    assert [r.range for r in recs][1] == f"bytes={resumed_at}-209999"
    assert len(recs) == 2


def test_short_body_resumes(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.short_body(missing=1234, kind="cdn")
    assert _obj(cdn, data).read_at(0, 100_000) == data[:100_000]
    assert [r.range for r in cdn.stats.snapshot()] == ["bytes=0-99999", "bytes=98766-99999"]


def test_429_waits_what_retry_after_asks(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.status(429, retry_after=7, kind="cdn")
    assert _obj(cdn, data).read_at(0, 10) == data[:10]
    assert len(sleeps) == 1 and sleeps[0] >= 7


def test_503_burst_and_500_once_are_retried(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.status(503, times=3, kind="cdn")
    cdn.faults.status(500, times=1, kind="cdn")  # fires together with the first 503
    assert _obj(cdn, data).read_at(5, 10) == data[5:15]
    assert [s for _, _, s in _cdn_records(cdn)] == [503, 503, 503, 206]
    assert len(sleeps) == 3
    assert all(0 <= s <= RetryPolicy().cap_s for s in sleeps)


def test_persistent_5xx_gives_up_after_the_attempts(cdn, blob, sleeps):
    cdn.faults.status(500, times=100, kind="cdn")
    with pytest.raises(RemoteUnavailable, match="gave up after 6 tries"):
        _obj(cdn, blob[1]).read_at(0, 10)
    assert cdn.stats.total == 6


def test_retry_budget_bounds_a_whole_client(cdn, blob, sleeps):
    client = HttpClient(policy=RetryPolicy(budget=2, budget_ratio=0))
    cdn.faults.status(503, times=100, kind="cdn")
    with pytest.raises(RemoteUnavailable, match="retry budget"):
        _obj(cdn, blob[1], client).read_at(0, 10)
    assert client.traffic.retries == 2


def test_server_asking_too_long_a_wait_is_an_error(cdn, blob, sleeps):
    cdn.faults.status(429, retry_after=3600, kind="cdn")
    with pytest.raises(RemoteUnavailable, match="wait 3600 s"):
        _obj(cdn, blob[1]).read_at(0, 10)
    assert sleeps == []


def test_read_timeout_is_retried(cdn, blob, sleeps):
    data = blob[1]
    cdn.faults.stall(5, after_bytes=1000, kind="cdn")
    client = HttpClient(read_timeout=0.3)
    assert _obj(cdn, data, client).read_at(0, 50_000) == data[:50_000]
    assert [r.range for r in cdn.stats.snapshot()] == ["bytes=0-49999", "bytes=1000-49999"]


def test_etag_change_between_reads_is_never_spliced(cdn, blob, sleeps):
    root, data = blob
    obj = _obj(cdn, data)
    assert obj.read_at(0, 100) == data[:100]
    path = root / KEY
    path.write_bytes(data[::-1])
    os.utime(path, ns=(1, 1))
    with pytest.raises(ObjectChanged, match="changed while being read"):
        obj.read_at(100, 100)


def test_etag_change_during_a_resume_is_never_spliced(cdn, blob, sleeps, monkeypatch):
    root, data = blob
    cdn.faults.reset_after(10_000, kind="cdn")
    path = root / KEY
    real_wait = HttpClient._retry_wait

    def rewrite_then_wait(self, *args):  # the object changes while we back off
        path.write_bytes(data[::-1])
        os.utime(path, ns=(2, 2))
        return real_wait(self, *args)

    monkeypatch.setattr(HttpClient, "_retry_wait", rewrite_then_wait)
    out = io.BytesIO()
    with pytest.raises(ObjectChanged):
        _obj(cdn, data).copy_range(0, 100_000, out)
    assert out.getvalue() == data[: len(out.getvalue())]  # only bytes of the first version


def test_retry_after_and_ratelimit_headers():
    assert http.retry_after({"Retry-After": "12"}) == 12
    assert http.retry_after({"RateLimit": '"api";r=0;t=55'}) == 55
    assert http.retry_after({"RateLimit": "limit=100, remaining=0, reset=9"}) == 9
    assert http.retry_after({"RateLimit-Reset": "30"}) == 30
    assert http.retry_after({}) == 0
    assert 0 <= http.retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) <= 0.0


def test_https_store_absent_is_403_and_listing_is_off(cdn, blob):
    store = HttpsStore(cdn.endpoint, Settings())
    assert store.fetch(KEY) == blob[1]
    assert store.fetch("improvised/dev/audio/missing.wav") is None
    assert store.info("improvised/dev/audio/missing.wav") is None
    assert store.info(KEY).size == len(blob[1])
    assert [s for _, _, s in _cdn_records(cdn)] == [200, 403, 403, 200]
    with pytest.raises(UsageError, match="filelist drives"):
        list(store.list())
    out = io.BytesIO()
    assert store.copy_range(KEY, 10, 90, out) == 90 and out.getvalue() == blob[1][10:100]


def test_https_fetch_completes_a_short_body(cdn, blob, sleeps):
    cdn.faults.short_body(missing=50_000, kind="cdn")
    assert HttpsStore(cdn.endpoint, Settings()).fetch(KEY) == blob[1]
    assert [r.range for r in cdn.stats.snapshot()] == [None, f"bytes={300_000 - 50_000}-299999"]


def test_hf_uris():
    assert parse_hf_uri("hf://datasets/facebook/seamless-interaction").repo == (
        "facebook/seamless-interaction"
    )
    p = parse_hf_uri("hf://datasets/a/b@v2/improvised/dev")
    assert (p.repo, p.revision, p.subdir) == ("a/b", "v2", "improvised/dev")
    assert parse_hf_uri("hf://").repo == "facebook/seamless-interaction"
    with pytest.raises(UsageError):
        parse_hf_uri("hf://models/a/b")
    with pytest.raises(UsageError):
        open_store("ftp://x", Settings())


def test_hub_store_resolves_once_and_sends_the_token_only_to_the_hub(make_hub_server, hub_repo):
    server = make_hub_server(token="hf_secret")
    store = HubStore(
        "hf://datasets/facebook/seamless-interaction",
        Settings(hf_endpoint=server.endpoint, hf_token="hf_secret"),
    )
    listed = {i.key: i for i in store.list()}
    assert TAR in listed and listed[TAR].sha256
    server.reset_counters()
    data = (hub_repo / TAR).read_bytes()
    reader = store.reader(TAR, listed[TAR])
    assert reader.read_at(0, 512) == data[:512]
    assert reader.read_at(5_000, 3_000) == data[5_000:8_000]
    out = io.BytesIO()
    store.copy_range(TAR, 100, 1_000, out)
    assert out.getvalue() == data[100:1_100]
    recs = server.stats.snapshot()
    assert [(r.kind, r.method) for r in recs] == [("resolve", "HEAD")] + [("cdn", "GET")] * 3
    assert recs[0].authorized and not any(r.authorized for r in recs[1:])


def test_hub_expired_redirect_is_resolved_again_once(make_hub_server, hub_repo, sleeps):
    server = make_hub_server()
    store = HubStore("hf://datasets/facebook/seamless-interaction", Settings(server.endpoint))
    server.faults.expire_redirects(path=TAR)
    data = (hub_repo / TAR).read_bytes()
    assert store.reader(TAR).read_at(1_000, 100) == data[1_000:1_100]
    assert [(r.kind, r.status) for r in server.stats.snapshot()] == [
        ("resolve", 302),
        ("cdn", 403),
        ("resolve", 302),
        ("cdn", 206),
    ]


def test_hub_file_changed_under_a_reader(make_hub_server, hub_repo, tmp_path, sleeps):
    root = tmp_path / "repo"
    (root / TAR).parent.mkdir(parents=True)
    data = (hub_repo / TAR).read_bytes()
    (root / TAR).write_bytes(data)
    server = make_hub_server(root)
    store = HubStore("hf://datasets/facebook/seamless-interaction", Settings(server.endpoint))
    reader = store.reader(TAR)
    assert reader.read_at(0, 10) == data[:10]
    (root / TAR).write_bytes(data[::-1])
    server.refresh()  # the old signed URL now points at a blob that is gone: 403, re-resolve
    with pytest.raises(ObjectChanged):
        reader.read_at(10, 10)
