"""The per-file CDN path against nginx, a server we did not write, over HTTP and HTTPS.

Ingest and materialize from nginx must equal the local-copy results byte for byte; nginx's
``404`` for a missing object and its ``403`` for a denied one both mean "absent", as the real
CDN's ``403`` does. The HTTPS listener's self-signed certificate is trusted via
``SSL_CERT_FILE`` (set by the ``make_nginx`` fixture). Faults stay with our own CDN server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.errors import RemoteUntrusted, SourceNotFound
from seamless_catalog.materialize import materialize
from seamless_catalog.remote.https import HttpsStore
from tests.fakes.nginx import DENIED
from tests.integration.test_materialize import _outputs, assert_like_tree
from tests.integration.test_materialize_remote import _pick
from tests.integration.test_remote_ingest import (
    _assert_same_metadata,
    _expected_gets,
    _ingest,
    local_cdn_catalog,  # noqa: F401  (a module fixture, used by name)
)

pytestmark = pytest.mark.slow  # an nginx process per test, the release ingested and materialized

SCHEMES = ("http", "https")


def _base(server, scheme: str) -> str:
    return getattr(server, scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_nginx_per_file_ingest_equals_local(
    make_nginx,
    release,
    local_cdn_catalog,  # noqa: F811
    tmp_path,
    scheme,
):
    server = make_nginx(release / "cdn")
    result = _ingest(
        release, tmp_path / "cat", [_base(server, scheme)], Settings(progress=False, workers=2)
    )
    assert result.ok, result.issues  # nginx's 404s are absences, not issues
    _assert_same_metadata(tmp_path / "cat", local_cdn_catalog)
    logged = server.requests()
    assert all(r.method == "GET" and r.range is None for r in logged)
    assert len(logged) == _expected_gets(release)  # one GET per object asked for, no HEAD
    assert {r.status for r in logged} == {200, 404}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_nginx_materialize_equals_local_copy(make_nginx, hf_catalog, release, tmp_path, scheme):
    server = make_nginx(release / "cdn")
    settings = Settings(progress=False)
    local, remote = tmp_path / "local", tmp_path / "remote"
    sql = _pick(release)
    a = materialize(hf_catalog, sql=sql, to=local, source=str(release / "cdn"), settings=settings)
    b = materialize(hf_catalog, sql=sql, to=remote, source=_base(server, scheme), settings=settings)
    assert a.ok and b.ok, (a.failures, b.failures)
    ours = [p.relative_to(local) for p in _outputs(local)]
    assert ours and ours == [p.relative_to(remote) for p in _outputs(remote)]
    for rel in ours:
        assert (remote / rel).read_bytes() == (local / rel).read_bytes(), rel
    assert_like_tree(remote, release)
    gets = [r for r in server.requests() if r.method == "GET"]
    assert gets and all(r.status in (200, 206) for r in gets)


def test_nginx_404_and_403_both_mean_absent(make_nginx, release, tmp_path):
    root = tmp_path / "www"
    key = next(p for p in (release / "cdn").rglob("*.jsonl")).relative_to(release / "cdn")
    for where in (root / key, root / DENIED / key):
        where.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(release / "cdn" / key, where)
    server = make_nginx(root)
    store = HttpsStore(server.https, Settings(progress=False))
    data = (release / "cdn" / key).read_bytes()
    assert store.fetch(key.as_posix()) == data
    assert store.reader(key.as_posix()).read_at(2, 10) == data[2:12]
    for absent in (f"{key.as_posix()}.missing", f"{DENIED}/{key.as_posix()}"):
        assert store.info(absent) is None
        assert store.fetch(absent) is None
        with pytest.raises(SourceNotFound):
            store.reader(absent)
    statuses = [r.status for r in server.requests()]
    assert statuses.count(404) == 3 and statuses.count(403) == 3  # info, fetch, reader


def test_nginx_https_untrusted_certificate_fails(make_nginx, release, tmp_path, monkeypatch):
    """Without the test certificate trusted, HTTPS refuses the server: TLS is really checked."""
    server = make_nginx(release / "cdn")
    monkeypatch.setenv("SSL_CERT_FILE", str(Path(tmp_path) / "no-such-ca.pem"))
    store = HttpsStore(server.https, Settings(progress=False))
    with pytest.raises(RemoteUntrusted, match="SSL_CERT_FILE"):
        store.info("improvised/dev/metadata/vad/x.jsonl")
