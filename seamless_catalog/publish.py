"""Publish a catalog as a Hugging Face dataset repo: Parquet per table plus a dataset card.

The published folder::

    README.md                                  dataset card; YAML ``configs``: one per table
    data/<table>/<split>-00000-of-00001.parquet

Each table is one config. A table with a ``split`` column (rows of files: ``label``/``split``
partitions in the catalog) has the dataset's own splits as its HF splits (``train``/``dev``/
``test``, those present); any other table (prompts, participants, ingest bookkeeping...) has
one ``train`` split, the HF convention for "all rows". Partition columns are written *inside*
the files and the folders carry no ``key=value`` names: ``datasets``, ``hf://`` readers and
Spark all see the same columns without hive discovery. A table with no rows has no config
(HF ``datasets`` cannot load an empty split); the card names it.

The folder is built beside its destination under a temp name, checked against the portable
profile, then renamed into place; the upload is ``HfApi.create_repo(exist_ok=True)`` then one
``upload_folder`` commit that also removes published files of tables or splits that are gone.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from .config import Settings, from_env
from .errors import NotPortable, RemoteError, UsageError, disk_errors
from .store import portable, schema, snapshots
from .store.catalogdb import connect

LICENSE = "cc-by-nc-4.0"
SINGLE_SPLIT = "train"
DEFAULT_CONFIG = "files"
MAX_FILE_BYTES = 256 * 2**20  # Parquet files are cut near this size (the Hub viewer likes < 1 GB)
MARKER = ".seamless-catalog-publish.json"  # says a folder is ours to replace; not uploaded
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_SPLIT = re.compile(r"^\w+(\.\w+)*$")  # what the Hub accepts as a split name


@dataclass(frozen=True)
class PublishedTable:
    name: str
    description: str
    files: dict[str, list[str]]  # HF split -> paths in the repo
    rows: dict[str, int]  # HF split -> rows

    @property
    def config(self) -> dict:
        data_files = [
            {"split": split, "path": f"data/{self.name}/{split}-*.parquet"} for split in self.files
        ]
        out: dict = {"config_name": self.name}
        if self.name == DEFAULT_CONFIG:
            out["default"] = True
        out["data_files"] = data_files
        return out


@dataclass
class PublishResult:
    repo_id: str
    snapshot: int
    tables: list[PublishedTable]
    empty: list[str]  # tables without rows: no config
    folder: Path | None  # None when built in a temporary folder for the upload only
    commit_url: str | None = None  # None for a dry run
    repo_url: str | None = None
    files: list[str] = field(default_factory=list)


def publish(
    catalog_dir: str | Path,
    repo_id: str,
    *,
    out: str | Path | None = None,
    dry_run: bool = False,
    revision: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
    settings: Settings | None = None,
) -> PublishResult:
    """Build the publishable folder of the catalog at ``catalog_dir`` and upload it to the
    dataset repo ``repo_id`` (``HF_ENDPOINT``/``HF_TOKEN`` through ``settings``).

    ``out`` keeps the folder (default for a dry run: ``./NAME``); without it an upload builds in
    a temporary folder. ``dry_run`` builds only. ``revision`` is an existing branch (default the
    repo's main branch); ``private`` applies when the repo is created."""
    if not _REPO_ID.match(repo_id):
        raise UsageError(f"--repo must be ORG/NAME (a Hub dataset repo id), got {repo_id!r}")
    root = Path(catalog_dir)
    manifest = snapshots.require_manifest(root)
    if out is None and dry_run:
        out = Path(repo_id.split("/")[1])
    with _folder(out) as folder:
        tables, empty = build_folder(root, manifest, repo_id, folder)
        result = PublishResult(
            repo_id, manifest.snapshot, tables, empty, Path(out) if out is not None else None
        )
        result.files = sorted(p for t in tables for paths in t.files.values() for p in paths)
        if not dry_run:
            result.repo_url, result.commit_url = upload(
                folder, repo_id, settings or from_env(), revision, private, commit_message
            )
    return result


@contextlib.contextmanager
def _folder(out: str | Path | None) -> Iterator[Path]:
    """Where to build: ``out`` itself, or a temporary folder removed afterwards."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="seamless-catalog-publish-") as tmp:
        yield Path(tmp) / "repo"


def build_folder(
    root: Path, manifest: snapshots.Manifest, repo_id: str, out: Path
) -> tuple[list[PublishedTable], list[str]]:
    """Write the folder to publish at ``out``, atomically: built under a temp name beside it,
    then renamed. An existing ``out`` is replaced only if a previous build wrote it."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} exists and was not written by `seamless-catalog publish`: "
            "choose another --out or remove it"
        )
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with disk_errors(out):
            tmp.mkdir(parents=True)
            tables, empty = _write_tables(root, manifest, tmp)
            card = dataset_card(repo_id, manifest, tables, empty)
            (tmp / "README.md").write_text(card, encoding="utf-8")
            marker = {"repo_id": repo_id, "snapshot": manifest.snapshot, "run_id": manifest.run_id}
            (tmp / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
            _swap_in(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tables, empty


def _swap_in(tmp: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.old")
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _write_tables(
    root: Path, manifest: snapshots.Manifest, folder: Path
) -> tuple[list[PublishedTable], list[str]]:
    con = connect()
    tables, empty = [], []
    try:
        for name in table_names(manifest):
            files = manifest.files(root, name)
            t = _write_table(con, name, files, folder) if files else None
            if t is None:
                empty.append(name)
            else:
                tables.append(t)
    finally:
        con.close()
    return tables, empty


def table_names(manifest: snapshots.Manifest) -> list[str]:
    """Every table of the snapshot (derived ones too): declared ones in declared order first."""
    declared = list(schema.TABLES)
    rank = {n: i for i, n in enumerate(declared)}
    return sorted(manifest.tables, key=lambda n: (rank.get(n, len(declared)), n))


def _write_table(con, name: str, files: list[Path], folder: Path) -> PublishedTable | None:
    t = schema.table(name)
    relation = snapshots.select_sql(name, files)
    order = ", ".join(schema.quote_ident(c) for c in t.partition_by + t.sort_by)
    if "split" in t.names:
        found = con.execute(f"SELECT DISTINCT split FROM ({relation})").fetchall()
        splits = sorted((r[0] for r in found), key=_split_order)
        where = " WHERE split = ?"
    else:
        splits, where = [SINGLE_SPLIT], ""
    out_files: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    for split in splits:
        if split is None or not _SPLIT.match(split):
            raise UsageError(f"table {name}: split {split!r} cannot be a Hub split name")
        written = _copy(con, f"SELECT * FROM ({relation}){where} ORDER BY {order}",
                        [split] if where else [], folder / "data" / name, split)  # fmt: skip
        for path in written:
            _check(path, t.schema)
        rows[split] = sum(pq.read_metadata(p).num_rows for p in written)
        if rows[split]:
            out_files[split] = [p.relative_to(folder).as_posix() for p in written]
    if not out_files:
        return None
    return PublishedTable(name, t.description, out_files, {s: rows[s] for s in out_files})


def _split_order(split: str | None) -> tuple[int, str]:
    """train, dev, test first (the order the Hub shows), then any other split by name."""
    known = ("train", "dev", "test")
    return (known.index(split), "") if split in known else (len(known), str(split))


def _copy(con, sql: str, params: list, folder: Path, split: str) -> list[Path]:
    """COPY ``sql`` to ``folder/<split>-NNNNN-of-NNNNN.parquet`` files near MAX_FILE_BYTES each."""
    staging = folder / f".{split}"
    folder.mkdir(parents=True, exist_ok=True)
    pattern = snapshots.sql_literal(split + "_{i}")
    con.execute(
        f"COPY ({sql}) TO {snapshots.sql_literal(staging)} (FORMAT parquet, COMPRESSION zstd, "
        f"FILE_SIZE_BYTES {MAX_FILE_BYTES}, FILENAME_PATTERN {pattern})",
        params,
    )
    parts = sorted(staging.glob("*.parquet"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    n = len(parts)
    out = []
    for i, part in enumerate(parts):
        target = folder / f"{split}-{i:05d}-of-{n:05d}.parquet"
        part.rename(target)
        out.append(target)
    shutil.rmtree(staging)
    return out


def _check(path: Path, declared) -> None:
    problems = portable.parquet_problems(path)
    got = pq.read_schema(path)
    if got.names != declared.names or got.types != declared.types:
        problems.append(f"columns {got} are not the declared {declared}")
    if problems:
        raise NotPortable(path, problems)


def dataset_card(
    repo_id: str, manifest: snapshots.Manifest, tables: list[PublishedTable], empty: list[str]
) -> str:
    """The README.md of the published repo: YAML front matter (license, configs) and a body."""
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(
        license=LICENSE,
        pretty_name="Seamless Interaction catalog",
        tags=["seamless-interaction", "catalog", "parquet", "conversation"],
        configs=[t.config for t in tables],
    )
    rows = "\n".join(
        f"| `{t.name}` | {', '.join(f'{s}: {n:,}' for s, n in t.rows.items())} | {t.description} |"
        for t in tables
    )
    none = (
        f"\nTables with no rows in this snapshot (no config): {', '.join(empty)}.\n"
        if empty
        else ""
    )
    return _CARD.format(
        yaml=data.to_yaml(),
        repo=repo_id,
        snapshot=manifest.snapshot,
        run_id=manifest.run_id,
        rows=rows,
        none=none,
        split=SINGLE_SPLIT,
    )


_CARD = """---
{yaml}
---

# Seamless Interaction catalog

A queryable catalog of Meta's [Seamless Interaction](https://huggingface.co/datasets/facebook/seamless-interaction)
dataset, written by `seamless-catalog publish` (catalog snapshot {snapshot}, ingest run
`{run_id}`): the file list, prompts,
participants, relationships, transcripts, voice activity, annotations, media facts and the tar
member index, as Parquet. It holds metadata only, no audio or video: select rows here, then
download just those files from the source dataset.

**License**: CC-BY-NC 4.0, as the source dataset (© Meta Platforms). Non-commercial use only.

## Tables

One config per table. Tables of per-file rows keep the dataset's splits (`train`, `dev`,
`test`) as their splits, and `label`/`split` columns inside every file; the other tables have
one `{split}` split holding all rows.

| config | rows per split | what it holds |
|---|---|---|
{rows}
{none}
Ids are text with their leading zeros (`prompt_hash` `00000582`, `participant` `0299A`), times
are DOUBLE seconds, timestamps UTC microseconds; no column needs a special reader.

## Query it

```python
import duckdb  # reads hf:// paths through its httpfs extension
duckdb.sql(\"\"\"
    select label, split, count(*) as n_files
    from 'hf://datasets/{repo}/data/files/*.parquet'
    group by all order by all
\"\"\").show()
```

```python
from datasets import load_dataset
files = load_dataset("{repo}", "files")          # a DatasetDict of the splits
words = load_dataset("{repo}", "transcript_words", split="dev")
```

Polars: `pl.scan_parquet("hf://datasets/{repo}/data/vad_segments/*.parquet")`.
"""


def upload(
    folder: Path,
    repo_id: str,
    settings: Settings,
    revision: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
) -> tuple[str, str]:
    """Create the dataset repo if needed and commit ``folder`` to it; (repo URL, commit URL).

    Published files under ``data/`` that the folder no longer has are deleted in the same commit.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token)
    where = f"hf://datasets/{repo_id}"
    try:
        repo_url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=folder,
            revision=revision,
            commit_message=commit_message or "Publish the seamless-catalog catalog",
            ignore_patterns=[MARKER],
            delete_patterns=["data/*"],
        )
    except HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else None
        hint = ""
        if status in (401, 403):
            hint = (
                f"set HF_TOKEN (or run `hf auth login`) to a token with write access to "
                f"{repo_id.split('/')[0]}"
            )
        elif status == 404 and revision:
            hint = f"create the branch {revision!r} first (`hf repo branch create`)"
        raise RemoteError(where, f"upload failed (HTTP {status}: {e})", hint) from None
    except OSError as e:
        raise RemoteError(where, f"upload failed: {e}") from None
    return str(repo_url), str(info.commit_url if hasattr(info, "commit_url") else info)
