"""Materialize: byte-exact from local mirrors (tars and per-file), idempotent, resumable."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from seamless_catalog.cli import main
from seamless_catalog.cli.format import plan_totals
from seamless_catalog.errors import InvalidId, UsageError
from seamless_catalog.materialize import materialize
from seamless_catalog.materialize.running.receipts import read_receipt
from seamless_catalog.materialize.running.write import PartFile, VerifyError
from tests.cli_contract import assert_failures_reported

ALL = "select file_id from files"


def _release_facts(release: Path) -> dict:
    return json.loads((release / "release.json").read_text())


def _outputs(to: Path) -> list[Path]:
    return sorted(
        p
        for p in to.rglob("*")
        if p.is_file() and ".seamless-catalog" not in p.parts and p.suffix != ".part"
    )


def _assert_tree_equal(to: Path, release: Path) -> None:
    files = _outputs(to)
    assert files
    for f in files:
        assert f.read_bytes() == (release / "tree" / f.relative_to(to)).read_bytes(), f


def assert_like_tree(to: Path, release: Path) -> None:
    """Media byte-exact; merged npz arrays and merged json content equal the tree's."""
    extra = set(_release_facts(release)["quirks"]["extra_json_key"])
    for f in _outputs(to):
        tree = release / "tree" / f.relative_to(to)
        if f.suffix in (".wav", ".mp4"):
            assert f.read_bytes() == tree.read_bytes()
        elif f.suffix == ".npz":
            a, b = np.load(f), np.load(tree)
            assert sorted(a.files) == sorted(b.files)
            for k in a.files:
                assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
        else:
            got, want = json.loads(f.read_text()), json.loads(tree.read_text())
            if f.stem in extra:  # a key only the tar's json has (not in the per-file copy)
                want = {
                    k: v
                    for k, v in want.items()
                    if k.split(":")[0] != "metadata" or k in ("metadata:transcript", "metadata:vad")
                }
            assert got == want, f


