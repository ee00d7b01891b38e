"""The README's promises, run as written on the embedded sample: every Python block (in order,
in one namespace, as a reader pastes them), the catalog.duckdb lines with an older DuckDB
client, a copied catalog, and the local commands that use the quickstart's recorded source."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seamless_catalog import Catalog
from seamless_catalog.cli.quickstart import quickstart
from seamless_catalog.ingestion.pipeline import ingest
from tests.paths import REPO

OLD_DUCKDB = Path(os.environ.get("SEAMLESS_CATALOG_OLD_DUCKDB", REPO / ".old-duckdb"))
OLD_CLI = OLD_DUCKDB / "duckdb_cli" / "duckdb"
NO_OLD = "older DuckDB clients not installed in .old-duckdb/: run bash scripts/test_extras.sh"


def readme_blocks(lang: str, text: str | None = None) -> list[str]:
    text = (REPO / "README.md").read_text() if text is None else text
    return [b for la, b in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M) if la == lang]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``cat``: the quickstart's catalog, ingested twice (two snapshots, as
    after any re-ingest), as the README's blocks name it."""
    work = tmp_path_factory.mktemp("readme")
    quickstart(work / "cat")
    sample = work / "cat" / "sample"
    lines = (sample / "filelist.csv").read_text().splitlines(keepends=True)
    (work / "fewer.csv").write_text("".join(lines[:-1]))  # one file fewer: new files table
    ingest(work / "cat", [str(sample / "hf")], filelist=str(work / "fewer.csv"))
    return work


@pytest.fixture
def in_workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(workdir)
    return workdir


# The README's Python blocks this file runs, each found by a line only it has.
BLOCKS = {
    "from_python": "tbl = cat.sql(",
    "loading": "cat.load_pair(",
    "torch": 'cat.torch_dataset("select file_id',
    "engines": "manifest.json",
    "moments_stream": "moment_at = stream.position",
    "moments_torch": "ds = cat.torch_dataset(shifts",
}


def python_block(marker: str) -> str:
    found = [b for b in readme_blocks("python") if marker in b]
    assert len(found) == 1, (marker, len(found))
    return found[0]


def run_block(code: str, ns: dict) -> dict:
    exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 - the README's own code
    return ns


def test_the_python_blocks_are_the_ones_this_test_knows():
    """A new block must be given a run here (fails when the README gains or loses one)."""
    blocks = readme_blocks("python")
    assert len(blocks) == len(BLOCKS) + 1, [b.splitlines()[0] for b in blocks]  # + clips: below
    assert [python_block(m) for m in BLOCKS.values()]  # each marker finds exactly one block
    assert sum("cat.clips(" in b for b in blocks) == 1  # run by tests/integration/test_clips.py


def test_from_python_block_interleaves_an_open_arrow_result(in_workdir: Path):
    ns = run_block(python_block(BLOCKS["from_python"]), {})
    cat = ns["cat"]
    # the Arrow result is still open (a streaming reader on DuckDB 2) and still whole
    tbl = ns["tbl"]
    table = tbl.read_all() if hasattr(tbl, "read_all") else tbl
    assert table.num_rows == cat.value("select count(*) from pairs") > 0
    assert ns["n"] == cat.sql("select * from files").pl()["placeholder"].sum()
    assert ns["df"].height == cat.value(
        "select count(*) from speech_activity where speech_ratio > 0.5"
    )


def test_interleaved_results_keep_temp_tables(in_workdir: Path):
    with Catalog.open("cat") as cat:
        cat.sql("create temp table picked as select file_id from files limit 3")
        assert cat.value("select count(*) from picked") == 3
        reader = cat.sql("select * from files").arrow()
        assert cat.value("select count(*) from files") == cat.value("select count(*) from files")
        first = cat.sql("select * from pairs").arrow()
        second = cat.sql("select * from pairs").arrow()
        assert first.read_all().num_rows == second.read_all().num_rows
        assert reader.read_all().num_rows == cat.value("select count(*) from files")
        assert cat.value("select count(*) from picked") == 3  # the connection is free again


def test_loading_block_reads_the_recorded_sample_offline(in_workdir: Path, no_external_network):
    ns = run_block(python_block(BLOCKS["from_python"]) + python_block(BLOCKS["loading"]), {})
    s, a, b = ns["s"], ns["a"], ns["b"]
    assert s.file_id == "V00_S0100_I00000002_P0100"  # read from the recorded sample
    assert s.json and s.audio is not None and s.sample_rate > 0
    assert s.npz["smplh:body_pose"].shape[0] > 0
    assert {a.file_id, b.file_id} == {"V00_S0100_I00000002_P0100", "V00_S0100_I00000002_P0101A"}
    assert ns["resume_at"] > 0
    again = ns["cat"].stream(
        "select interaction_key from pairs where split = 'dev'", modalities="json", shuffle=True,
        seed=0, rank=0, world_size=8, pairs_together=True, start=ns["resume_at"],
    )  # fmt: skip
    assert list(again) == []  # the block read its whole share: resuming there yields nothing


