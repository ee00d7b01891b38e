"""Kill -9 during materialize at many points: mid-body (several offsets, one and three
workers), before a rename, between files, in an fsync while the download goes on (commits
pending), while indexing a tar on the fly, while writing the facts of a merged output and
the receipt. After each: nothing partial under a final name;
the rerun completes, fetches at most what was not yet on disk (plus tar headers), and its
outputs are byte-identical to an uninterrupted run's. Nothing outside the destination
changes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seamless_catalog.materialize import materialize
from tests.containment import Contained

pytestmark = pytest.mark.slow  # 28 materialize runs killed with -9 and rerun

TARS = (
    "select file_id from files where file_id in (select file_id from raw.members) "
    "order by file_id limit 6"
)
INDEXED = "select file_id from files where split = 'test' order by file_id"
SLACK = 3 * 1024  # tar headers and padding between the members of one read, per sample

KILLER = r"""
import os, signal, sys
from seamless_catalog.materialize import materialize
from seamless_catalog.materialize.planning import tars
from seamless_catalog.materialize.running import fetch, receipts, write

cat, sql, to, source, target, nth, workers = sys.argv[1:8]
nth = int(nth)
calls = [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def counted(original, before=True):
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth and before:
            die()
        out = original(*args, **kwargs)
        if calls[0] == nth:
            die()
        return out
    return wrapper

if target == "body":  # after ``nth`` bytes written to temp files (flushed)
    original = write.PartFile.write
    def write_then_die(self, data):
        if calls[0] + len(data) >= nth:
            original(self, data[: nth - calls[0]])
            self.fh.flush()
            die()
        calls[0] += len(data)
        original(self, data)
    write.PartFile.write = write_then_die
elif target == "rename":  # the body is whole and flushed; the rename has not happened
    write.os.replace = counted(os.replace)
elif target == "between":  # nth-1 files written (their commits may pend); the next not opened
    write.PartFile.__init__ = counted(write.PartFile.__init__)
elif target == "sync":  # in the nth fsync, after the download went on for a while
    import time
    original_fsync = os.fsync
    def fsync(fd):
        calls[0] += 1
        if calls[0] == nth:
            time.sleep(0.3)
            die()
        original_fsync(fd)
    write.os.fsync = fsync
elif target == "index":  # the nth tar header read while indexing a tar not in the catalog
    original_entries = tars.iter_entries
    def entries(reader):
        for e in original_entries(reader):
            calls[0] += 1
            if calls[0] == nth:
                die()
            yield e
    tars.iter_entries = entries
elif target == "facts":  # a merged output is in place, its facts not yet written
    fetch.write_atomic = counted(fetch.write_atomic)
elif target == "receipt":  # every file is in place, the receipt is not
    receipts.write_atomic = counted(receipts.write_atomic)
materialize(cat, sql=sql, to=to, source=source, workers=int(workers))
"""


def _outputs(to: Path) -> dict[str, str]:
    """Final names -> sha256 of their bytes (temp files and our state folder aside)."""
    return {
        p.relative_to(to).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(to.rglob("*"))
        if p.is_file() and ".seamless-catalog" not in p.parts and p.suffix != ".part"
    }


@pytest.fixture(scope="module")
def bare_catalog(release: Path, tmp_path_factory) -> Path:
    from seamless_catalog.ingestion.pipeline import ingest

    cat = tmp_path_factory.mktemp("bare")
    ingest(cat, [], filelist=str(release / "filelist.csv"), assets=str(release / "assets"))
    return cat


@pytest.fixture(scope="module")
def cdn_sql(release: Path) -> str:
    import json

    q = json.loads((release / "release.json").read_text())["quirks"]
    ids = sorted({q["annotation_3p"][0], q["empty_vad"][0], q["extra_json_key"][0]})
    return "select file_id from files where file_id in (" + ", ".join(f"'{i}'" for i in ids) + ")"


CASES = {  # name -> (catalog fixture, sql, source subdir)
    "tars": ("hf_catalog", TARS, "hf"),
    "indexed": ("bare_catalog", INDEXED, "hf"),
    "per-file": ("hf_catalog", None, "cdn"),
}


@pytest.fixture(scope="module")
def references(request, release, tmp_path_factory) -> dict:
    """Each case materialized without interruption: its outputs and per-file bytes."""
    out = {}
    for name, (cat_fixture, sql, sub) in CASES.items():
        cat = request.getfixturevalue(cat_fixture)
        sql = sql or request.getfixturevalue("cdn_sql")
        to = tmp_path_factory.mktemp(f"ref-{name}")
        r = materialize(cat, sql=sql, to=to, source=str(release / sub))
        assert r.ok and r.count("delivered") > 0
        out[name] = (cat, sql, str(release / sub), _outputs(to), r)
    return out


POINTS = [  # (case, target, nth, workers): 27 points
    ("tars", "body", 1, 1),
    ("tars", "body", 100_000, 1),
    ("tars", "body", 700_000, 1),
    ("tars", "body", 1_500_000, 1),
    ("tars", "body", 2_600_000, 1),
    ("tars", "body", 900_000, 3),
    ("tars", "body", 2_000_000, 3),
    ("tars", "rename", 1, 1),
    ("tars", "rename", 5, 1),
    ("tars", "rename", 11, 1),
    ("tars", "rename", 4, 3),
    ("tars", "between", 2, 1),
    ("tars", "between", 9, 1),
    ("tars", "between", 20, 1),
    ("tars", "sync", 2, 1),
    ("tars", "sync", 7, 3),
    ("tars", "receipt", 1, 1),
    ("indexed", "index", 1, 1),
    ("indexed", "index", 3, 1),
    ("indexed", "index", 9, 1),
    ("indexed", "body", 400_000, 1),
    ("per-file", "body", 300_000, 1),
    ("per-file", "body", 1_200_000, 2),
    ("per-file", "rename", 2, 1),
    ("per-file", "sync", 2, 2),
    ("per-file", "facts", 1, 1),
    ("per-file", "facts", 3, 1),
]


@pytest.mark.parametrize("case, target, nth, workers", POINTS)
def test_kill_9_during_materialize_then_rerun_is_exact(
    references, release, hf_catalog, tmp_path, case, target, nth, workers
):
    cat, sql, source, want, ref = references[case]
    to = tmp_path / "out"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    box = Contained(tmp_path, [to], [release, Path(cat)], cwd)
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(cat), sql, str(to), source, target, str(nth),
         str(workers)],
        capture_output=True, text=True, timeout=180, cwd=cwd,
        env=dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0"),
    )  # fmt: skip
    assert proc.returncode == -9, proc.stderr[-2000:]
    got = _outputs(to)
    for rel, data in got.items():  # nothing partial under a final name
        assert data == want[rel], rel
    # bytes the rerun may resume: temp files of copied objects and members (``.{name}.
    # {version}-{random}.part``); a merged output's (``.{name}.{random}.part``) is rebuilt
    parts = sum(p.stat().st_size for p in to.rglob("*.part") if "-" in p.name.split(".")[-2])

    r = materialize(cat, sql=sql, to=to, source=source, workers=workers)
    assert r.ok, r.failures
    assert _outputs(to) == want  # byte-identical to an uninterrupted run
    assert not list(to.rglob("*.part")) and not list(to.rglob(".*.tmp"))
    ref_bytes = {o.path: o.bytes for o in ref.outcomes}
    kept = sum(ref_bytes[o.path] for o in r.outcomes if o.status == "skipped")
    n_samples = len({o.file_id for o in ref.outcomes})
    assert r.bytes_fetched <= ref.bytes_fetched - kept - parts + SLACK * n_samples
    assert r.count("delivered") + r.count("skipped") == len(ref.outcomes)
    box.check()
