"""Publish: the folder loads with ``datasets``, its card lists every table, and the real
``huggingface_hub`` client uploads it to the test Hub server, which then serves it back."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from seamless_catalog.cli import main
from seamless_catalog.config import from_env
from seamless_catalog.errors import UsageError
from seamless_catalog.publish import MARKER, publish, table_names
from seamless_catalog.store import portable, schema, snapshots
from seamless_catalog.store.catalogdb import connect
from tests.cli_contract import assert_error
from tests.fakes.upload import card_yaml_problems

REPO = "org/seamless-cat"
TOKEN = "hf_test_write_token"


@pytest.fixture(scope="module")
def published(hf_catalog: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("published") / "seamless-cat"
    publish(hf_catalog, REPO, out=out, dry_run=True)
    return out


def _front_matter(readme: str) -> dict:
    assert readme.startswith("---\n")
    return yaml.safe_load(readme[4:].split("\n---\n", 1)[0])


def _catalog_rows(root: Path, name: str) -> dict[str, int]:
    """Rows of a table per HF split, read from the catalog's own files."""
    relation = snapshots.select_sql(name, snapshots.require_manifest(root).files(root, name))
    con = connect()
    if "split" in schema.table(name).schema.names:
        sql = f"select split, count(*) from ({relation}) group by split"
        return dict(con.execute(sql).fetchall())
    return {"train": con.execute(f"select count(*) from ({relation})").fetchone()[0]}


def _tables_with_rows(root: Path) -> list[str]:
    m = snapshots.require_manifest(root)
    return [name for name in table_names(m) if m.tables[name]]


# ------------------------------------------------------------------ the folder


def test_card_yaml_parses_and_lists_every_table(published, hf_catalog):
    readme = (published / "README.md").read_text()
    meta = _front_matter(readme)
    assert card_yaml_problems(readme) == []
    assert meta["license"] == "cc-by-nc-4.0"
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert list(configs) == _tables_with_rows(hf_catalog)
    assert [c for c in configs if configs[c].get("default")] == ["files"]
    for name, config in configs.items():
        splits = [d["split"] for d in config["data_files"]]
        assert set(splits) == set(_catalog_rows(hf_catalog, name)), name
        for d in config["data_files"]:
            assert list(published.glob(d["path"])), d
    body = readme.split("\n---\n", 1)[1]
    for name in table_names(snapshots.require_manifest(hf_catalog)):
        assert f"`{name}`" in body if name in configs else name in body.split("no config")[1]
    assert f'load_dataset("{REPO}", "files")' in readme
    assert f"hf://datasets/{REPO}/data/files/*.parquet" in readme


def test_files_carry_partition_columns_and_keep_the_profile(published):
    files = sorted(published.glob("data/*/*.parquet"))
    assert files and not list(published.rglob("*=*"))  # no hive folders
    for f in files:
        t = schema.table(f.parent.name)
        assert portable.parquet_problems(f) == []
        got = pq.read_schema(f)
        assert (got.names, got.types) == (t.schema.names, t.schema.types), f
        if "split" in t.schema.names:
            split = f.name.split("-", 1)[0]
            assert set(pq.read_table(f, columns=["split"]).column(0).to_pylist()) == {split}


@pytest.mark.slow  # datasets builds every config
def test_each_config_loads_with_datasets(published, hf_catalog, tmp_path):
    import datasets

    datasets.disable_progress_bars()
    meta = _front_matter((published / "README.md").read_text())
    for config in meta["configs"]:
        name = config["config_name"]
        ds = datasets.load_dataset(str(published), name, cache_dir=str(tmp_path / "cache"))
        assert {s: d.num_rows for s, d in ds.items()} == _catalog_rows(hf_catalog, name), name
        if name == "files":
            row = ds["train"][0]
            assert row["split"] == "train" and isinstance(row["prompt_hash"], str)
            assert all(len(h) == 8 for h in ds["train"]["prompt_hash"])


