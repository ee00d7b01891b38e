"""Each benchmark script runs in quick mode and prints its table. No timing is asserted here:
timings belong to the benchmarks themselves (see BENCHMARKS.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

pytestmark = pytest.mark.slow  # each benchmark script, as a process, in quick mode

SCRIPTS = REPO / "scripts"


def run_script(name: str, *args: str, work: Path) -> str:
    env = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0", TMPDIR=str(work))
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / name), "--quick", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_bench_ingest_quick(tmp_path: Path) -> None:
    out = run_script("bench_ingest.py", "--work", str(tmp_path), work=tmp_path)
    assert "machine:" in out and "load average" in out
    assert "ours_tree" in out and "duckdb" in out and "jsonloop" in out
    assert "unchanged re-ingest" in out


def test_bench_query_quick(tmp_path: Path) -> None:
    out = run_script("bench_query.py", work=tmp_path)
    assert "machine:" in out
    for query in ("lookup_file", "pairs_filtered", "turn_taking_all", "dataset_summary"):
        assert query in out
    assert "geometric mean ratio" in out


def test_bench_materialize_quick(tmp_path: Path) -> None:
    missing = [t for t in ("nginx", "curl", "aria2c") if shutil.which(t) is None]
    if "nginx" in missing:
        pytest.skip("nginx is not installed (scripts/ci_bench.sh installs nginx, aria2, curl)")
    pytest.importorskip("moto.server", reason="moto[s3] is needed for the S3 part")
    out = run_script("bench_materialize.py", "--work", str(tmp_path), work=tmp_path)
    assert "machine:" in out
    assert "tar    ours" in out and "https  ours" in out and "s3     ours" in out
    assert "s3     boto3" in out
    assert "whole-archive approach" in out and "every file" in out
    if "curl" not in missing:
        assert "tar    curl" in out and "https  curl" in out
    if "aria2c" not in missing:
        assert "https  aria2c" in out


def test_bench_engines_quick(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed: pip install '.[ray]'")
    pytest.importorskip("distributed", reason="dask.distributed is not installed: '.[dask]'")
    out = run_script("bench_engines.py", "--work", str(tmp_path), work=tmp_path)
    assert "machine:" in out and "load average" in out
    for engine in ("local", "ray", "dask"):
        assert f"\n{engine} " in out
    assert "vs local" in out and "per tar" in out and "goals:" in out


def test_bench_clips_quick(tmp_path: Path) -> None:
    pytest.importorskip("av", reason="the clip benchmark makes H.264 recordings ([video] extra)")
    out = run_script("bench_clips.py", "--work", str(tmp_path), work=tmp_path)
    assert "machine:" in out and "wav+npz+json" in out and "baseline / ours" in out
