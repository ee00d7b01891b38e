"""Plan files and array jobs: portable Parquet, stable shards, `run --shard K/N` processes,
a killed member redone alone, concurrent shards on one destination, exact `status`, `retry`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from seamless_catalog.cli import main
from seamless_catalog.materialize import (
    make_plan,
    materialize,
    plan_status,
    read_plan,
    retry_plan,
    run_plan,
    run_shard,
    shard_of,
)
from seamless_catalog.materialize.running.receipts import plan_receipts, read_receipt
from tests.cli_contract import assert_usage_error, run

TARS = "select file_id from files where file_id in (select file_id from raw.members)"
ENV = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0")


def tree(to: Path) -> dict[str, str]:
    """Final names -> sha256 (temp files and our state folder aside)."""
    return {
        p.relative_to(to).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(to.rglob("*"))
        if p.is_file() and ".seamless-catalog" not in p.parts and p.suffix != ".part"
    }


def receipt_rows(to: Path, plan_id: str) -> set[tuple]:
    """What the receipts say, run ids aside: (shard, path, status, size, sha256)."""
    return {
        (r["shard"], r["path"] or r["file_id"], r["status"], r["size"], r["sha256"])
        for path, _ in plan_receipts(to, plan_id)
        for r in read_receipt(path)
    }


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seamless_catalog", "materialize", *args],
                          capture_output=True, text=True, env=ENV, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def reference(hf_catalog, release, tmp_path_factory) -> dict[str, str]:
    """The tar selection materialized the plain way."""
    to = tmp_path_factory.mktemp("ref")
    assert materialize(hf_catalog, sql=TARS, to=to, source=str(release / "hf")).ok
    return tree(to)


def test_plan_file_is_portable_parquet_written_atomically(hf_catalog, release, tmp_path):
    out = tmp_path / "plans" / "p.parquet"
    pf = make_plan(hf_catalog, out, to=tmp_path / "d", sql="select file_id from files",
                   source=str(release / "hf"))  # fmt: skip
    assert [p.name for p in out.parent.iterdir()] == ["p.parquet"]  # no temp file left
    schema = pq.read_schema(out)
    for f in schema:
        t = f.type
        assert not pa.types.is_unsigned_integer(t) and not pa.types.is_map(t), f
        assert not pa.types.is_dictionary(t) and not pa.types.is_large_string(t), f
    parts = schema.field("parts").type.value_type
    assert [parts.field(i).name for i in range(parts.num_fields)] == [
        "key", "offset", "length", "name", "etag"
    ]  # fmt: skip
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(pf.items) + len(pf.unknown) and all(r["shard_hash"] >= 0 for r in rows)
    member = next(r for r in rows if r["kind"] == "member" and r["state"] == "todo")
    assert member["dest"].endswith(f"{member['file_id']}.{member['ext']}")
    assert member["parts"][0]["length"] == member["size"] and member["size"] > 0
    assert {r["state"] for r in rows} == {"todo", "failed"}  # the release lacks a tar
    again = make_plan(hf_catalog, tmp_path / "q.parquet", to=tmp_path / "d",
                      sql="select file_id from files", source=str(release / "hf"))  # fmt: skip
    assert again.plan_id == pf.plan_id  # the same selection, the same plan


def test_shards_disjoint_covering_pairs_together_stable_and_never_moved(
    hf_catalog, release, tmp_path
):
    small = make_plan(hf_catalog, tmp_path / "small.parquet", to=tmp_path, sql=TARS + " limit 6",
                      source=str(release / "hf"))  # fmt: skip
    pf = make_plan(hf_catalog, tmp_path / "p.parquet", to=tmp_path, sql=TARS,
                   source=str(release / "hf"))  # fmt: skip
    for n in (1, 2, 3, 7):
        parts = [{i.dest for i in pf.shard((k, n))[0]} for k in range(1, n + 1)]
        assert sum(map(len, parts)) == len(pf.items) == len(set().union(*parts))
        for part in parts:  # an interaction is in one shard only
            keys = {d.rsplit("/", 1)[1].rsplit("_", 1)[0] for d in part}
            others = {i.dest for i in pf.items} - part
            assert not any(d.rsplit("/", 1)[1].rsplit("_", 1)[0] in keys for d in others)
    # adding items moves none: the small plan's items keep their shard in the larger one
    where = {i.dest: k for k in range(1, 4) for i in pf.shard((k, 3))[0]}
    assert all(where[i.dest] == k for k in range(1, 4) for i in small.shard((k, 3))[0])
    # stored buckets agree with shard_of, here and in a process with another hash seed
    code = (
        "import sys, pyarrow.parquet as pq; from seamless_catalog.materialize import shard_of\n"
        "rows = pq.read_table(sys.argv[1]).to_pylist()\n"
        "print(sorted({(r['interaction_key'], r['shard_hash'] % 5 + 1, shard_of("
        "r['interaction_key'], 5)) for r in rows}))"
    )
    env = dict(ENV, PYTHONHASHSEED="4321")
    other = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.parquet")],
                           capture_output=True, text=True, env=env, check=True)  # fmt: skip
    keys = {i.dest.rsplit("/", 1)[1].rsplit("_", 1)[0] for i in pf.items}
    want = sorted((k, shard_of(k, 5), shard_of(k, 5)) for k in keys)
    assert other.stdout.strip() == str(want)


@pytest.mark.slow  # array members as processes, one killed with -9
def test_array_members_give_the_plain_tree_and_a_killed_one_is_redone_alone(
    hf_catalog, release, reference, tmp_path
):
    to, plan = tmp_path / "out", tmp_path / "plan.parquet"
    r = cli("plan", "--catalog", str(hf_catalog), "--sql", TARS, "--to", str(to), "--out",
            str(plan), "--source", str(release / "hf"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    pf = read_plan(plan)
    # member 1/3 is killed (SIGKILL) halfway through its bytes; 2/3 and 3/3 run whole
    k1 = {i.dest for i in pf.shard((1, 3))[0]}
    need1 = sum(i.size for i in pf.items if i.dest in k1)
    killer = (
        "import os, signal, sys\n"
        "from seamless_catalog.materialize.running import write\n"
        "from seamless_catalog.cli import main\n"
        "limit, done = int(sys.argv[1]), [0]\n"
        "orig = write.PartFile.write\n"
        "def die_at(self, data):\n"
        "    if done[0] + len(data) >= limit:\n"
        "        orig(self, data[: limit - done[0]]); self.fh.flush()\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    done[0] += len(data); orig(self, data)\n"
        "write.PartFile.write = die_at\n"
        "main(sys.argv[2:])\n"
    )
    args = ["materialize", "run", "--plan", str(plan), "--workers", "1", "--shard"]
    procs = [subprocess.Popen([sys.executable, "-c", killer, str(need1 // 2), *args, "1/3"],
                              env=ENV, stderr=subprocess.PIPE)]  # fmt: skip
    procs += [
        subprocess.Popen(
            [sys.executable, "-m", "seamless_catalog", *args, f"{k}/3"],
            env=ENV,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for k in (2, 3)
    ]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [-9, 0, 0], [p.stderr.read().decode()[-2000:] for p in procs]
    st = plan_status(plan)
    assert st.n == 3 and st.shards[2].missing == st.shards[3].missing == 0
    assert st.shards[1].missing > 0 and st.shards[1].bytes_done < need1
    on_disk = sum(p.stat().st_size for p in to.rglob("*") if ".seamless-catalog" not in p.parts)
    again = run_shard(plan, "1/3")  # the killed member alone, rerun
    assert again.ok and again.bytes_fetched <= need1 - need1 // 2 + 3 * 1024 * len(k1)
    assert not list(to.rglob("*.part")) and on_disk > 0
    assert tree(to) == reference  # byte-identical to a plain materialize
    assert plan_status(plan).complete
    # receipts: one per shard run, every item of the plan accounted for
    rows = receipt_rows(to, pf.plan_id)
    assert {p for _, p, s, _, _ in rows if s in ("delivered", "skipped")} == set(reference)


@pytest.mark.slow  # shards as concurrent processes
def test_concurrent_shards_and_a_duplicate_share_one_destination(
    hf_catalog, release, reference, tmp_path
):
    to, plan = tmp_path / "out", tmp_path / "plan.parquet"
    make_plan(hf_catalog, plan, to=to, sql=TARS, source=str(release / "hf"))
    shards = ["1/2", "2/2", "1/2"]  # shard 1 twice: the second waits, then finds it present
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "seamless_catalog",
                "materialize",
                "run",
                "--plan",
                str(plan),
                "--shard",
                s,
            ],
            env=ENV,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for s in shards
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    assert tree(to) == reference and not list(to.rglob("*.part"))
    pf = read_plan(plan)
    rows = [(r["path"], r["status"]) for p, _ in plan_receipts(to, pf.plan_id)
            for r in read_receipt(p)]  # fmt: skip
    delivered = [p for p, s in rows if s == "delivered"]
    assert sorted(delivered) == sorted(reference)  # each file delivered exactly once


def test_status_is_exact_and_retry_redoes_only_what_is_left(hf_catalog, release, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(release / "cdn", mirror)
    q = json.loads((release / "release.json").read_text())["quirks"]
    ids = sorted({q["annotation_3p"][0], q["empty_vad"][0], q["extra_json_key"][0]})
    sql = "select unnest(?::varchar[]) as file_id".replace("?", repr(ids))
    to, plan = tmp_path / "out", tmp_path / "plan.parquet"
    pf = make_plan(hf_catalog, plan, to=to, sql=sql, source=str(mirror), modalities="wav,json")
    n = len(pf.items)
    st = plan_status(plan)
    assert (st.total.done, st.total.failed, st.total.missing) == (0, 0, n)
    gone = next(i for i in pf.items if i.ext == "wav")  # a 404 at run time
    held = tmp_path / "held.wav"
    shutil.move(mirror / gone.parts[0].key, held)
    out = run_plan(plan, shards=2)
    assert sum(s.failed for s in out) == 1 and not all(s.ok for s in out)
    st = plan_status(plan)
    assert (st.total.done, st.total.failed, st.total.missing) == (n - 1, 1, 0)
    assert st.failures[0][0] == gone.dest and st.total.bytes_done == sum(
        p.stat().st_size for p in to.rglob("*.*") if ".seamless-catalog" not in p.parts
    )
    (to / next(i.dest for i in pf.items if i.ext == "json")).unlink()  # deleted since
    st = plan_status(plan)
    assert (st.total.done, st.total.failed, st.total.missing) == (n - 2, 1, 1)
    cmd = CliRunner().invoke(main, ["materialize", "status", "--plan", str(plan)])
    assert cmd.exit_code == 1 and "total" in cmd.output and f"failed {gone.dest}" in cmd.output
    shutil.move(held, mirror / gone.parts[0].key)
    done = retry_plan(plan)
    assert {s.shard[0] for s in done} == st.unfinished()  # only the shards with something left
    assert sum(s.delivered for s in done) == 2 and all(s.ok for s in done)
    assert plan_status(plan).complete and retry_plan(plan) == []
    cmd = CliRunner().invoke(main, ["materialize", "retry", "--plan", str(plan)])
    assert cmd.exit_code == 0 and "nothing to do" in cmd.output


def test_plain_materialize_still_needs_catalog_and_to(hf_catalog):
    out = CliRunner().invoke(main, ["materialize", "--catalog", str(hf_catalog), "--sql", TARS])
    assert out.exit_code == 2 and "--to" in out.output
    out = run("materialize", "--catalog", hf_catalog, "--sql", TARS)
    assert_usage_error(out, "Missing option '--to'")
    assert_usage_error(run("materialize", "--sql", TARS, "--to", "x"), "Missing option '--catalog'")


@pytest.mark.parametrize("kind", ["interaction_key", "session_key"])
def test_a_plan_names_the_unknown_keys_and_its_run_reports_them(hf_catalog, release, tmp_path,
                                                                 kind):  # fmt: skip
    """Keys that parse but are in no ingested filelist: the plain run names them, so the
    plan file keeps them, `materialize plan` names them and each shard's run reports its own
    (a session key names no interaction: shard 1 reports it), as failures of the receipt."""
    from seamless_catalog.catalog import Catalog

    with Catalog.open(hf_catalog) as cat:
        key = cat.value("select interaction_key from files where file_id in "
                        "(select file_id from raw.members) order by 1 limit 1")  # fmt: skip
    known = key if kind == "interaction_key" else key.rsplit("_", 1)[0]
    ghosts = (["V09_S9999_I00000000", "V09_S9999_I00000001", "V09_S9998_I00000007"]
              if kind == "interaction_key" else ["V09_S9999", "V09_S9998"])  # fmt: skip
    sql = " union all ".join(f"select '{k}' as {kind}" for k in [known, *ghosts])
    plan, to = tmp_path / "plan.parquet", tmp_path / "out"
    out = cli("plan", "--catalog", str(hf_catalog), "--to", str(to), "--out", str(plan),
              "--source", str(release / "hf"), "--modalities", "json", "--sql", sql)  # fmt: skip
    assert out.returncode == 0, out.stderr
    named = [line for line in out.stdout.splitlines() if "not in the catalog" in line]
    assert len(named) == 1 and all(g in named[0] for g in ghosts), out.stdout
    pf = read_plan(plan)
    assert sorted(k for k, _ in pf.unknown) == sorted(ghosts) and pf.items
    plain = materialize(hf_catalog, sql=sql, to=tmp_path / "plain", source=str(release / "hf"),
                        modalities="json")  # fmt: skip
    assert sorted(plain.unknown) == sorted(ghosts) and not plain.ok
    done = run_plan(plan, shards=3)
    reported = [what for s in done for what, why in s.failures if why == "not in the catalog"]
    assert sorted(reported) == sorted(ghosts)  # each once over the shards
    assert sum(s.delivered for s in done) == len(pf.items) and not all(s.ok for s in done)
    if kind == "session_key":
        assert {s.shard[0] for s in done if s.failures} == {1}
    text = cli("run", "--plan", str(plan))
    assert text.returncode == 1 and all(f"{g}: not in the catalog" in text.stdout for g in ghosts)
