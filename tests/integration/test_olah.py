"""The Hub path against olah, a Hub mirror we did not write (offline, over a local git repo).

olah answers resolve with 200 (no redirect, no X-Linked-*) and ignores Range: the ingest must
still equal the local tars' catalog, and read each tar once (before, the whole tar came back
for every member read: 444 MB moved to read 4.6 MB).
"""

from __future__ import annotations

import pytest

from seamless_catalog.config import Settings
from seamless_catalog.errors import SourceNotFound
from seamless_catalog.remote import http
from seamless_catalog.remote.hub import HubStore
from tests.integration.test_remote_ingest import (
    ALL_PROBES,
    HF,
    _ingest,
    _tars,
    assert_same_catalog,
)

pytestmark = pytest.mark.slow  # olah takes a few seconds to start; the release is ingested


def test_olah_ingest_equals_local_tars_reading_each_tar_once(
    olah_hub, release, hf_catalog, tmp_path
):
    settings = Settings(hf_endpoint=olah_hub.endpoint, progress=False, remote_probes=ALL_PROBES)
    before = http.TOTAL.bytes
    result = _ingest(release, tmp_path / "cat", [HF], settings)
    moved = http.TOTAL.bytes - before
    assert result.ok, result.issues
    assert_same_catalog(tmp_path / "cat", hf_catalog)
    tar_bytes = sum((release / "hf" / rel).stat().st_size for rel in _tars(release))
    print(f"\nolah: {moved} bytes moved for {tar_bytes} bytes of tars")
    assert moved <= tar_bytes + 64 * 1024  # each tar whole once (+ small files, if any)


def test_olah_resolve_and_missing_repo(olah_hub, release):
    store = HubStore(HF, Settings(hf_endpoint=olah_hub.endpoint, progress=False))
    rel = _tars(release)[0]
    info = store.info(rel)
    assert info is not None and info.size == (release / "hf" / rel).stat().st_size
    assert store.reader(rel).read_at(0, 512) == (release / "hf" / rel).read_bytes()[:512]
    other = HubStore("hf://datasets/facebook/other", Settings(hf_endpoint=olah_hub.endpoint))
    with pytest.raises(SourceNotFound, match="no dataset repo facebook/other"):
        other.info(rel)
