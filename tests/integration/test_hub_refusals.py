"""What the Hub refuses, said as what is missing: the ``X-Error-Code`` of a 401/403/404.

The real Hub answers ``401`` for a missing repo as for a private or gated one, so "set HF_TOKEN"
is only right where a token helps. Our Hub server answers as the real Hub does (checked here
against the real ``huggingface_hub`` client, whose ``hf_raise_for_status`` reads the same
codes); our client (``HubStore``) turns each code into its own message. Also: a version change
seen by S3's ``If-Match`` names both versions.
"""

from __future__ import annotations

import pytest
import urllib3
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    GatedRepoError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from seamless_catalog.config import Settings
from seamless_catalog.errors import ObjectChanged, RemoteAccessDenied, SourceNotFound
from seamless_catalog.remote.hub import HubStore

REPO = "facebook/seamless-interaction"
KEY = "improvised/dev/0000/0000.tar"


def _store(server, repo: str = REPO, token: str | None = None, rev: str = "") -> HubStore:
    uri = f"hf://datasets/{repo}" + (f"@{rev}" if rev else "")
    return HubStore(uri, Settings(hf_endpoint=server.endpoint, hf_token=token))


def _key(server) -> str:
    return next(p for p in server.snapshot.files if p.endswith(".tar"))


# --------------------------------------------------------------- our Hub server, as the real Hub


def test_server_answers_like_the_hub(hub_server):
    http = urllib3.PoolManager()
    head = http.request("HEAD", f"{hub_server.endpoint}/api/datasets/{REPO}")
    assert head.status == 200 and int(head.headers["Content-Length"]) > 0
    missing = http.request("GET", f"{hub_server.endpoint}/api/datasets/facebook/other")
    assert missing.status == 401 and missing.headers["X-Error-Code"] == "RepoNotFound"
    resolve = http.request(
        "HEAD", f"{hub_server.endpoint}/datasets/facebook/other/resolve/main/x.tar", redirect=False
    )
    assert resolve.status == 401 and resolve.headers["X-Error-Code"] == "RepoNotFound"
    api = HfApi(endpoint=hub_server.endpoint, token=False)
    assert api.repo_exists(REPO, repo_type="dataset")
    assert not api.repo_exists("facebook/other", repo_type="dataset")
    assert not api.revision_exists(REPO, "v9", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("facebook/other")
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info(REPO, revision="v9")


def test_gated_server_as_huggingface_hub_sees_it(make_hub_server):
    server = make_hub_server(token="hf_ok", gated=True, unaccepted_tokens=("hf_new",))
    anonymous = HfApi(endpoint=server.endpoint, token=False)
    assert anonymous.repo_exists(REPO, repo_type="dataset")  # GatedRepoError: it exists
    with pytest.raises(GatedRepoError):
        anonymous.dataset_info(REPO)
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=server.endpoint, token="hf_new").dataset_info(REPO)
    assert HfApi(endpoint=server.endpoint, token="hf_ok").dataset_info(REPO).gated == "auto"


# --------------------------------------------------------------- our client's messages


def test_missing_repo_is_not_found_not_a_token_problem(hub_server):
    store = _store(hub_server, "facebook/other")
    for call in (lambda: store.info(KEY), lambda: list(store.list())):
        with pytest.raises(SourceNotFound, match="no dataset repo facebook/other") as e:
            call()
        assert "check ORG/NAME" in str(e.value)
        assert "if it is private, set HF_TOKEN" in str(e.value)


def test_missing_revision_names_the_revision(hub_server):
    store = _store(hub_server, rev="v9")
    for call in (lambda: store.info(_key(hub_server)), lambda: list(store.list())):
        with pytest.raises(SourceNotFound, match="has no revision 'v9'"):
            call()


def test_missing_file_is_absent(hub_server):
    store = _store(hub_server)
    assert store.info("improvised/dev/nope.tar") is None
    assert store.info(_key(hub_server)) is not None


def test_gated_repo_says_accept_the_terms_then_set_the_token(make_hub_server):
    server = make_hub_server(token="hf_ok", gated=True, unaccepted_tokens=("hf_new",))
    key = _key(server)
    page = f"{server.endpoint}/datasets/{REPO}"
    anonymous = _store(server)
    for call in (lambda: anonymous.info(key), lambda: list(anonymous.list())):
        with pytest.raises(RemoteAccessDenied, match="is gated") as e:
            call()
        text = str(e.value)
        assert f"accept its terms at {page}" in text
        assert text.index("accept its terms") < text.index("then set HF_TOKEN")
    unaccepted = _store(server, token="hf_new")
    with pytest.raises(RemoteAccessDenied, match="HF_TOKEN has no access yet") as e:
        unaccepted.info(key)
    assert page in str(e.value)
    assert _store(server, token="hf_ok").info(key).size == server.snapshot.files[key].size


def test_invalid_token_is_said_so(make_hub_server):
    server = make_hub_server(token="hf_ok")
    with pytest.raises(RemoteAccessDenied, match="does not accept HF_TOKEN"):
        _store(server, token="hf_bad").info(_key(server))
    with pytest.raises(SourceNotFound, match="set HF_TOKEN to a token that can read it"):
        _store(server).info(_key(server))  # private and no token: the Hub says RepoNotFound


# --------------------------------------------------------------- S3: both versions named


def test_s3_if_match_refusal_names_both_versions(make_s3_bucket, s3_env, tmp_path):
    from seamless_catalog.remote.s3 import S3Store
    from tests.fakes.s3 import s3_client

    obj = tmp_path / "improvised/dev/metadata/vad/a.jsonl"
    obj.parent.mkdir(parents=True)
    obj.write_bytes(b"first version\n" * 100)
    uri = make_s3_bucket(tmp_path, groups=("metadata",))
    store = S3Store(uri, Settings(aws_endpoint_url=s3_env))
    key = next(i.key for i in store.list())
    reader = store.reader(key)
    assert reader.read_at(0, 5) == b"first"
    before = store.info(key).etag
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    full = f"{prefix}/{key}" if prefix else key
    s3_client(s3_env).put_object(Bucket=bucket, Key=full, Body=b"second version\n" * 100)
    after = store.info(key).etag
    assert before and after and before != after
    with pytest.raises(ObjectChanged) as e:
        reader.read_at(5, 10)
    assert f"ETag {before} -> {after}" in str(e.value)
