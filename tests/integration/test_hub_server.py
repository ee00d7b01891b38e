"""The test Hub server, driven by the real ``huggingface_hub`` client and by raw ``httpx2``."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from huggingface_hub import (
    HfApi,
    HfFileSystem,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile, RepoFolder

if TYPE_CHECKING:
    from tests.fakes.hub import HubServer

REPO = "facebook/seamless-interaction"
TAR = "improvised/dev/0000/0000.tar"
SMALL = "extras/meta/007.json"
HTTP = httpx2.Client(timeout=10)  # raw calls; one client, as creating one costs ~0.25 s


@pytest.fixture(scope="module", autouse=True)
def _close_raw_client():
    yield
    HTTP.close()


def disk_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def api(server: HubServer, **kwargs) -> HfApi:
    return HfApi(endpoint=server.endpoint, token=kwargs.pop("token", False), **kwargs)


def hffs(server: HubServer, **kwargs) -> HfFileSystem:
    kwargs.setdefault("token", False)
    return HfFileSystem(endpoint=server.endpoint, skip_instance_cache=True, **kwargs)


def download(server: HubServer, path: str, cache_dir: Path) -> str:
    return hf_hub_download(
        REPO, path, repo_type="dataset", endpoint=server.endpoint, token=False, cache_dir=cache_dir
    )


def cdn_location(server: HubServer, path: str = TAR) -> str:
    response = HTTP.head(server.resolve_url(path))
    assert response.status_code == 302
    return response.headers["Location"]


# --------------------------------------------------------------------------- listing and info


def test_list_repo_tree_recursive_follows_pagination(hub_server: HubServer, hub_repo: Path):
    on_disk = disk_files(hub_repo)
    entries = list(api(hub_server).list_repo_tree(REPO, repo_type="dataset", recursive=True))

    files = {e.path: e for e in entries if isinstance(e, RepoFile)}
    folders = {e.path for e in entries if isinstance(e, RepoFolder)}
    assert set(files) == set(on_disk)
    assert {"improvised", "improvised/dev/0000", "extras/meta"} <= folders
    tree_calls = [r for r in hub_server.stats.snapshot() if "/tree/" in r.url_path]
    assert len(tree_calls) == -(-len(entries) // 10) >= 4  # page_size=10
    assert sum("cursor=" not in r.url_path for r in tree_calls) == len(tree_calls)

    tar = files[TAR]
    assert tar.size == len(on_disk[TAR])
    assert tar.lfs is not None and tar.lfs.sha256 == hashlib.sha256(on_disk[TAR]).hexdigest()
    small = files[SMALL]
    assert small.lfs is None
    assert (
        small.blob_id
        == hashlib.sha1(b"blob %d\0" % len(on_disk[SMALL]) + on_disk[SMALL]).hexdigest()
    )


def test_list_repo_tree_subfolder_expand_and_missing(hub_server: HubServer):
    hf = api(hub_server)
    names = [e.path for e in hf.list_repo_tree(REPO, "improvised/dev/0000", repo_type="dataset")]
    assert names == ["improvised/dev/0000/0000.tar", "improvised/dev/0000/0002.tar"]

    expanded = list(hf.list_repo_tree(REPO, "extras/meta", repo_type="dataset", expand=True))
    assert len(expanded) == 30
    assert all(e.last_commit is not None and e.last_commit.oid == hub_server.sha for e in expanded)
    assert hub_server.stats.by_kind["api"] == 1 + 30 // 5  # expand_page_size=5

    with pytest.raises(EntryNotFoundError):
        list(hf.list_repo_tree(REPO, "improvised/nope", repo_type="dataset"))


def test_dataset_info_revisions_and_missing_repo(hub_server: HubServer, hub_repo: Path):
    hf = api(hub_server)
    info = hf.dataset_info(REPO, files_metadata=True)
    assert info.sha == hub_server.sha and len(info.sha) == 40
    sizes = {s.rfilename: s.size for s in info.siblings}
    assert sizes == {k: len(v) for k, v in disk_files(hub_repo).items()}
    assert hf.repo_info(REPO, repo_type="dataset", revision=hub_server.sha).sha == hub_server.sha

    with pytest.raises(RevisionNotFoundError):
        hf.dataset_info(REPO, revision="v9")
    with pytest.raises(RepositoryNotFoundError):
        hf.dataset_info("facebook/other")
    with pytest.raises(RepositoryNotFoundError):
        hf.model_info(REPO)


def test_get_paths_info(hub_server: HubServer):
    infos = api(hub_server).get_paths_info(
        REPO, [TAR, "improvised/dev", "nope.txt"], repo_type="dataset"
    )
    assert [(type(i).__name__, i.path) for i in infos] == [
        ("RepoFile", TAR),
        ("RepoFolder", "improvised/dev"),
    ]
    assert infos[0].lfs is not None


# --------------------------------------------------------------------------- resolve and downloads


def test_file_metadata_small_and_lfs(hub_server: HubServer, hub_repo: Path):
    tar = (hub_repo / TAR).read_bytes()
    url = hf_hub_url(REPO, TAR, repo_type="dataset", endpoint=hub_server.endpoint)
    assert url == hub_server.resolve_url(TAR)
    meta = get_hf_file_metadata(url, token=False)
    assert meta.size == len(tar)
    assert meta.etag == hashlib.sha256(tar).hexdigest()
    assert meta.commit_hash == hub_server.sha
    assert meta.location.startswith(hub_server.cdn_endpoint + "/repos/")

    small = (hub_repo / SMALL).read_bytes()
    url = hf_hub_url(REPO, SMALL, repo_type="dataset", endpoint=hub_server.endpoint)
    meta = get_hf_file_metadata(url, token=False)
    assert (meta.size, meta.location) == (len(small), url)
    assert meta.etag == hashlib.sha1(b"blob %d\0" % len(small) + small).hexdigest()
    assert hub_server.stats.by_kind == {"resolve": 2}  # HEAD does not follow the CDN redirect


@pytest.mark.parametrize("path", [SMALL, TAR])
def test_hf_hub_download_into_tmp_cache(hub_server: HubServer, hub_repo: Path, tmp_path, path):
    local = download(hub_server, path, tmp_path / "cache")
    assert Path(local).read_bytes() == (hub_repo / path).read_bytes()
    assert str(tmp_path / "cache") in local
    assert hub_server.stats.by_kind["cdn"] == (1 if path == TAR else 0)

    hub_server.reset_counters()
    download(hub_server, path, tmp_path / "cache")  # cached: one HEAD only
    assert [(r.method, r.kind) for r in hub_server.stats.snapshot()] == [("HEAD", "resolve")]


def test_missing_file_raises_entry_not_found(hub_server: HubServer, tmp_path):
    url = hf_hub_url(REPO, "improvised/dev/0000/0001.tar", repo_type="dataset")
    url = url.replace("https://huggingface.co", hub_server.endpoint)
    with pytest.raises(EntryNotFoundError):
        get_hf_file_metadata(url, token=False)
    with pytest.raises(EntryNotFoundError):
        download(hub_server, "improvised/dev/0000/0001.tar", tmp_path)
    response = HTTP.get(hub_server.resolve_url("nope"))
    assert response.headers["X-Error-Code"] == "EntryNotFound"
    assert response.headers["X-Repo-Commit"] == hub_server.sha
    assert response.json() == {"error": "Entry not found"}


# --------------------------------------------------------------------------- ranged reads


def test_hffs_ranged_reads_return_exact_bytes_through_redirect(
    hub_server: HubServer, hub_repo: Path
):
    data = (hub_repo / TAR).read_bytes()
    fs = hffs(hub_server)
    path = f"datasets/{REPO}/{TAR}"

    with fs.open(path, block_size=1024) as f:
        header = f.read(512)  # the first tar header, as the product will read it
        f.seek(10_000)
        middle = f.read(3_000)
    first = tarfile.TarInfo.frombuf(header, tarfile.ENCODING, "surrogateescape")
    assert first.name == "V00_S0809_I00000582_P0947.json"
    assert header == data[:512]
    assert middle == data[10_000:13_000]
    assert fs.cat_file(path, start=20_001, end=20_777) == data[20_001:20_777]
    assert fs.read_block(path, 30_000, 1_234) == data[30_000:31_234]

    cdn = [r for r in hub_server.stats.snapshot() if r.kind == "cdn"]
    assert cdn and all(r.status == 206 and r.range for r in cdn)
    assert all(not r.authorized for r in cdn)
    assert hub_server.stats.bytes_by_kind()["cdn"] < len(data)  # no whole-file transfer


def test_range_ignoring_server_would_be_caught(hub_server: HubServer, hub_repo: Path):
    """The exact-bytes check above has teeth: with Range ignored the same read is wrong."""
    data = (hub_repo / TAR).read_bytes()
    hub_server.faults.ignore_range(kind="cdn")
    got = hffs(hub_server).cat_file(f"datasets/{REPO}/{TAR}", start=20_001, end=20_777)
    assert got != data[20_001:20_777]
    assert [r.status for r in hub_server.stats.snapshot() if r.kind == "cdn"] == [200]


@pytest.mark.parametrize(
    ("template", "expected"),
    [  # q: a quarter of the file size n; expected (first, last) byte, both inclusive
        ("bytes={q}-{h}", lambda n, q: (q, n // 2)),
        ("bytes={q}-", lambda n, q: (q, n - 1)),
        ("bytes=-{q}", lambda n, q: (n - q, n - 1)),
        ("bytes=0-0", lambda n, q: (0, 0)),
        ("bytes={q}-{n10}", lambda n, q: (q, n - 1)),  # end clipped to the file
        ("bytes=-{n10}", lambda n, q: (0, n - 1)),  # suffix longer than the file
    ],
    ids=["a-b", "a-", "-n", "0-0", "a-past-end", "-more-than-size"],
)
@pytest.mark.parametrize("path", [TAR, SMALL])  # through the CDN redirect, and served by the Hub
def test_range_forms(hub_server: HubServer, hub_repo: Path, path, template, expected):
    data = (hub_repo / path).read_bytes()
    n = len(data)
    start, end = expected(n, n // 4)
    response = HTTP.get(
        hub_server.resolve_url(path),
        headers={"Range": template.format(q=n // 4, h=n // 2, n10=10 * n)},
        follow_redirects=True,
    )
    assert response.status_code == 206
    assert response.content == data[start : end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{n}"
    assert response.headers["Content-Length"] == str(end + 1 - start)


@pytest.mark.parametrize("path", [TAR, SMALL])
def test_no_range_and_unsatisfiable_range(hub_server: HubServer, hub_repo: Path, path):
    data = (hub_repo / path).read_bytes()
    whole = HTTP.get(hub_server.resolve_url(path), follow_redirects=True)
    assert (whole.status_code, whole.content) == (200, data)
    assert whole.headers["Accept-Ranges"] == "bytes"
    for header in (f"bytes={len(data)}-", "bytes=-0"):
        response = HTTP.get(
            hub_server.resolve_url(path), headers={"Range": header}, follow_redirects=True
        )
        assert response.status_code == 416
        assert response.headers["Content-Range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize(
    ("header", "status"),
    [("bytes=5-2", 416), ("bytes=0-1,4-5", 200), ("items=0-1", 200), ("bytes=a-b", 200)],
)
def test_odd_range_headers(hub_server: HubServer, hub_repo: Path, header, status):
    """Reversed ranges are unsatisfiable; multi-range and malformed headers are ignored."""
    response = HTTP.get(hub_server.resolve_url(SMALL), headers={"Range": header})
    assert response.status_code == status
    if status == 200:
        assert response.content == (hub_repo / SMALL).read_bytes()


# --------------------------------------------------------------------------- faults


def test_fault_status_with_retry_after_times_and_path(hub_server: HubServer):
    hub_server.faults.status(429, retry_after=7, times=2, path=TAR)
    other = HTTP.head(hub_server.resolve_url(SMALL))
    assert other.status_code == 200  # path filter: not consumed
    for _ in range(2):
        limited = HTTP.head(hub_server.resolve_url(TAR))
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert HTTP.head(hub_server.resolve_url(TAR)).status_code == 302
    assert hub_server.faults.pending == []


@pytest.mark.parametrize("code", [500, 503])
def test_fault_server_errors_are_retried_by_the_client(
    hub_server: HubServer, hub_repo: Path, hf_backoff_sleeps, code
):
    data = (hub_repo / TAR).read_bytes()
    hub_server.faults.status(code, kind="cdn")
    got = hffs(hub_server).cat_file(f"datasets/{REPO}/{TAR}", start=100, end=200)
    assert got == data[100:200]
    assert [r.status for r in hub_server.stats.snapshot() if r.kind == "cdn"] == [code, 206]
    assert hf_backoff_sleeps == [1]


def test_fault_429_retry_after_is_honoured_by_paginated_listing(
    hub_server: HubServer, hf_backoff_sleeps
):
    hub_server.faults.status(429, retry_after=3, kind="api")
    entries = list(api(hub_server).list_repo_tree(REPO, "extras/meta", repo_type="dataset"))
    assert len(entries) == 30
    assert hf_backoff_sleeps == [4.0]  # Retry-After + 1 s, as huggingface_hub waits


def test_repo_info_is_not_retried_by_the_client(hub_server: HubServer, hf_backoff_sleeps):
    """huggingface_hub 2.4.0 sends repo info and paths-info without backoff: a 429 surfaces."""
    hub_server.faults.status(429, retry_after=3, kind="api")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api(hub_server).dataset_info(REPO)
    assert excinfo.value.response.status_code == 429
    assert hf_backoff_sleeps == []


def test_fault_reset_after(hub_server: HubServer, hub_repo: Path, tmp_path, hf_backoff_sleeps):
    data = (hub_repo / TAR).read_bytes()
    hub_server.faults.reset_after(5_000, kind="cdn")
    with HTTP.stream("GET", cdn_location(hub_server)) as response:
        assert response.headers["Content-Length"] == str(len(data))
        received = bytearray()
        with pytest.raises(httpx2.ReadError):  # ECONNRESET, not a clean end of stream
            for chunk in response.iter_bytes():
                received += chunk
    assert bytes(received) == data[: len(received)] and len(received) <= 5_000
    assert hub_server.stats.snapshot()[-1].body_bytes == 5_000

    # Characterisation of huggingface_hub 2.4.0: http_get resumes after RemoteProtocolError,
    # timeouts and connect errors, but a reset (ReadError) escapes hf_hub_download.
    hub_server.faults.reset_after(5_000, kind="cdn")
    with pytest.raises(httpx2.ReadError):
        download(hub_server, TAR, tmp_path)
    assert hf_backoff_sleeps == []


def test_fault_short_body(hub_server: HubServer, hub_repo: Path):
    data = (hub_repo / SMALL).read_bytes()
    hub_server.faults.short_body(missing=10, kind="resolve")
    with HTTP.stream("GET", hub_server.resolve_url(SMALL)) as response:
        assert response.headers["Content-Length"] == str(len(data))
        with pytest.raises(httpx2.RemoteProtocolError):
            response.read()
    assert hub_server.stats.snapshot()[-1].body_bytes == len(data) - 10
    assert HTTP.get(hub_server.resolve_url(SMALL)).content == data


@pytest.mark.parametrize(("chunk_size", "resumed_at"), [(1_000, 5_000), (None, 0)])
def test_short_body_download_is_resumed(
    hub_server: HubServer,
    hub_repo: Path,
    tmp_path,
    hf_backoff_sleeps,
    monkeypatch,
    chunk_size,
    resumed_at,
):
    """hf_hub_download resumes after the last whole chunk it wrote (10 MiB by default: 0 here)."""
    from huggingface_hub import constants

    if chunk_size is not None:
        monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", chunk_size)
    data = (hub_repo / TAR).read_bytes()
    hub_server.faults.short_body(missing=len(data) - 5_000, kind="cdn")
    assert Path(download(hub_server, TAR, tmp_path)).read_bytes() == data
    cdn = [
        (r.range, r.status, r.body_bytes) for r in hub_server.stats.snapshot() if r.kind == "cdn"
    ]
    retry = (f"bytes={resumed_at}-", 206) if resumed_at else (None, 200)
    assert cdn == [(None, 200, 5_000), (*retry, len(data) - resumed_at)]
    assert hf_backoff_sleeps == [1]


def test_fault_wrong_content_range(hub_server: HubServer, hub_repo: Path):
    data = (hub_repo / TAR).read_bytes()
    hub_server.faults.wrong_content_range(shift=3)
    response = HTTP.get(cdn_location(hub_server), headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 103-202/{len(data)}"
    assert response.content == data[103:203]


def test_fault_ignore_range_raw(hub_server: HubServer, hub_repo: Path):
    data = (hub_repo / SMALL).read_bytes()
    hub_server.faults.ignore_range(path=SMALL)
    response = HTTP.get(hub_server.resolve_url(SMALL), headers={"Range": "bytes=1-2"})
    assert (response.status_code, response.content) == (200, data)
    assert "Content-Range" not in response.headers


@pytest.mark.parametrize("after_bytes", [None, 100])
def test_fault_stall_times_out_client_and_stop_is_prompt(hub_server: HubServer, after_bytes):
    hub_server.faults.stall(30, after_bytes=after_bytes, kind="cdn")
    with pytest.raises(httpx2.ReadTimeout):
        HTTP.get(cdn_location(hub_server), timeout=0.2)
    hub_server.stop()  # must not wait for the 30 s stall


def test_fault_expire_redirects(hub_server: HubServer, hub_repo: Path):
    hub_server.faults.expire_redirects(path=TAR, times=2)
    stale = cdn_location(hub_server)
    expires = int(parse_qs(urlsplit(stale).query)["Expires"][0])
    assert expires < hub_server.clock()
    response = HTTP.get(stale)
    assert response.status_code == 403 and b"Request has expired" in response.content
    with pytest.raises(HfHubHTTPError) as excinfo:
        hffs(hub_server).cat_file(f"datasets/{REPO}/{TAR}", start=0, end=10)
    assert excinfo.value.response.status_code == 403
    fresh = HTTP.get(cdn_location(hub_server))
    assert fresh.content == (hub_repo / TAR).read_bytes()


def test_signed_url_expires_with_the_clock_and_rejects_tampering(make_hub_server):
    now = [1_800_000_000.0]
    server = make_hub_server(redirect_ttl=60, clock=lambda: now[0])
    location = cdn_location(server)
    assert HTTP.get(location).status_code == 200
    now[0] += 61
    assert HTTP.get(location).status_code == 403
    tampered = location.replace("Expires=", "Expires=9")
    assert HTTP.get(tampered).status_code == 403


# --------------------------------------------------------------------------- auth and counters


def test_token_required_on_hub_but_not_on_cdn(make_hub_server, hub_repo: Path):
    server = make_hub_server(token="hf_secret")
    with pytest.raises(RepositoryNotFoundError):
        api(server).dataset_info(REPO)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api(server, token="hf_wrong").dataset_info(REPO)
    assert excinfo.value.response.status_code == 401
    assert api(server, token="hf_secret").dataset_info(REPO).private is True

    server.reset_counters()
    fs = hffs(server, token="hf_secret")
    data = (hub_repo / TAR).read_bytes()
    assert fs.cat_file(f"datasets/{REPO}/{TAR}", start=5, end=50) == data[5:50]
    records = server.stats.snapshot()
    assert all(r.authorized for r in records if r.kind != "cdn")
    assert [r.authorized for r in records if r.kind == "cdn"] == [False]


def test_counters_count_and_reset(hub_server: HubServer, hub_repo: Path):
    small = (hub_repo / SMALL).read_bytes()
    HTTP.get(hub_server.resolve_url(SMALL))
    HTTP.get(cdn_location(hub_server), headers={"Range": "bytes=0-99"})
    HTTP.get(f"{hub_server.endpoint}/api/datasets/{REPO}")
    stats = hub_server.stats
    assert stats.total == 4
    assert stats.by_kind == {"resolve": 2, "cdn": 1, "api": 1}
    assert stats.by_file == {SMALL: 1, TAR: 2}
    assert stats.by_path[f"/api/datasets/{REPO}"] == 1
    assert stats.bytes_by_kind()["cdn"] == 100
    assert stats.bytes_by_kind()["resolve"] >= len(small)
    hub_server.reset_counters()
    assert (stats.total, stats.bytes_sent) == (0, 0)


def test_refresh_picks_up_new_files(make_hub_server, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("one")
    server = make_hub_server(root)
    before = server.sha
    (root / "b.txt").write_text("two")
    server.refresh()
    assert server.sha != before
    names = [e.path for e in api(server).list_repo_tree(REPO, repo_type="dataset")]
    assert names == ["a.txt", "b.txt"]


def test_stop_closes_keep_alive_connections(make_hub_server):
    server = make_hub_server()
    url = server.resolve_url(SMALL)
    assert HTTP.get(url).status_code == 200  # leaves a pooled keep-alive connection
    server.stop()
    with pytest.raises(httpx2.TransportError):
        HTTP.get(url)
    assert server.stats.total == 1


def test_real_hub_is_unreachable_in_tests(hf_isolated):
    with pytest.raises(httpx2.ConnectError, match="disabled in tests"):
        HfApi(token=False).dataset_info(REPO)  # default endpoint: huggingface.co
