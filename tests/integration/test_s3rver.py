"""The S3 path against s3rver, a server we did not write (beside moto, see test_remote_ingest).

s3rver checks signatures and ignores ``If-Match``: an object overwritten while it is being read
came back spliced from two versions until every response's ETag and length were checked
against the pinned version. The per-file ingest from it equals the local copy's.
"""

from __future__ import annotations

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.errors import ObjectChanged
from seamless_catalog.remote.s3 import S3Store
from tests.fakes import s3
from tests.integration.test_remote_ingest import (
    _assert_same_metadata,
    _ingest,
    local_cdn_catalog,  # noqa: F401  (a module fixture, used by name)
)

KEY = "improvised/dev/metadata/vad/a.jsonl"


@pytest.fixture
def bucket(s3rver, tmp_path) -> tuple[str, object]:
    obj = tmp_path / KEY
    obj.parent.mkdir(parents=True)
    obj.write_bytes(b"first version\n" * 100)
    uri = s3.upload_per_file(s3rver, tmp_path, groups=("metadata",))
    return uri, s3.s3_client(s3rver)


def test_s3rver_ignores_if_match(bucket):
    """The premise: s3rver answers a GetObject whose If-Match names another version."""
    uri, client = bucket
    name = uri.removeprefix("s3://")
    got = client.get_object(Bucket=name, Key=KEY, IfMatch='"0123456789abcdef"', Range="bytes=0-4")
    assert got["Body"].read() == b"first"


@pytest.mark.parametrize("body", [b"SECOND version\n" * 100, b"second, longer\n" * 100])
def test_s3rver_overwrite_mid_read_fails_the_read(bucket, s3rver, body):
    uri, client = bucket
    store = S3Store(uri, Settings(aws_endpoint_url=s3rver))
    reader = store.reader(KEY)
    before = reader.etag
    assert reader.read_at(0, 5) == b"first"
    client.put_object(Bucket=uri.removeprefix("s3://"), Key=KEY, Body=body)
    after = store.info(KEY).etag
    with pytest.raises(ObjectChanged) as e:
        reader.read_at(5, 30)
    if len(body) == reader.size:  # same length: only the ETag tells the versions apart
        assert f"ETag {before} -> {after}" in str(e.value)


@pytest.mark.slow
def test_s3rver_per_file_ingest_equals_local(
    s3rver,
    release,
    local_cdn_catalog,  # noqa: F811
    tmp_path,
):
    uri = s3.upload_per_file(s3rver, release / "cdn", prefix="seamless_interaction")
    settings = Settings(aws_endpoint_url=s3rver, progress=False)
    result = _ingest(release, tmp_path / "cat", [uri], settings)
    assert result.ok, result.issues
    _assert_same_metadata(tmp_path / "cat", local_cdn_catalog)
