"""Concurrency: two materializers on one destination, two ingests on one catalog, readers
while an ingest commits several snapshots. Plus honesty through the CLI: exit status 1 and a
receipt naming every file that was asked for and not delivered."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from seamless_catalog.catalog import Catalog
from seamless_catalog.cli import main
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.materialize.running.receipts import read_receipt, receipts_dir
from seamless_catalog.store import snapshots
from tests.cli_contract import assert_error, assert_failures_reported
from tests.containment import Contained

SQL = "select file_id from files where file_id in (select file_id from raw.members)\n" \
    "order by file_id limit 8"  # fmt: skip


@pytest.mark.slow  # two materializer processes
def test_two_materializers_on_one_destination(hf_catalog, release, tmp_path):
    to = tmp_path / "out"
    box = Contained(tmp_path, [to], [release, hf_catalog], tmp_path / "cwd")
    cmd = [sys.executable, "-m", "seamless_catalog", "materialize", "--catalog", str(hf_catalog),
           "--sql", SQL, "--to", str(to), "--source", str(release / "hf")]  # fmt: skip
    env = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0")
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(2)]  # fmt: skip
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    finals = [p for p in to.rglob("*") if p.is_file() and ".seamless-catalog" not in p.parts]
    assert finals and not [p for p in finals if p.suffix == ".part"]
    for f in finals:
        assert f.read_bytes() == (release / "tree" / f.relative_to(to)).read_bytes()
    rows = [read_receipt(p) for p in sorted(receipts_dir(to).glob("*.jsonl"))]
    assert len(rows) == 2
    delivered = [r["path"] for rs in rows for r in rs if r["status"] == "delivered"]
    assert sorted(delivered) == sorted({f.relative_to(to).as_posix() for f in finals})
    assert {r["status"] for r in rows[1]} <= {"skipped", "delivered"}
    box.check()


def test_second_ingest_refuses_while_one_writes(release, tmp_path):
    root = tmp_path / "cat"
    ingest(root, filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    before = snapshots.read_manifest(root)
    with snapshots.write_lock(root):  # as a running ingest holds it
        out = CliRunner().invoke(main, ["ingest", "--catalog", str(root), str(release / "hf")])
    assert out.exit_code == 1 and "another ingest is writing" in out.output
    assert "Traceback" not in out.output
    assert_error(out, "another ingest is writing")
    assert snapshots.read_manifest(root) == before


@pytest.mark.slow  # three ingests of the release while a thread reads
def test_readers_see_one_snapshot_while_ingests_commit(release, tmp_path):
    root = tmp_path / "cat"
    fl, assets = str(release / "filelist.csv"), str(release / "assets")
    ingest(root, filelist=fl, assets=assets)
    tars = sorted((release / "hf").rglob("*.tar"))
    seen: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                with Catalog.open(root) as cat:
                    seen.append((cat.snapshot, *cat.sql(
                        "select (select count(*) from raw.members), "
                        "(select count(*) from raw.vad_segments), "
                        "(select count(*) from raw.ingest_runs)"
                    ).fetchall()[0]))  # fmt: skip
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in (2, 4, len(tars)):  # three more snapshots, each with more tars
            src = tmp_path / f"hf{n}"
            src.mkdir()
            for t in tars[:n]:
                dest = src / t.relative_to(release / "hf")
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(t, dest)
            ingest(root, [str(src)], filelist=fl, assets=assets)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors[:3]
    by_snapshot: dict[int, set] = {}
    for snap, *counts in seen:
        by_snapshot.setdefault(snap, set()).add(tuple(counts))
    assert len(seen) > 3 and len(by_snapshot) >= 2
    for snap, counts in by_snapshot.items():  # every read of one snapshot saw the same rows
        assert len(counts) == 1, (snap, counts)
        assert next(iter(counts))[2] == snap  # and its own ingest_runs, never a mix


def test_cli_exit_1_and_receipt_for_what_was_not_delivered(hf_catalog, release, tmp_path):
    to = tmp_path / "out"
    with Catalog.open(hf_catalog) as cat:
        fid = cat.value("select min(file_id) from raw.members")
    ghost = "V00_S9999_I00009999_P9999"
    sql = f"select * from (values ('{fid}'), ('{ghost}')) t(file_id)"
    out = CliRunner().invoke(main, ["materialize", "--catalog", str(hf_catalog), "--sql", sql,
                                    "--to", str(to), "--source", str(release / "hf")])  # fmt: skip
    assert out.exit_code == 1 and f"{ghost}: not in the catalog" in out.output
    assert list(assert_failures_reported(out, "not in the catalog")) == [ghost]
    rows = read_receipt(next(receipts_dir(to).glob("*.jsonl")))
    status = {(r["file_id"], r["ext"]): r["status"] for r in rows}
    assert status[(ghost, None)] == "failed"
    assert [s for (f, _), s in status.items() if f == fid] == ["delivered"] * 4
    again = CliRunner().invoke(main, ["materialize", "--catalog", str(hf_catalog), "--sql",
                                      f"select '{fid}' as file_id", "--to", str(to),
                                      "--source", str(release / "hf")])  # fmt: skip
    assert again.exit_code == 0 and "4 already present" in again.output
    assert again.stdout.splitlines()[0].startswith("0 delivered, 4 already present, 0 failed; ")
