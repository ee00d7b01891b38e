"""materialize with a window selection: clips named {file_id}_t{start_ms}-{end_ms}.{ext} in
each file's upstream folder, cut by range from the local tars and from the suite's Hub server
(the real huggingface_hub client); dry run, receipts, resume, verify, shards, plan files and
invalid windows, as for whole files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.config import Settings
from seamless_catalog.materialize import ClipOptions, make_plan, materialize, run_plan
from tests.access_helpers import IN_TARS, by_id, tree_path, wav_samples

HUB = "hf://datasets/facebook/seamless-interaction"


@pytest.fixture(scope="module")
def windows(hf_catalog) -> str:
    """The second VAD segment of six files (three pairs' worth of interactions), plus two
    invalid rows: end before start, and a window past the end of the recording."""
    with Catalog.open(hf_catalog) as cat:
        ids = [r[0] for r in cat.sql(
            f"{IN_TARS} and file_id not in (select file_id from raw.media where placeholder) "
            "and file_id in (select file_id from raw.vad_segments group by 1 "
            "having count(*) >= 2) order by 1 limit 6"
        ).fetchall()]  # fmt: skip
    listed = ", ".join(f"'{i}'" for i in ids)
    return (
        "select file_id, start_s, end_s from (select 0 as o, file_id, start_s, end_s from ("
        "select file_id, start_s, end_s, row_number() over (partition by file_id order by "
        f"segment_idx) as n from raw.vad_segments where file_id in ({listed})) where n = 2 "
        f"union all select 1, '{ids[0]}', 3.0, 2.0 "
        f"union all select 2, '{ids[1]}', 100000.0, 100001.0) order by o, file_id"
    )


def _clips(to) -> list:
    return sorted(p for p in to.rglob("*_t*-*.*") if ".seamless-catalog" not in p.parts)


def test_materialize_windows_writes_clips_in_the_upstream_folders(hf_catalog, release,
                                                                  windows, tmp_path):  # fmt: skip
    to, src = tmp_path / "clips", str(release / "hf")
    dry = materialize(hf_catalog, sql=windows, to=to, source=src, modalities="wav,json",
                      dry_run=True, clips=ClipOptions(pad=0.25))  # fmt: skip
    assert dry.dry_run and len(dry.plan.items) == 12 and not to.exists()
    assert len(dry.failures) == 2  # the invalid rows, named before anything runs
    r = materialize(hf_catalog, sql=windows, to=to, source=src, modalities="wav,json",
                    clips=ClipOptions(pad=0.25))  # fmt: skip
    assert r.count("delivered") == 12 and len(r.failures) == 2 and not r.ok
    reasons = sorted(o.reason for o in r.failures)
    assert reasons[0].startswith("selection row 7:") and reasons[1].startswith("selection row 8:")
    rows = by_id(release)
    files = _clips(to)
    assert len(files) == 12
    whole = sum(tree_path(release, rows[p.name.split("_t")[0]], "wav").stat().st_size
                for p in files if p.suffix == ".wav")  # fmt: skip
    assert r.bytes_fetched < whole / 3  # windows of seconds out of whole recordings
    for p in files:
        fid, span = p.stem.split("_t")
        start_ms, end_ms = (int(x) for x in span.split("-"))
        row = rows[fid]
        assert p.parent == to / tree_path(release, row, "wav").parent.relative_to(release / "tree")
        if p.suffix == ".wav":
            rate, got = wav_samples(p.read_bytes())
            _, source = wav_samples(tree_path(release, row, "wav").read_bytes())
            doc = json.loads(p.with_suffix(".json").read_text())["clip"]
            first, stop = round(doc["start_s"] * rate), round(doc["end_s"] * rate)
            assert (round(doc["start_s"] * 1000), round(doc["end_s"] * 1000)) == (start_ms, end_ms)
            assert got.tobytes() == source[first:stop].tobytes()
            assert doc["requested_start_s"] <= doc["start_s"]  # padded, clipped at 0
    lines = [json.loads(x) for x in r.receipt.read_text().splitlines()]
    delivered = {x["path"] for x in lines if x["status"] == "delivered"}
    assert delivered == {str(p.relative_to(to)) for p in files}
    assert sorted(x["reason"][:16] for x in lines if x["status"] == "failed") == [
        "selection row 7:", "selection row 8:"]  # fmt: skip

    again = materialize(hf_catalog, sql=windows, to=to, source=src, modalities="wav,json",
                        clips=ClipOptions(pad=0.25))  # fmt: skip
    assert again.count("skipped") == 12 and again.bytes_fetched == 0  # verified, resumed

    victim = next(p for p in files if p.suffix == ".wav")
    victim.write_bytes(victim.read_bytes()[:-4] + b"\0\0\0\0")  # same size, other bytes
    fixed = materialize(hf_catalog, sql=windows, to=to, source=src, modalities="wav,json",
                        clips=ClipOptions(pad=0.25))  # fmt: skip
    assert fixed.count("delivered") == 1 and fixed.count("skipped") == 11
    assert not list(to.rglob("*.part"))


def test_shards_of_windows_cover_them_once_with_pairs_together(hf_catalog, release, windows,
                                                               tmp_path):  # fmt: skip
    to, src = tmp_path / "sharded", str(release / "hf")
    dests = []
    for k in (1, 2, 3):
        r = materialize(hf_catalog, sql=windows, to=to, source=src, modalities="json",
                        shard=f"{k}/3")  # fmt: skip
        dests.append({i.dest for i in r.plan.items})
    assert sum(len(d) for d in dests) == len(set().union(*dests)) == 6
    for d in dests:  # an interaction's clips are in one shard
        keys = {p.rsplit("/", 1)[1].rsplit("_P", 1)[0] for p in d}
        assert all(not (keys & {x.rsplit("/", 1)[1].rsplit("_P", 1)[0] for x in o})
                   for o in dests if o is not d)  # fmt: skip


def test_plan_file_of_clips_runs_from_the_hub_server(make_hub_server, hf_catalog, release,
                                                     windows, tmp_path, monkeypatch):  # fmt: skip
    server = make_hub_server(root=release / "hf")
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    to = tmp_path / "planned"
    pf = make_plan(hf_catalog, tmp_path / "plan.parquet", to=to, sql=windows, source=HUB,
                   modalities="npz,wav", settings=settings,
                   clips=ClipOptions(features="smplh"))  # fmt: skip
    assert {i.kind for i in pf.items} == {"clip"} and len(pf.items) == 12
    assert [(k, why[:16]) for k, why, _ in pf.invalid] == [
        (pf.invalid[0][0], "selection row 7:"),
        (pf.invalid[1][0], "selection row 8:"),
    ]  # the invalid rows are kept, to be reported by the run
    done = run_plan(tmp_path / "plan.parquet", shards=2, workers=2)
    assert sum(s.delivered for s in done) == 12
    failures = sorted(why for s in done for _, why in s.failures)
    assert [why[:16] for why in failures] == ["selection row 7:", "selection row 8:"]
    rows = by_id(release)
    for p in _clips(to):
        if p.suffix != ".npz":
            continue
        fid = p.name.split("_t")[0]
        with np.load(p) as got, np.load(tree_path(release, rows[fid], "npz")) as src:
            assert {k.split(":")[0] for k in got.files} == {"smplh"}
            key = "smplh:body_pose"
            first = int(got[key][0].flat[0])  # the generator's values spell their frame
            assert np.array_equal(got[key], src[key][first : first + len(got[key])])


def test_cli_materialize_clips_dry_run_names_invalid_windows(hf_catalog, release, windows,
                                                             tmp_path):  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "seamless_catalog", "materialize", "--catalog", str(hf_catalog),
         "--to", str(tmp_path / "c"), "--source", str(release / "hf"), "--modalities", "wav",
         "--pad", "0.5", "--dry-run", "--sql", windows],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("_t") >= 6 and "not in the plan" in out.stdout
    assert "selection row 7" in out.stdout and "selection row 8" in out.stdout


def test_a_plan_file_keeps_the_invalid_windows_and_its_run_reports_them(
    hf_catalog, release, windows, tmp_path
):
    """`materialize plan` lists the rows that give no window as the dry run does; the plan
    file keeps them, so `materialize run PLAN` and `status` report them, each by one shard."""
    plan, to = tmp_path / "plan.parquet", tmp_path / "c"
    base = [sys.executable, "-m", "seamless_catalog", "materialize"]
    out = subprocess.run(
        [*base, "plan", "--catalog", str(hf_catalog), "--to", str(to), "--out", str(plan),
         "--source", str(release / "hf"), "--modalities", "json", "--sql", windows],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "not in the plan" in out.stdout and "2 cannot be had" in out.stdout
    assert "selection row 7" in out.stdout and "selection row 8" in out.stdout
    ran = subprocess.run([*base, "run", "--plan", str(plan), "--shards", "3"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    failed = [line for line in ran.stdout.splitlines() if "selection row" in line]
    assert len(failed) == 2 and "row 7:" in failed[0] + failed[1] and len(_clips(to)) == 6
    from seamless_catalog.materialize import plan_status

    st = plan_status(plan)
    assert (st.total.done, st.total.failed) == (6, 2) and not st.complete


def test_retry_failed_after_a_clip_run_says_to_rerun_the_windows(hf_catalog, release, windows,
                                                                 tmp_path):  # fmt: skip
    """The receipt of a clip run names clips and invalid rows: --retry-failed (whole files)
    would plan their files, find no clip among them and report success; it refuses instead."""
    from seamless_catalog.errors import UsageError

    to = tmp_path / "c"
    r = materialize(hf_catalog, sql=windows, to=to, source=str(release / "hf"),
                    modalities="json")  # fmt: skip
    assert len(r.failures) == 2
    with pytest.raises(UsageError, match="run the window selection again"):
        materialize(hf_catalog, to=to, source=str(release / "hf"), retry_failed=True)