@pytest.fixture(scope="module")
def bare_catalog(release: Path, tmp_path_factory) -> Path:
    """The filelist and assets only: no member index, so tars are indexed on the fly."""
    from seamless_catalog.ingestion.pipeline import ingest

    cat = tmp_path_factory.mktemp("bare")
    ingest(cat, [], filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    return cat


def test_tar_mirror_is_byte_exact_and_a_second_run_transfers_nothing(hf_catalog, release, tmp_path):
    missing = set(_release_facts(release)["quirks"]["missing_on_hub"])
    r = materialize(hf_catalog, sql=ALL, to=tmp_path, source=str(release / "hf"), workers=3)
    _assert_tree_equal(tmp_path, release)
    assert {o.file_id for o in r.failures} == missing  # their archive is not on the Hub
    assert all("absent" in o.reason for o in r.failures)
    n_files = r.plan.items and len({i.file_id for i in r.plan.items})
    assert r.count("delivered") == 4 * (n_files - len(missing))
    assert r.plan.n_requests == n_files - len(missing)  # one read per sample
    again = materialize(hf_catalog, sql=ALL, to=tmp_path, source=str(release / "hf"))
    assert again.bytes_fetched == 0 and again.plan.n_requests == 0
    assert again.count("skipped") == r.count("delivered")
    assert not [p for p in tmp_path.rglob("*.part")]


def test_tars_not_in_the_catalog_are_indexed_on_the_fly(bare_catalog, release, tmp_path):
    sql = "select file_id from files where split = 'test'"
    r = materialize(bare_catalog, sql=sql, to=tmp_path, source=str(release / "hf"))
    assert r.ok and r.count("delivered") > 0
    assert r.plan.index_requests > 0  # header reads, counted in the plan
    _assert_tree_equal(tmp_path, release)


def test_a_sample_subset_reads_adjacent_members_in_one_request(hf_catalog, release, tmp_path):
    one = "select file_id from files where file_id in (select file_id from raw.members) limit 1"
    r = materialize(
        hf_catalog, sql=one, to=tmp_path / "a", source=str(release / "hf"), modalities="mp4,npz,wav"
    )
    assert r.plan.n_requests == 1 and len(r.plan.requests[0].items) == 3
    gaps = r.plan.bytes_to_fetch - r.plan.bytes_needed
    assert 0 < gaps <= 2 * 1024  # the headers of npz and wav, and padding
    split = materialize(
        hf_catalog, sql=one, to=tmp_path / "b", source=str(release / "hf"), modalities="json,wav"
    )
    assert split.plan.n_requests == 2  # not adjacent: never read the mp4 and npz between
    assert split.plan.bytes_to_fetch == split.plan.bytes_needed
    _assert_tree_equal(tmp_path / "a", release)
    _assert_tree_equal(tmp_path / "b", release)


@pytest.fixture(scope="module")
def cdn_pick(hf_catalog, release) -> list[str]:
    """Files with annotations, movement, an empty transcript and an extra json key."""
    q = _release_facts(release)["quirks"]
    return sorted(
        {q["annotation_3p"][0], q["annotation_1p"][0], q["empty_vad"][0], q["extra_json_key"][0]}
    )


def _selection_file(path: Path, ids: list[str]) -> Path:
    path.write_text("file_id\n" + "\n".join(ids) + "\n")
    return path


def test_per_file_mirror_merges_like_the_tars(hf_catalog, release, cdn_pick, tmp_path):
    sel = _selection_file(tmp_path / "sel.csv", cdn_pick)
    to = tmp_path / "out"
    r = materialize(hf_catalog, selection=sel, to=to, source=str(release / "cdn"))
    assert r.ok, r.failures
    assert r.plan.layout == "per-file"
    assert_like_tree(to, release)
    assert len(_outputs(to)) == 4 * len(cdn_pick)
    again = materialize(hf_catalog, selection=sel, to=to, source=str(release / "cdn"))
    assert again.bytes_fetched == 0 and again.count("skipped") == 4 * len(cdn_pick)


def test_no_merge_keeps_the_per_file_layout(hf_catalog, release, cdn_pick, tmp_path):
    fid = cdn_pick[0]
    r = materialize(
        hf_catalog,
        sql=f"select '{fid}' as file_id",
        to=tmp_path,
        source=str(release / "cdn"),
        merge=False,
        modalities="smplh,vad,audio",
    )
    assert r.ok
    got = {p.relative_to(tmp_path).as_posix() for p in _outputs(tmp_path)}
    cdn = release / "cdn"
    want = {
        p.relative_to(cdn).as_posix()
        for p in cdn.rglob(f"{fid}.*")
        if p.parent.parent.name == "smplh" or p.parent.name == "vad"
    }
    assert want <= got and any(g.endswith(".wav") for g in got)
    for rel in want:
        assert (tmp_path / rel).read_bytes() == (cdn / rel).read_bytes()


def test_selection_by_interaction_session_pairs_and_files(hf_catalog, release, tmp_path):
    pair = hf_catalog_pair(hf_catalog)
    kw = dict(to=tmp_path, source=str(release / "hf"), dry_run=True)
    by_inter = materialize(hf_catalog, sql=f"select '{pair[0]}' as interaction_key", **kw)
    assert {i.file_id for i in by_inter.plan.items} == {pair[1], pair[2]}
    one = materialize(hf_catalog, sql=f"select '{pair[1]}' as file_id", **kw)
    assert {i.file_id for i in one.plan.items} == {pair[1]}
    both = materialize(hf_catalog, sql=f"select '{pair[1]}' as file_id", pairs=True, **kw)
    assert {i.file_id for i in both.plan.items} == {pair[1], pair[2]}
    session = pair[0].rsplit("_", 1)[0]
    by_session = materialize(hf_catalog, sql=f"select '{session}' as session_key", **kw)
    from seamless_catalog.catalog import Catalog

    with Catalog.open(hf_catalog) as cat:
        want = {
            r[0]
            for r in cat.sql(
                "select file_id from files where session_key = ?", [session]
            ).fetchall()
        }
    assert {i.file_id for i in by_session.plan.items} == want
    text = tmp_path / "ids.txt"
    text.write_text(f"# a comment\n{pair[0]}\n")
    assert {i.file_id for i in materialize(hf_catalog, selection=text, **kw).plan.items} == {
        pair[1],
        pair[2],
    }
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"file_id": [pair[2]]}), tmp_path / "s.parquet")
    got = materialize(hf_catalog, selection=tmp_path / "s.parquet", **kw).plan.items
    assert {i.file_id for i in got} == {pair[2]}
    with pytest.raises(InvalidId):
        materialize(hf_catalog, sql="select '../../etc/passwd' as file_id", **kw)
    with pytest.raises(UsageError):
        materialize(hf_catalog, sql="select 1 as x", **kw)


