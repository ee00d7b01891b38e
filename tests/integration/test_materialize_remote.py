"""Materialize from per-file remote copies: S3 (moto) and HTTPS (the CDN test server)."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.materialize import materialize
from tests.integration.test_materialize import assert_like_tree

pytestmark = pytest.mark.slow  # the release's media uploaded to moto and served by the fake CDN

pytest.importorskip("seamless_catalog.remote.dispatch")
GROUPS = ("audio", "video", "metadata", "annotations", "smplh", "boxes_and_keypoints", "movement")


def _ids(release) -> list[str]:
    q = json.loads((release / "release.json").read_text())["quirks"]
    return sorted({q["annotation_3p"][0], q["empty_vad"][0]})


def _pick(release) -> str:
    return "select unnest(?::varchar[]) as file_id".replace("?", repr(_ids(release)))


def test_https_cdn_merged_like_the_tree(make_cdn_server, hf_catalog, release, tmp_path):
    server = make_cdn_server(release / "cdn")
    settings = Settings(progress=False)
    r = materialize(
        hf_catalog, sql=_pick(release), to=tmp_path, source=server.endpoint, settings=settings
    )
    assert r.ok, r.failures
    assert_like_tree(tmp_path, release)
    # per object: one HEAD while planning (its size and version), then one GET; no other
    records = server.stats.snapshot()
    methods = Counter((rec.file, rec.method) for rec in records)
    fetched = {f for f, m in methods if m == "GET"}
    assert len(fetched) > 10 and set(methods.values()) == {1}
    assert fetched <= {f for f, m in methods if m == "HEAD"}
    again = materialize(
        hf_catalog, sql=_pick(release), to=tmp_path, source=server.endpoint, settings=settings
    )
    assert again.bytes_fetched == 0


def test_s3_merged_like_the_tree(make_s3_bucket, s3_env, hf_catalog, release, tmp_path):
    small = tmp_path / "cdn"  # only the selected files' objects: uploads stay quick
    for fid in _ids(release):
        for f in (release / "cdn").rglob(f"{fid}.*"):
            dest = small / f.relative_to(release / "cdn")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    uri = make_s3_bucket(small, groups=GROUPS)
    settings = Settings(aws_endpoint_url=s3_env, progress=False)
    to = tmp_path / "out"
    r = materialize(hf_catalog, sql=_pick(release), to=to, source=uri, settings=settings)
    assert r.ok, r.failures
    assert_like_tree(to, release)
