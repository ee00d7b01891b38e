"""Remote ingest equals local ingest: the Hub's tars (``tests.fakes.hub``), the per-file copy on
S3 (moto) and over HTTPS (``tests.fakes.cdn``), under faults, interrupted and resumed.

Network only to 127.0.0.1; backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.config import Settings
from seamless_catalog.ingestion.pipeline import RETRY, ingest
from seamless_catalog.remote import http

# remote ingests of the release from the fake Hub, CDN and S3, under faults, killed and resumed
pytestmark = pytest.mark.slow

HF = "hf://datasets/facebook/seamless-interaction"
ALL_PROBES = ("wav", "mp4", "npz")
META = ("documents", "transcript_segments", "transcript_words", "vad_segments", "annotations")
NOT_COMPARED = ("ingest_runs", "units")
ORIGINISH = ("source_unit", "origin", "run_id", "source")


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(http, "sleep", waits.append)
    return waits


def _ingest(release: Path, cat: Path, sources: list[str], settings: Settings, **kw):
    return ingest(
        cat,
        sources,
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
        settings=settings,
        **kw,
    )


def _rows(cat: Path, table: str, where: str = "") -> list[tuple]:
    with Catalog.open(cat) as c:
        if table not in c.tables():
            return []  # never written: no rows
        cols = [r[0] for r in c.sql(f"describe select * from raw.{table}").fetchall()]
        keep = ", ".join(f'"{x}"' for x in cols if x not in ORIGINISH)
        return sorted(c.sql(f"select {keep} from raw.{table} {where}").fetchall(), key=repr)


def _tables(cat: Path) -> list[str]:
    with Catalog.open(cat) as c:
        return [t for t in c.tables() if t not in NOT_COMPARED]


def assert_same_catalog(a: Path, b: Path, where: dict[str, str] | None = None) -> None:
    for t in sorted(set(_tables(a)) | set(_tables(b))):
        w = (where or {}).get(t, "")
        assert _rows(a, t, w) == _rows(b, t, w), t


def _tars(release: Path) -> list[str]:
    return sorted(p.relative_to(release / "hf").as_posix() for p in (release / "hf").rglob("*.tar"))


def _samples(release: Path, rel: str) -> int:
    import tarfile

    with tarfile.open(release / "hf" / rel) as tf:
        return len({m.name.split(".")[0] for m in tf.getmembers()})


def _hub(make_hub_server, release):
    return make_hub_server(release / "hf")


# --------------------------------------------------------------------------- the Hub


def test_hub_catalog_equals_local_tars(make_hub_server, release, hf_catalog, tmp_path, sleeps):
    server = _hub(make_hub_server, release)
    settings = Settings(hf_endpoint=server.endpoint, progress=False, remote_probes=ALL_PROBES)
    result = _ingest(release, tmp_path / "cat", [HF], settings)
    assert result.n_units_parsed > len(_tars(release))
    assert_same_catalog(tmp_path / "cat", hf_catalog)
    resolves = [r.file for r in server.stats.snapshot() if r.kind == "resolve"]
    assert sorted(resolves) == _tars(release)  # exactly one resolve per tar
    assert not any(r.authorized for r in server.stats.snapshot() if r.kind == "cdn")


def test_hub_requests_per_tar_with_default_probes(make_hub_server, release, hf_catalog, tmp_path):
    server = _hub(make_hub_server, release)
    settings = Settings(hf_endpoint=server.endpoint, progress=False, workers=3)
    result = _ingest(release, tmp_path / "cat", [HF], settings)
    assert result.ok, result.issues
    by_kind_file: dict[tuple[str, str], int] = {}
    for r in server.stats.snapshot():
        if r.file:
            by_kind_file[(r.kind, r.file)] = by_kind_file.get((r.kind, r.file), 0) + 1
    report = {}
    for rel in _tars(release):
        n = _samples(release, rel)
        gets = by_kind_file.get(("cdn", rel), 0)
        report[rel] = (n, gets)
        assert by_kind_file[("resolve", rel)] == 1
        # a json longer than the adaptive guess (the last json's size) extends its read once
        ranges = [r.range for r in server.stats.snapshot() if r.file == rel and r.range]
        spans = [tuple(int(x) for x in g.removeprefix("bytes=").split("-")) for g in ranges]
        extensions = sum(1 for a, b in zip(spans, spans[1:]) if b[0] == a[1] + 1)
        assert extensions <= n, (rel, n, ranges)
        assert gets - extensions <= 3 * n + 2, (rel, n, gets)  # json+header, npz, wav; +2
    print("\nsamples and ranged GETs per tar:", report)
    api = server.stats.by_kind["api"]
    assert api <= 2  # the tree, listed once (one page here)
    # mp4/npz facts are not probed remotely by default; everything else is the same
    where = {
        "media": "where ext in ('json', 'wav')",
        "features": "where false",
        "files": "where false",  # durations and placeholders come from the mp4/npz probes too
        "derived_files": "where false",  # the files view, stored
    }
    assert_same_catalog(tmp_path / "cat", hf_catalog, where)
    with Catalog.open(tmp_path / "cat") as c:
        assert c.value("select count(*) from raw.features") == 0
        assert c.value("select count(*) from raw.media where ext = 'mp4' and bytes > 0") > 0


def test_hub_faults_are_survived_without_corrupt_rows(
    make_hub_server, release, hf_catalog, tmp_path, sleeps, hf_backoff_sleeps
):
    server = _hub(make_hub_server, release)
    t = _tars(release)
    f = server.faults
    f.reset_after(3_000, path=t[0], kind="cdn")
    f.wrong_content_range(shift=7, path=t[0], kind="cdn")
    f.short_body(missing=100, path=t[1], kind="cdn")
    f.expire_redirects(path=t[1])
    f.status(429, retry_after=2, path=t[2], kind="cdn")
    f.status(503, times=3, path=t[3], kind="cdn")
    f.status(500, path=t[4], kind="resolve")  # a resolve is retried too
    f.ignore_range(path=t[5], kind="cdn")  # the tar is then read whole: no second ranged GET
    f.status(503, times=2, kind="api")  # the tree listing is retried by huggingface_hub
    settings = Settings(hf_endpoint=server.endpoint, progress=False, remote_probes=ALL_PROBES)
    result = _ingest(release, tmp_path / "cat", [HF], settings)
    assert result.ok, result.issues
    assert f.pending == []
    assert_same_catalog(tmp_path / "cat", hf_catalog)
    assert 2 in sleeps or any(s >= 2 for s in sleeps)  # Retry-After honoured
    resolves = sorted(
        r.file for r in server.stats.snapshot() if r.kind == "resolve" and r.status == 302
    )
    assert resolves == sorted([*t, t[1]])  # the expired redirect cost one more resolve


def test_hub_unit_failing_for_good_is_reported_and_read_next_time(
    make_hub_server, release, hf_catalog, tmp_path, sleeps
):
    server = _hub(make_hub_server, release)
    bad = _tars(release)[2]
    server.faults.status(500, times=1000, path=bad, kind="cdn")
    settings = Settings(hf_endpoint=server.endpoint, progress=False, remote_probes=ALL_PROBES)
    cat = tmp_path / "cat"
    first = _ingest(release, cat, [HF], settings)
    assert not first.ok
    assert any(f"tar:{bad}" == loc and "next run" in why for loc, why in first.issues)
    with Catalog.open(cat) as c:
        assert c.value("select count(*) from raw.members where archive_path = ?", [bad]) == 0
        fp = c.value("select fingerprint from raw.units where source_unit = ?", [f"tar:{bad}"])
        assert fp.startswith(RETRY)
    server.faults.clear()
    server.reset_counters()
    second = _ingest(release, cat, [HF], settings)
    assert second.ok and second.n_units_parsed == 1
    assert {r.file for r in server.stats.snapshot() if r.file} == {bad}
    assert_same_catalog(cat, hf_catalog)


def test_failed_reread_keeps_the_rows_of_the_previous_snapshot(
    make_hub_server, release, hf_catalog, tmp_path, sleeps
):
    server = _hub(make_hub_server, release)
    settings = Settings(hf_endpoint=server.endpoint, progress=False, remote_probes=ALL_PROBES)
    cat = tmp_path / "cat"
    assert _ingest(release, cat, [HF], settings).ok
    bad = _tars(release)[2]
    with Catalog.open(cat) as c:
        before = c.value("select count(*) from raw.members where archive_path = ?", [bad])
        fp = c.value("select fingerprint from raw.units where source_unit = ?", [f"tar:{bad}"])
    assert before > 0
    # the tar changes upstream (new fingerprint) but cannot be read this time
    server.faults.status(500, times=1000, path=bad, kind="cdn")
    from seamless_catalog.ingestion import pipeline as run_module

    real = run_module._Run._previous_units

    def stale(self):  # pretend the catalog holds another version of the bad tar
        units = real(self)
        src, _ = units[f"tar:{bad}"]
        units[f"tar:{bad}"] = (src, "an older version")
        return units

    run_module._Run._previous_units = stale
    try:
        second = _ingest(release, cat, [HF], settings)
    finally:
        run_module._Run._previous_units = real
    assert not second.ok
    with Catalog.open(cat) as c:
        assert c.value("select count(*) from raw.members where archive_path = ?", [bad]) == before
        assert c.value("select count(*) from raw.units where source_unit = ?", [f"tar:{bad}"]) == 1
        assert (
            c.value("select fingerprint from raw.units where source_unit = ?", [f"tar:{bad}"])
            == RETRY + fp
        )
    server.faults.clear()
    assert _ingest(release, cat, [HF], settings).ok
    assert_same_catalog(cat, hf_catalog)


RESUME_SCRIPT = textwrap.dedent(
    """
    import sys
    from seamless_catalog.config import Settings
    from seamless_catalog.ingestion.pipeline import ingest
    cat, release, endpoint = sys.argv[1:4]
    settings = Settings(hf_endpoint=endpoint, progress=False, workers=1, flush_seconds=0,
                        remote_probes=("wav", "mp4", "npz"))
    ingest(cat, ["hf://datasets/facebook/seamless-interaction"],
           filelist=release + "/filelist.csv", assets=release + "/assets", settings=settings)
    """
)


def test_killed_remote_ingest_resumes_without_rereading_finished_tars(
    make_hub_server, release, hf_catalog, tmp_path, hf_isolated
):
    server = _hub(make_hub_server, release)
    t = _tars(release)
    server.faults.stall(120, path=t[3], kind="resolve")  # the 4th tar hangs: kill it there
    cat = tmp_path / "cat"
    env = {
        **os.environ,
        "HF_HOME": str(hf_isolated),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "SEAMLESS_CATALOG_PROGRESS": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", RESUME_SCRIPT, str(cat), str(release), server.endpoint], env=env
    )
    try:
        deadline = time.monotonic() + 120
        while not any(r.file == t[3] for r in server.stats.snapshot()):
            assert proc.poll() is None, "the ingest ended before it was killed"
            assert time.monotonic() < deadline, "the ingest never reached the 4th tar"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((cat / "staging").glob("batch-*"))) >= 3
    server.faults.clear()
    server.reset_counters()
    settings = Settings(hf_endpoint=server.endpoint, progress=False, remote_probes=ALL_PROBES)
    result = _ingest(release, cat, [HF], settings)
    assert result.ok
    touched = {r.file for r in server.stats.snapshot() if r.file}
    assert touched == set(t[3:])  # the three finished tars were not read again
    resolves = sorted(r.file for r in server.stats.snapshot() if r.kind == "resolve")
    assert resolves == t[3:]
    assert_same_catalog(cat, hf_catalog)


# --------------------------------------------------------------------------- per-file copy


@pytest.fixture(scope="module")
def local_cdn_catalog(release, tmp_path_factory) -> Path:
    cat = tmp_path_factory.mktemp("local_cdn")
    result = ingest(
        cat,
        [str(release / "cdn")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
        settings=Settings(progress=False),
    )
    assert result.ok, result.issues
    return cat


def _filelist(release: Path) -> list[dict[str, str]]:
    with open(release / "filelist.csv", newline="") as f:
        return list(csv.DictReader(f))


def _expected_gets(release: Path) -> int:
    return sum(
        2 + 2 * (r["has_annotation_1p"] == "1") + 3 * (r["has_annotation_3p"] == "1")
        for r in _filelist(release)
    )


def _absent_transcripts(release: Path) -> list[str]:
    return [
        r["file_id"]
        for r in _filelist(release)
        if (release / "cdn" / r["label"] / r["split"] / "metadata/vad")
        .joinpath(f"{r['file_id']}.jsonl")
        .exists()
        and not (release / "cdn" / r["label"] / r["split"] / "metadata/transcript")
        .joinpath(f"{r['file_id']}.jsonl")
        .exists()
    ]


def _assert_same_metadata(cat: Path, local: Path) -> None:
    for t in META:
        assert _rows(cat, t) == _rows(local, t), t


def test_https_per_file_equals_local(make_cdn_server, release, local_cdn_catalog, tmp_path):
    server = make_cdn_server(release / "cdn")
    settings = Settings(progress=False, workers=4)
    result = _ingest(release, tmp_path / "cat", [server.endpoint], settings)
    assert result.ok, result.issues  # 403s are absences, not issues
    _assert_same_metadata(tmp_path / "cat", local_cdn_catalog)
    gets = [r for r in server.stats.snapshot()]
    assert all(r.method == "GET" and r.range is None for r in gets)
    assert len(gets) == _expected_gets(release)  # one GET per object asked for, no HEAD
    assert any(r.status == 403 for r in gets)
    absent = _absent_transcripts(release)
    assert absent, "the release has a file with VAD but no transcript"
    with Catalog.open(tmp_path / "cat") as c:
        got = c.sql(
            "select transcript_present, vad_present from raw.documents where file_id = ?",
            [absent[0]],
        ).fetchall()
        assert got == [(False, True)]


def test_https_per_file_second_run_is_free_and_uses_the_catalog_filelist(
    make_cdn_server, release, tmp_path
):
    server = make_cdn_server(release / "cdn")
    settings = Settings(progress=False)
    cat = tmp_path / "cat"
    _ingest(release, cat, [server.endpoint], settings)
    server.reset_counters()
    again = ingest(cat, [server.endpoint], settings=settings)  # filelist from the snapshot
    assert again.ok and again.n_units_parsed == 0 and server.stats.total == 0


def test_https_per_file_faults(make_cdn_server, release, local_cdn_catalog, tmp_path, sleeps):
    server = make_cdn_server(release / "cdn")
    f = server.faults
    f.status(503, times=3, kind="cdn")
    f.status(429, retry_after=1, times=2, kind="cdn")
    f.reset_after(10, times=3, kind="cdn")
    f.short_body(missing=5, times=3, kind="cdn")
    result = _ingest(release, tmp_path / "cat", [server.endpoint], Settings(progress=False))
    assert result.ok, result.issues
    assert f.pending == []
    _assert_same_metadata(tmp_path / "cat", local_cdn_catalog)


def test_s3_per_file_equals_local(make_s3_bucket, s3_env, release, local_cdn_catalog, tmp_path):
    uri = make_s3_bucket(release / "cdn", prefix="seamless_interaction")
    settings = Settings(aws_endpoint_url=s3_env, progress=False)
    result = _ingest(release, tmp_path / "cat", [uri], settings)
    assert result.ok, result.issues
    _assert_same_metadata(tmp_path / "cat", local_cdn_catalog)


def test_s3_store_reads_ranges_and_reports_absent(make_s3_bucket, s3_env, release):
    from seamless_catalog.remote.s3 import S3Store

    uri = make_s3_bucket(release / "cdn")
    store = S3Store(uri, Settings(aws_endpoint_url=s3_env))
    keys = [i.key for i in store.list("improvised")]
    assert keys and all(k.startswith("improvised/") for k in keys)
    data = (release / "cdn" / keys[0]).read_bytes()
    assert store.reader(keys[0]).read_at(3, 40) == data[3:43]
    assert store.fetch(keys[0]) == data
    assert store.fetch("improvised/dev/metadata/vad/nope.jsonl") is None
    assert store.info("nope") is None


def test_hub_ignoring_range_reads_each_tar_whole_once(
    make_hub_server, release, hf_catalog, tmp_path, sleeps
):
    """A CDN that ignores Range (as olah does): each tar is read whole once, not once per
    member, and the catalog is the same."""
    server = _hub(make_hub_server, release)
    server.faults.ignore_range(kind="cdn", times=10**6)
    settings = Settings(hf_endpoint=server.endpoint, progress=False, remote_probes=ALL_PROBES)
    result = _ingest(release, tmp_path / "cat", [HF], settings)
    assert result.ok, result.issues
    assert_same_catalog(tmp_path / "cat", hf_catalog)
    sent: dict[str, int] = {}
    for r in server.stats.snapshot():
        if r.kind == "cdn":
            sent[r.file] = sent.get(r.file, 0) + r.body_bytes
    sizes = {rel: (release / "hf" / rel).stat().st_size for rel in _tars(release)}
    print("\nbytes sent per tar / tar size:", {k: sent.get(k, 0) / v for k, v in sizes.items()})
    assert sent == sizes