def hf_catalog_pair(cat_dir: Path) -> tuple[str, str, str]:
    from seamless_catalog.catalog import Catalog

    with Catalog.open(cat_dir) as cat:
        return cat.sql(
            "select interaction_key, file_id_a, file_id_b from pairs "
            "where file_id_a in (select file_id from raw.members) order by 1 limit 1"
        ).fetchall()[0]


def test_dry_run_prints_the_plan_and_transfers_nothing(hf_catalog, release, tmp_path):
    to = tmp_path / "out"
    sql = "select file_id from files where file_id in (select file_id from raw.members)"
    r = materialize(hf_catalog, sql=sql, to=to, source=str(release / "hf"), dry_run=True)
    assert not to.exists() and not r.outcomes
    totals = plan_totals(r.plan)
    n = len({i.file_id for i in r.plan.items})
    assert totals["files"] == 4 * n and totals["requests"] == n
    assert totals["requests per sample"] == 1.0
    assert totals["bytes needed"] == sum(i.size for i in r.plan.items)
    assert 1.0 < totals["fetched/needed"] < 1.05
    out = CliRunner().invoke(
        main,
        [
            "materialize",
            "--catalog",
            str(hf_catalog),
            "--sql",
            sql,
            "--to",
            str(to),
            "--source",
            str(release / "hf"),
            "--dry-run",
        ],
    )
    assert out.exit_code == 0 and "requests per sample: 1.0" in out.output
    assert "to fetch" in out.output and not to.exists()
    materialize(hf_catalog, sql=sql, to=to, source=str(release / "hf"))
    r2 = materialize(hf_catalog, sql=sql, to=to, source=str(release / "hf"), dry_run=True)
    assert all(i.state == "present" for i in r2.plan.items) and r2.plan.n_requests == 0