def test_build_is_atomic_and_only_replaces_its_own_folder(hf_catalog, tmp_path, monkeypatch):
    out = tmp_path / "pub"
    publish(hf_catalog, REPO, out=out, dry_run=True)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert (out / MARKER).is_file()

    import seamless_catalog.publish as pub

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pub, "dataset_card", boom)
    with pytest.raises(OSError):
        publish(hf_catalog, REPO, out=out, dry_run=True)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["pub"]  # no temp folder left

    monkeypatch.undo()
    publish(hf_catalog, REPO, out=out, dry_run=True)  # a previous build is replaced
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not written by"):
        publish(hf_catalog, REPO, out=theirs, dry_run=True)
    assert (theirs / "notes.txt").read_text() == "mine"


def test_cli_dry_run_and_usage_errors(hf_catalog, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(main, ["publish", "--catalog", str(hf_catalog), "--repo", REPO, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "files: train" in r.output and "nothing uploaded" in r.output
    assert (tmp_path / "seamless-cat" / "README.md").is_file()  # default --out: ./NAME
    r = runner.invoke(main, ["publish", "--catalog", str(hf_catalog), "--repo", "no-slash"])
    assert r.exit_code == 2 and "ORG/NAME" in r.output
    assert_error(r, "--repo must be ORG/NAME", "'no-slash'", exit_code=2)
    r = runner.invoke(main, ["publish", "--help"])
    assert "Example:" in r.output


# ------------------------------------------------------------------ upload to the test Hub


@pytest.fixture
def hub(make_hub_server, tmp_path):
    """An empty dataset repo that needs a token; Parquet of 4 kB or more goes through LFS."""
    root = tmp_path / "hub_repo"
    root.mkdir()
    return make_hub_server(root, repo_id=REPO, token=TOKEN, lfs_threshold=4096, lfs_patterns=())


def _settings(hub):
    return from_env({"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": TOKEN})


@pytest.mark.slow  # uploads the whole catalog to the fake Hub
def test_upload_then_read_back_with_huggingface_hub(hub, hf_catalog, published, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download

    r = publish(hf_catalog, REPO, settings=_settings(hub))
    assert r.folder is None and r.commit_url.endswith(hub.sha)
    served = {p: f for p, f in hub.snapshot.files.items()}
    assert set(served) == {"README.md", *r.files}
    assert MARKER not in served
    modes = {f.is_lfs for f in served.values()}
    assert modes == {True, False}  # both regular (base64 in the commit) and LFS uploads
    puts = [x for x in hub.stats.snapshot() if x.method == "PUT"]
    assert len(puts) == sum(f.is_lfs for f in served.values()) and all(
        x.status == 200 and not x.authorized for x in puts
    )

    api = HfApi(endpoint=hub.endpoint, token=TOKEN)
    assert sorted(api.list_repo_files(REPO, repo_type="dataset")) == sorted(served)
    lfs_path = next(p for p, f in served.items() if f.is_lfs)
    local = hf_hub_download(
        REPO, lfs_path, repo_type="dataset", endpoint=hub.endpoint, token=TOKEN,
        cache_dir=tmp_path / "dl",
    )  # fmt: skip
    assert Path(local).read_bytes() == (published / lfs_path).read_bytes()
    readme = hf_hub_download(
        REPO, "README.md", repo_type="dataset", endpoint=hub.endpoint, token=TOKEN,
        cache_dir=tmp_path / "dl",
    )  # fmt: skip
    assert Path(readme).read_text() == (published / "README.md").read_text()

    # publishing the same catalog again changes nothing; a stale data file is removed
    sha = hub.sha
    publish(hf_catalog, REPO, settings=_settings(hub))
    assert hub.sha == sha
    stale = hub.root / "data" / "old_table" / "train-00000-of-00001.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    hub.refresh()
    publish(hf_catalog, REPO, settings=_settings(hub))
    assert "data/old_table/train-00000-of-00001.parquet" not in hub.snapshot.files


@pytest.mark.slow  # uploads, then datasets loads from the fake Hub
def test_datasets_loads_the_published_repo_from_the_hub(hub, hf_catalog, tmp_path, monkeypatch):
    """``datasets.load_dataset("ORG/NAME", config)`` with HF_ENDPOINT at the test server."""
    import datasets
    from huggingface_hub import constants

    publish(hf_catalog, REPO, settings=_settings(hub))
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE",
        hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
    )  # fmt: skip
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "ds"))
    datasets.disable_progress_bars()
    for name in ("files", "participants"):
        ds = datasets.load_dataset(REPO, name, cache_dir=str(tmp_path / "ds"))
        assert {s: d.num_rows for s, d in ds.items()} == _catalog_rows(hf_catalog, name)


def test_upload_without_write_access_names_the_token(hub, hf_catalog):
    from seamless_catalog.errors import RemoteError

    settings = from_env({"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "wrong"})
    with pytest.raises(RemoteError, match="HF_TOKEN"):
        publish(hf_catalog, REPO, settings=settings)
    assert hub.snapshot.files == {}


# ------------------------------------------------------------------ the upload protocol pieces


class _Reply:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.body = status, body

    def json(self):
        return json.loads(self.body)


def _call(method: str, url: str, body: bytes = b"", headers: dict | None = None) -> _Reply:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return _Reply(r.status, r.read())
    except urllib.error.HTTPError as e:
        return _Reply(e.code, e.read())


def _post(hub, path: str, payload, token: str | None = TOKEN) -> _Reply:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return _call("POST", f"{hub.endpoint}{path}", json.dumps(payload).encode(), headers)


def _batch(hub, data: bytes) -> dict:
    oid = hashlib.sha256(data).hexdigest()
    r = _post(
        hub,
        f"/datasets/{REPO}.git/info/lfs/objects/batch",
        {
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": oid, "size": len(data)}],
        },
    )
    assert r.status_code == 200
    return r.json()["objects"][0]


def test_lfs_put_refuses_bytes_that_are_not_the_object(hub):
    data = b"x" * 5000
    obj = _batch(hub, data)
    href = obj["actions"]["upload"]["href"]
    assert href.startswith(hub.cdn_endpoint)  # another origin, like S3: no token sent there
    bad = _call("PUT", href, b"y" * 5000)
    assert bad.status_code == 400 and "sha256 mismatch" in bad.json()["error"]
    assert _call("PUT", href, data[:-1]).status_code == 400
    assert _call("PUT", href.replace("Signature=", "Signature=0"), data).status_code == 403
    verify = obj["actions"]["verify"]["href"]
    assert (
        _post(hub, verify.removeprefix(hub.endpoint), {"oid": obj["oid"], "size": 5000}).status_code
        == 404
    )

    assert _call("PUT", href, data).status_code == 200
    assert (
        _post(hub, verify.removeprefix(hub.endpoint), {"oid": obj["oid"], "size": 5000}).status_code
        == 200
    )
    assert "actions" not in _batch(hub, data)  # already stored: nothing to upload


def test_commit_refuses_an_lfs_file_never_uploaded(hub):
    lines = [
        {"key": "header", "value": {"summary": "s", "description": ""}},
        {"key": "file", "value": {"path": "a.txt", "encoding": "base64",
                                  "content": base64.b64encode(b"hi").decode()}},
        {"key": "lfsFile",
         "value": {"path": "b.bin", "algo": "sha256", "oid": "0" * 64, "size": 9}},
    ]  # fmt: skip
    body = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    r = _call(
        "POST", f"{hub.endpoint}/api/datasets/{REPO}/commit/main", body,
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert r.status_code == 422
    assert hub.snapshot.files == {}  # nothing of the refused commit was applied


def test_preupload_modes_and_auth(hub):
    files = [{"path": "README.md", "sample": "", "size": 100},
             {"path": "data/x.parquet", "sample": "", "size": 10_000}]  # fmt: skip
    r = _post(hub, f"/api/datasets/{REPO}/preupload/main", {"files": files})
    assert [f["uploadMode"] for f in r.json()["files"]] == ["regular", "lfs"]
    r = _post(hub, f"/api/datasets/{REPO}/preupload/main", {"files": files}, token=None)
    assert r.status_code == 401
    r = _post(hub, "/api/repos/create", {"name": "other", "organization": "org", "type": "dataset"})
    assert r.status_code == 403