def test_torch_block(in_workdir: Path):
    pytest.importorskip("torch", reason="torch not installed (pip install torch)")
    ns = run_block(python_block(BLOCKS["from_python"]) + python_block(BLOCKS["torch"]), {})
    assert sum(1 for _ in ns["ds"]) == ns["cat"].value(
        "select count(*) from files where split = 'train'"
    )


def test_moments_stream_block_gives_both_sides_of_each_window_in_turn(in_workdir: Path):
    ns = run_block(python_block(BLOCKS["from_python"]) + python_block(BLOCKS["moments_stream"]),
                   {})  # fmt: skip
    cat, stream = ns["cat"], ns["stream"]
    again = cat.stream(ns["shifts"], pad=1.0, modalities="json", pairs_together=True,
                       shuffle=True, seed=0, rank=0, world_size=2)  # fmt: skip
    clips = list(again)
    assert ns["moment_at"] == len(stream) == len(clips) > 0  # the block read its whole share
    assert not stream.skipped
    sides = [(c.interaction_key, c.window.requested_start_s) for c in clips]
    runs = [k for i, k in enumerate(sides) if i == 0 or sides[i - 1] != k]
    assert len(runs) == len(set(runs)) and len(runs) < len(clips)  # a window's sides in turn
    # a lone side: the other side's window is invalid (a shift at the end of the shorter side)
    lone = [k for k in runs if sides.count(k) == 1]
    assert len(lone) <= len(stream.invalid) and max(map(sides.count, runs)) == 2
    clip = ns["clip"]
    assert clip.audio.dtype.name == "float32" and len(clip.audio) == round(
        clip.window.duration * clip.sample_rate
    )
    assert all(-1.0 <= w["start"] <= clip.window.duration + 1 for w in clip.words)


def test_moments_torch_block(in_workdir: Path):
    pytest.importorskip("torch", reason="torch not installed (pip install torch)")
    code = python_block(BLOCKS["from_python"]) + python_block(BLOCKS["moments_stream"])
    ns = run_block(code + python_block(BLOCKS["moments_torch"]), {})
    got = [c.window.stem for c in __import__("torch").utils.data.DataLoader(
        ns["ds"], batch_size=None)]  # fmt: skip
    assert got == [c.window.stem for c in ns["cat"].stream(
        ns["shifts"], pad=1.0, modalities="json", pairs_together=True)]  # fmt: skip
    assert ns["clip"].audio is not None


def test_other_engines_block_reads_exactly_the_current_snapshot(in_workdir: Path):
    with Catalog.open("cat") as cat:
        assert cat.snapshot == 2  # the glob would see both snapshots' files
        want = cat.value("select count(*) from raw.files")
        labels = sorted(r[0] for r in cat.sql("select distinct label from raw.files").fetchall())
    globbed = sum(1 for _ in Path("cat/data/files").rglob("*.parquet"))
    ns = run_block(python_block(BLOCKS["engines"]), {})
    assert len(ns["files"]) < globbed
    assert ns["by_polars"].height == ns["by_pyarrow"].num_rows == ns["by_duckdb"].num_rows == want
    assert sorted(set(ns["by_polars"]["label"].to_list())) == labels  # hive columns kept


def test_a_copied_catalog_opens_prebuilt_and_sandboxed(workdir: Path, tmp_path: Path):
    copy = tmp_path / "elsewhere"
    shutil.copytree(workdir / "cat", copy)
    with Catalog.open(workdir / "cat") as original:
        q = "select * from turn_taking order by all"
        want = original.sql(q).fetchall()
    for options in ({}, {"sandbox": True}):
        with Catalog.open(copy, **options) as cat:
            assert cat.prebuilt, options  # the copy's own catalog.duckdb, no view bound again
            assert cat.sql(q).fetchall() == want


def test_quickstart_materialize_reads_its_sample_offline(workdir: Path, tmp_path: Path):
    from seamless_catalog.materialize import materialize

    r = materialize(workdir / "cat", sql="select interaction_key from pairs limit 1", to=tmp_path)
    assert r.ok and r.count("delivered") == 2 * 4  # both sides, json/mp4/npz/wav
    assert json.loads((workdir / "cat" / "source.json").read_text()) == {"source": "sample/hf"}