def test_receipt_missing_object_exit_1_and_retry_failed(hf_catalog, release, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(release / "cdn", mirror)
    fid = hf_catalog_pair(hf_catalog)[1]
    label_split = next(p for p in mirror.glob("*/*/audio") if (p / f"{fid}.wav").exists()).parent
    (label_split / "audio" / f"{fid}.wav").rename(tmp_path / "held.wav")
    to = tmp_path / "out"
    args = [
        "materialize",
        "--catalog",
        str(hf_catalog),
        "--sql",
        f"select '{fid}' as file_id",
        "--to",
        str(to),
        "--source",
        str(mirror),
        "--modalities",
        "wav,json",
    ]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 1
    assert f"{fid}.wav: absent at the source" in out.output
    failures = assert_failures_reported(out, "absent at the source")
    assert [p.rsplit("/", 1)[-1] for p in failures] == [f"{fid}.wav"]
    rows = read_receipt(next((to / ".seamless-catalog" / "receipts").glob("*.jsonl")))
    by_ext = {r["ext"]: r for r in rows}
    assert by_ext["wav"]["status"] == "failed" and "audio" in by_ext["wav"]["reason"]
    assert by_ext["json"]["status"] == "delivered" and by_ext["json"]["bytes"] > 0
    assert len(by_ext["json"]["sha256"]) == 64 and by_ext["json"]["path"].endswith(".json")
    assert set(rows[0]) >= {
        "file_id",
        "ext",
        "path",
        "source",
        "bytes",
        "sha256",
        "status",
        "reason",
    }
    (tmp_path / "held.wav").rename(label_split / "audio" / f"{fid}.wav")
    retry = materialize(
        hf_catalog, to=to, source=str(mirror), modalities="wav,json", retry_failed=True
    )
    assert retry.ok and [(o.ext, o.status) for o in retry.outcomes] == [("wav", "delivered")]
    nothing = materialize(hf_catalog, to=to, source=str(mirror), retry_failed=True)
    assert nothing.ok and not nothing.outcomes


KILLER = """
import os, signal, sys
from seamless_catalog.materialize import materialize
from seamless_catalog.materialize.running import write

limit, written = int(sys.argv[5]), [0]
original = write.PartFile.write

def write_then_die(self, data):
    if written[0] + len(data) >= limit:
        original(self, data[: limit - written[0]])
        self.fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    written[0] += len(data)
    original(self, data)

write.PartFile.write = write_then_die
materialize(sys.argv[1], sql=sys.argv[2], to=sys.argv[3], source=sys.argv[4], workers=1)
"""


@pytest.mark.slow  # a materialize process killed with -9
def test_resume_after_kill_transfers_only_the_remainder(hf_catalog, release, tmp_path):
    sql = "select file_id from files where file_id in (select file_id from raw.members)"
    to, hf = tmp_path / "out", str(release / "hf")
    total = materialize(hf_catalog, sql=sql, to=to, source=hf, dry_run=True).plan
    limit = total.bytes_needed // 2
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER))
    proc = subprocess.run(
        [sys.executable, str(script), str(hf_catalog), sql, str(to), hf, str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    partial = list(to.rglob("*.part"))  # the file being written, and any awaiting its commit
    assert partial and sum(p.stat().st_size for p in partial) > 0
    _assert_tree_equal(to, release)  # whatever has a final name is complete
    r = materialize(hf_catalog, sql=sql, to=to, source=hf)
    assert r.ok
    n_samples = len({i.file_id for i in total.items})
    assert r.bytes_fetched <= total.bytes_needed - limit + 3 * 1024 * n_samples
    assert r.count("skipped") > 0 and not list(to.rglob("*.part"))
    _assert_tree_equal(to, release)
    assert len(_outputs(to)) == len(total.items)


def test_shards_are_disjoint_covering_keep_pairs_and_stable(hf_catalog, release, tmp_path):
    kw = dict(sql=ALL, to=tmp_path, source=str(release / "hf"), dry_run=True)
    whole = {i.file_id for i in materialize(hf_catalog, **kw).plan.items}
    parts = [
        {i.file_id for i in materialize(hf_catalog, shard=f"{k}/3", **kw).plan.items}
        for k in (1, 2, 3)
    ]
    assert set().union(*parts) == whole and sum(map(len, parts)) == len(whole)
    for part in parts:  # both sides of a pair land in the same shard
        inters = {f.rsplit("_", 1)[0] for f in part}
        assert not any(f.rsplit("_", 1)[0] in inters for f in whole - part)
    from seamless_catalog.materialize import shard_of

    keys = sorted({f.rsplit("_", 1)[0] for f in whole})
    code = (
        "import sys; from seamless_catalog.materialize import shard_of; "
        "print([shard_of(k, 3) for k in sys.argv[1:]])"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, *keys],
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        check=True,
    )
    assert other.stdout.strip() == str([shard_of(k, 3) for k in keys])
    with pytest.raises(UsageError):
        materialize(hf_catalog, shard="4/3", **kw)


@pytest.mark.parametrize(
    "sql",
    [
        "select file_id from files; drop view files",
        "copy (select file_id from files) to 'x.csv'",
        "select column0 as file_id from read_csv('/etc/passwd')",
    ],
)
def test_materialize_sql_cannot_write_or_read_outside(hf_catalog, release, tmp_path, sql):
    from seamless_catalog.errors import QueryError

    with pytest.raises(QueryError):
        materialize(
            hf_catalog, sql=sql, to=tmp_path / "out", source=str(release / "hf"), dry_run=True
        )
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.*"))


def test_a_published_sha256_is_verified_and_nothing_else_is_hashed(tmp_path):
    good = hashlib.sha256(b"abc").hexdigest()
    ok = PartFile(tmp_path / "ok.wav", resume=False, sha256=good)
    ok.write(memoryview(b"abc"))
    assert ok.commit(3) == good and (tmp_path / "ok.wav").read_bytes() == b"abc"
    bad = PartFile(tmp_path / "bad.wav", resume=False, sha256=good)
    bad.write(b"abd")
    with pytest.raises(VerifyError, match="sha256"):
        bad.commit(3)
    plain = PartFile(tmp_path / "plain.wav", resume=False)  # the source gave no digest
    plain.write(b"abc")
    assert plain.commit(3) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.wav", "plain.wav"]
