"""export --format webdataset: shards read back by webdataset and datasets, byte-identical."""

from __future__ import annotations

import json
import tarfile

import pytest
from click.testing import CliRunner

from seamless_catalog.access.export import parse_size
from seamless_catalog.cli import main
from seamless_catalog.errors import UsageError
from tests.access_helpers import IN_TARS, by_id, tree_path

EXTS = ("json", "mp4", "npz", "wav")


@pytest.fixture(scope="module")
def exported(hf_catalog, release, tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    args = ["export", "--catalog", str(hf_catalog), "--sql", IN_TARS, "--format", "webdataset",
            "--to", str(out), "--shard-size", "4MB", "--source", str(release / "hf")]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return out, json.loads((out / "index.json").read_text())


def test_shards_hold_the_selection_with_upstream_naming(exported, hf_catalog, release):
    out, index = exported
    shards = sorted(out.glob("*.tar"))
    assert [s["name"] for s in index["shards"]] == [p.name for p in shards] and len(shards) > 1
    assert not list(out.glob(".*part"))  # nothing half-written left behind
    rows = by_id(release)
    seen = []
    for shard in shards:
        with tarfile.open(shard) as tar:
            names = tar.getnames()
        for i in range(0, len(names), 4):  # members of a sample adjacent, in release order
            fid = names[i].rsplit(".", 1)[0]
            assert names[i : i + 4] == [f"{fid}.{e}" for e in EXTS]
            seen.append(fid)
    with_members = {r for r in rows if tree_path(release, rows[r], "json").exists()}
    assert len(seen) == len(set(seen)) == len(index["samples"])
    assert set(seen) <= with_members
    shard_of = {s["file_id"]: s["shard"] for s in index["samples"]}
    for s in index["samples"]:  # both sides of a pair in one shard
        for other in index["samples"]:
            if other["interaction_key"] == s["interaction_key"]:
                assert shard_of[other["file_id"]] == s["shard"]


def test_index_offsets_point_at_the_member_bytes(exported, release):
    out, index = exported
    rows = by_id(release)
    for s in index["samples"]:
        data = (out / s["shard"]).read_bytes()
        for ext, (offset, size) in s["members"].items():
            expected = tree_path(release, rows[s["file_id"]], ext).read_bytes()
            assert data[offset : offset + size] == expected


def test_webdataset_reads_them_back(exported, release):
    wds = pytest.importorskip("webdataset")
    out, index = exported
    rows = by_id(release)
    urls = [str(out / s["name"]) for s in index["shards"]]
    got = []
    for sample in wds.WebDataset(urls, shardshuffle=False):
        fid = sample["__key__"]
        for ext in EXTS:
            assert sample[ext] == tree_path(release, rows[fid], ext).read_bytes()
        got.append(fid)
    assert got == [s["file_id"] for s in index["samples"]]


def test_hf_datasets_reads_them_back(exported, release, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    from datasets.packaged_modules.webdataset.webdataset import WebDataset

    # keep every member's bytes: datasets turns an npz into Arrow lists (minutes for keypoints)
    # and its Json feature rounds floats, so bytes are what can be compared exactly
    monkeypatch.setattr(WebDataset, "DECODERS", {})
    out, index = exported
    binary = datasets.Value("binary")
    features = datasets.Features({"json": binary, "mp4": binary, "npz": binary,
                                  "wav": binary, "__key__": datasets.Value("string"),
                                  "__url__": datasets.Value("string")})  # fmt: skip
    files = [str(out / s["name"]) for s in index["shards"]]
    ds = datasets.load_dataset("webdataset", data_files={"train": files}, split="train",
                               features=features, cache_dir=str(tmp_path))  # fmt: skip
    rows = by_id(release)
    assert ds["__key__"] == [s["file_id"] for s in index["samples"]]
    for ex in ds:
        row = rows[ex["__key__"]]
        for ext in EXTS:
            assert ex[ext] == tree_path(release, row, ext).read_bytes()


def test_parse_size():
    assert parse_size("1GB") == 10**9 and parse_size("512MiB") == 512 * 2**20
    assert parse_size("1000") == 1000 and parse_size("1.5kb") == 1500
    for bad in ("1XB", "", "-1GB", "0"):
        with pytest.raises(UsageError):
            parse_size(bad)