@pytest.mark.slow  # two processes with another DuckDB on the path
@pytest.mark.skipif(not (OLD_DUCKDB / "duckdb").is_dir(), reason=NO_OLD)
def test_lowest_duckdb_runs_the_python_blocks_and_reads_what_the_highest_wrote(workdir: Path):
    """DuckDB 1.2 (pyproject's lowest) first on the path: the README's first and last blocks
    over a catalog written by the DuckDB this venv has (2.x), then its own quickstart."""
    script = (
        "import duckdb; assert duckdb.__version__.startswith('1.2'), duckdb.__version__\n"
        + python_block(BLOCKS["from_python"])
        + python_block(BLOCKS["engines"])
        + "tbl = tbl.read_all() if hasattr(tbl, 'read_all') else tbl\n"
        + "assert tbl.num_rows == cat.value('select count(*) from pairs') > 0\n"
        + "assert by_duckdb.num_rows == cat.value('select count(*) from raw.files')\n"
        + "from seamless_catalog.cli.quickstart import quickstart\n"
        + "quickstart('cat12', sample_dir='cat/sample')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(OLD_DUCKDB), str(REPO)]))
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    shutil.rmtree(workdir / "cat12")


@pytest.mark.skipif(not OLD_CLI.is_file(), reason=NO_OLD)
def test_duckdb_cli_1_5_opens_catalog_duckdb_as_the_readme_says(workdir: Path, tmp_path: Path):
    lines = [b for b in readme_blocks("sh") if "catalog.duckdb" in b]
    assert len(lines) == 1
    commands = [c for c in lines[0].strip().splitlines() if c]
    copy = tmp_path / "cat"  # a moved catalog, as the README says it still opens
    shutil.copytree(workdir / "cat", copy)
    with Catalog.open(copy) as cat:
        n_pairs = cat.value("select count(*) from pairs")
    for command in commands:
        cli = command.replace("duckdb -readonly", f"{OLD_CLI} -csv -readonly")
        proc = subprocess.run(
            ["bash", "-c", cli], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, (command, proc.stderr)
        assert "Error" not in proc.stdout + proc.stderr
    proc = subprocess.run(
        [str(OLD_CLI), "-csv", "-noheader", "-readonly", "catalog.duckdb", "-c",
         "select count(*) from pairs"],
        cwd=copy, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.stdout.strip() == str(n_pairs), proc.stderr


# Commands of the README that this test does not run here (patterns), each with where it is
# covered.
NOT_RUN_HERE = {
    r"hf://": "remote: the Hub path runs against tests/fakes/hub.py in test_remote_ingest.py",
    r"https://": "remote: the CDN path runs against tests/fakes/cdn.py in test_remote_ingest.py",
    r"s3://": "remote: the S3 path runs against moto in test_materialize_remote.py",
    r"pip install|test_extras\.sh": "installs: .ci/run runs them in a fresh venv",
    r"seamless-catalog dashboard": "a server: test_dashboard.py starts it and stops it",
    r"--engine ray": "needs the [ray] extra: test_engines.py",
    r"publish .*seamless-catalog$": "uploads to the Hub: test_publish.py, against the test Hub",
    r"duckdb -readonly": "another client: test_duckdb_cli_1_5_opens_catalog_duckdb_as_the_...",
}
# `materialize status` exits 1 until every shard is done: the README runs one shard before it
EXIT_STATUS = {"materialize status": 1}


def readme_commands() -> list[str]:
    """Every shell command of the README outside its Quick start (run by .ci/run and
    test_docs.py), continuation lines joined, comments dropped."""
    text = (REPO / "README.md").read_text()
    text = (
        text.split("## Quick start", 1)[0] + text.split("## Quick start", 1)[1].split("\n## ", 1)[1]
    )
    commands = []
    for lang, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        if lang not in ("", "sh"):
            continue
        pending = ""
        for line in block.replace("\\\n", " ").splitlines():
            pending += (" " if pending else "") + line
            if pending.count('"') % 2:
                continue  # a quoted argument goes on on the next line
            line, pending = pending, ""
            line = re.sub(r"\s+#[^\"']*$", "", line).strip() if not line.startswith("#") else ""
            if line:
                commands.append(re.sub(r"\s+", " ", line))
    return commands


@pytest.mark.slow  # a dozen CLI processes on the sample
def test_every_local_command_of_the_readme_runs_on_the_sample(workdir: Path, tmp_path: Path):
    work = tmp_path / "work"
    shutil.copytree(workdir / "cat", work / "cat")
    (work / "cat" / "catalog.duckdb").unlink()  # ingests below rebuild it
    sample = work / "cat" / "sample"
    shutil.copy(sample / "filelist.csv", work / "filelist.csv")
    shutil.copytree(sample / "assets", work / "assets")
    skipped, ran = [], []
    for command in readme_commands():
        why = next((why for key, why in NOT_RUN_HERE.items() if re.search(key, command)), None)
        if why:
            skipped.append(command)
            continue
        line = command.replace("~/seamless/", f"{sample}/hf/")
        line = line.replace("--catalog demo", "--catalog cat")  # one catalog for the README
        line = re.sub(r"^seamless-catalog ", f"{sys.executable} -m seamless_catalog ", line)
        proc = subprocess.run(
            ["bash", "-c", line], cwd=work, capture_output=True, text=True, timeout=300,
            env=dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0"),
        )  # fmt: skip
        want = next((rc for key, rc in EXIT_STATUS.items() if key in command), 0)
        assert proc.returncode == want, (command, proc.stdout[-2000:], proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, command
        ran.append(command)
    assert len(ran) >= 15, ran
    assert (work / "tt.parquet").exists() and (work / "pairs.csv").exists()
    assert any((work / "data").rglob("*.wav")), "the README's materialize delivered nothing"
    assert any((work / "shards").glob("*.tar")), "the README's export wrote no shard"
    assert len(skipped) == 10, skipped  # a new command of the README: run it, or say why not
