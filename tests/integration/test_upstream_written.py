"""Ingest a folder that the upstream toolkit filled, in its layout and format.

The folder is made here as upstream's own code makes it (facebookresearch/seamless_interaction,
``src/seamless_interaction/fs.py``, read from its repository; it is not on the PyPI mirror, so
its observable behaviour is reproduced, each step citing the function):

* ``download_archive_from_hf(extract=True)``: ``hf_hub_download(local_dir=...)`` puts the tar
  at ``{label}/{split}/{batch:04d}/{archive:04d}.tar`` (with its ``.cache/huggingface``
  metadata), then ``tarfile.open(tar).extractall({archive:04d})`` and ``os.remove(tar)``. A
  run stopped half-way leaves some archives extracted and others still tars.
* ``gather_file_id_data_from_s3`` + ``_wget_download_from_s3``: a JSON Lines file becomes a
  list (``[json.loads(line) for line in f]``), an annotation file one ``json.load(f)`` (so a
  one-line file is an object, and a file of several lines raises and nothing is written),
  merged into ``{id, metadata:*, annotations:*}`` and ``json.dump(..., indent=4)`` into
  ``{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.json``.

The real 3P annotation files of ``usc-raw`` give the dict annotations; the generated release
gives the tars (with a sample the filelist does not list).
"""

from __future__ import annotations

import csv
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from seamless_catalog.catalog import Catalog
from seamless_catalog.cli import main
from seamless_catalog.errors import UsageError
from seamless_catalog.ingestion import docbatch, documents
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.ingestion.sink import RowSink
from seamless_catalog.ingestion.units import Unit
from seamless_catalog.layout import split_name
from seamless_catalog.materialize import materialize
from tests.access_helpers import IN_TARS, by_id, filelist, tree_path

EXTS = ("json", "mp4", "npz", "wav")
TAR_LAYOUT = "{label}/{split}/{batch:04d}/{archive:04d}.tar"


# -- upstream's behaviour, reproduced -----------------------------------------------------
def upstream_extract(tar: Path) -> Path:
    """``download_archive_from_hf(extract=True)`` once the tar is local: extract into the
    folder of the archive's number, then remove the tar."""
    folder = tar.with_suffix("")
    with tarfile.open(tar) as t:
        t.extractall(folder, filter="data")
    tar.unlink()
    return folder


def upstream_per_file_json(file_id: str, vad: Path | None, annotations: dict[str, Path]):
    """The merged json of ``gather_file_id_data_from_s3``, or None where upstream raises."""
    doc: dict = {"id": file_id}
    if vad is not None:
        with vad.open() as f:
            doc["metadata:vad"] = [json.loads(line) for line in f]
    for kind, path in annotations.items():
        with path.open() as f:
            try:
                doc[f"annotations:{kind}"] = json.load(f)
            except json.JSONDecodeError:
                return None  # "Extra data": the worker raises, the whole file_id fails
    return doc


def real_participants(real: Path) -> list[dict]:
    """Each real participant: its filelist row, VAD file and 3P annotation files."""
    out = []
    for inter in sorted((real / "usc-raw").iterdir()):
        for row in json.loads((inter / "interaction" / "filelist_entries.json").read_text()):
            fid = row["file_id"]
            files = sorted(inter.glob(f"participant_*/*_{fid}.json*"))
            vad = [f for f in files if f.name.startswith("vad_")]
            anns = {f.name.split("_", 1)[0]: f for f in files if not f.name.startswith("vad_")}
            out.append({"row": row, "vad": vad[0] if vad else None, "annotations": anns})
    return out


def folder_of(row: dict) -> str:
    return (
        f"{row['label']}/{row['split']}/{int(row['batch_idx']):04d}/{int(row['archive_idx']):04d}"
    )


# -- the folder ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def upstream_root(release, real, tmp_path_factory):
    """The generated tars, every other one (and the stray's) extracted by upstream's steps,
    beside the real participants' per-file downloads; plus what else such a folder holds."""
    base = tmp_path_factory.mktemp("upstream")
    root = base / "seamless_interaction"
    shutil.copytree(release / "hf", root)
    stray = json.loads((release / "release.json").read_text())["strays"][0]
    tars = sorted(root.rglob("*.tar"))
    extracted = [t for i, t in enumerate(tars) if i % 2 == 0 or t == root / stray["archive_path"]]
    for tar in extracted:
        upstream_extract(tar)
    meta = root / ".cache" / "huggingface" / "download" / "improvised" / "x.tar.metadata"
    meta.parent.mkdir(parents=True)
    meta.write_text("commit\netag\n0\n")  # what hf_hub_download(local_dir=) leaves
    (root / "notes.txt").write_text("downloaded on Monday\n")
    off = root / "improvised" / "dev" / "misc" / "0001.tar"
    off.parent.mkdir(parents=True)
    shutil.copyfile(tars[1], off)
    docs = {}
    for p in real_participants(real):
        doc = upstream_per_file_json(p["row"]["file_id"], p["vad"], p["annotations"])
        if doc is None:
            continue
        dest = root / folder_of(p["row"]) / f"{p['row']['file_id']}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w") as f:
            json.dump(doc, f, indent=4)
        docs[p["row"]["file_id"]] = (doc, p)
    rows = filelist(release) + [p["row"] for _, p in docs.values()]
    with (base / "filelist.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return {
        "root": root, "filelist": base / "filelist.csv", "docs": docs, "stray": stray,
        "extracted": [t.relative_to(root).with_suffix("").as_posix() for t in extracted],
        "off_layout": off, "notes": root / "notes.txt",
    }  # fmt: skip


@pytest.fixture(scope="module")
def ingested(upstream_root, release, tmp_path_factory):
    cat = tmp_path_factory.mktemp("cat")
    result = ingest(
        cat,
        [str(upstream_root["root"])],
        filelist=str(upstream_root["filelist"]),
        assets=str(release / "assets"),
    )
    with Catalog.open(cat) as c:
        yield result, c


def test_the_real_files_give_dicts_where_one_line(real):
    """The fixture itself: 27 of the 57 real 3P files are one line, so json.load gives a dict."""
    anns = [f for p in real_participants(real) for f in p["annotations"].values()]
    single = [f for f in anns if len(f.read_text().splitlines()) == 1]
    assert (len(anns), len(single)) == (57, 27)
    assert all(isinstance(json.load(f.open()), dict) for f in single)


def test_nothing_is_quarantined(ingested, upstream_root):
    result, cat = ingested
    errors = cat.sql("select location, reason from raw.ingest_issues where severity = 'error'")
    assert errors.fetchall() == [] and result.ok
    assert any(isinstance(d[f"annotations:{k}"], dict) for d, p in upstream_root["docs"].values()
               for k in p["annotations"])  # fmt: skip


def test_per_file_downloads_alone_ingest_with_exit_0(upstream_root, release, tmp_path):
    """A tree of nothing but upstream's per-file JSON (the dict annotations included)."""
    root = tmp_path / "per-file"
    for fid, (_, p) in upstream_root["docs"].items():
        src = upstream_root["root"] / folder_of(p["row"]) / f"{fid}.json"
        dest = root / folder_of(p["row"]) / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    args = ["ingest", "--catalog", str(tmp_path / "cat"), "--filelist",
            str(upstream_root["filelist"]), "--assets", str(release / "assets"),
            str(root)]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    with Catalog.open(tmp_path / "cat") as cat:
        assert cat.value("select count(*) from raw.ingest_issues") == 0
        n = cat.value("select count(*) from raw.annotations")
    lines = sum(len(f.read_text().splitlines()) for _, p in upstream_root["docs"].values()
                for f in p["annotations"].values())  # fmt: skip
    assert n == lines > 0


def test_dict_annotations_are_one_annotation_each(ingested, upstream_root):
    _, cat = ingested
    for fid, (_, p) in upstream_root["docs"].items():
        for kind, path in p["annotations"].items():
            lines = [json.loads(x) for x in path.read_text().splitlines()]
            expected = [(i, a["annotation"], float(a["start_ts"]), float(a["end_ts"]))
                        for i, a in enumerate(lines)]  # fmt: skip
            got = cat.sql(
                "select annotation_idx, text, start_s, end_s from raw.annotations "
                "where file_id = ? and annotation_type = ? order by annotation_idx",
                [fid, kind],
            ).fetchall()
            assert got == expected, (fid, kind)
        types = cat.value("select annotation_types from raw.documents where file_id = ?", [fid])
        assert types == sorted(p["annotations"])


def test_the_loaded_sample_lists_them_too(ingested, upstream_root):
    _, cat = ingested
    fid, (doc, p) = next(
        (f, d) for f, d in upstream_root["docs"].items()
        if any(isinstance(d[0][f"annotations:{k}"], dict) for k in d[1]["annotations"])
    )  # fmt: skip
    s = cat.load(fid, modalities="json", media=upstream_root["root"], source=None)
    for kind in p["annotations"]:
        value = doc[f"annotations:{kind}"]
        assert s.annotations[kind] == (value if isinstance(value, list) else [value])


def test_batch_parse_matches_parsing_alone(upstream_root):
    """The Arrow fast path sends a dict annotation to the reference parse: same rows."""
    batched, alone = RowSink("run"), RowSink("run")
    for fid, (_, p) in upstream_root["docs"].items():
        path = upstream_root["root"] / folder_of(p["row"]) / f"{fid}.json"
        args = (path.read_bytes(), fid, p["row"]["label"], p["row"]["split"], str(path), "tree")
        for sink in (batched, alone):
            sink.begin(Unit(f"tree:{fid}", "tree", "/src", "fp", lambda s: None))
        batched.defer_document(docbatch.Doc(*args, batched.unit, batched.source))
        documents.parse_merged(alone, *args)
    rows = [
        {n: sorted(map(str, t.to_pylist())) for n, t in s.tables().items()}
        for s in (batched, alone)
    ]
    n_files = sum(len(p["annotations"]) for _, p in upstream_root["docs"].values())
    assert rows[0] == rows[1] and len(rows[0]["annotations"]) == n_files == 27


def test_a_dict_without_annotation_keys_is_still_refused():
    sink = RowSink("run")
    sink.begin(Unit("tree:x", "tree", "/src", "fp", lambda s: None))
    fid = "V00_S0001_I00000001_P0001"
    data = json.dumps({"id": fid, "annotations:3P-IS": {"text": "x"}}).encode()
    documents.parse_merged(sink, data, fid, "improvised", "dev", "x.json", "tree")
    reasons = sink.tables()["ingest_issues"].column("reason").to_pylist()
    assert reasons == ["annotations:3P-IS is dict, expected a list"]


def test_tars_and_extracted_folders_are_both_read(ingested, upstream_root, hf_catalog):
    """Every archive, extracted or not, gives the rows the tars alone give."""
    _, cat = ingested
    query = "select file_id, ext, bytes, duration_s from raw.media order by all"
    with Catalog.open(hf_catalog) as tars_only:
        expected = tars_only.sql(query).fetchall()
    got = cat.sql(query).fetchall()
    real = set(upstream_root["docs"])
    assert [r for r in got if r[0] not in real] == expected
    folders = {
        r[0]
        for r in cat.sql("select distinct archive_path from raw.members where not "
                         "ends_with(archive_path, '.tar')").fetchall()
    }  # fmt: skip
    assert set(upstream_root["extracted"]) <= folders


def test_what_is_not_read_is_said(ingested, upstream_root):
    _, cat = ingested
    warned = dict(
        cat.sql("select location, reason from raw.ingest_issues where severity = 'warning' "
                "and source_unit like 'unread:%'").fetchall()
    )  # fmt: skip
    assert set(warned) == {str(upstream_root["notes"]), str(upstream_root["off_layout"])}
    assert TAR_LAYOUT in warned[str(upstream_root["off_layout"])]
    assert not any(".cache" in w for w in warned)  # hidden: hf_hub_download's own metadata


def test_a_stray_of_an_extracted_archive_is_unlisted(ingested, upstream_root):
    _, cat = ingested
    stray = upstream_root["stray"]
    folder = stray["archive_path"].removesuffix(".tar")
    assert folder in upstream_root["extracted"]
    got = cat.sql(
        "select archive_path, members, reason from unlisted_samples where file_id = ?",
        [stray["file_id"]],
    ).fetchall()
    assert got and all(r[0] == folder and r[1] == ["json", "mp4", "npz", "wav"] for r in got)


def test_a_tree_file_in_the_wrong_archive_is_unlisted(release, tmp_path):
    """A tree copy the filelist places in another archive of the same split is named too."""
    rows = filelist(release)
    row, other = next(
        (a, b) for a in rows for b in rows
        if (a["label"], a["split"]) == (b["label"], b["split"]) and folder_of(a) != folder_of(b)
    )  # fmt: skip
    root = tmp_path / "tree"
    src = release / "tree" / folder_of(row) / f"{row['file_id']}.json"
    dest = root / folder_of(other) / src.name
    dest.parent.mkdir(parents=True)
    shutil.copyfile(src, dest)
    ingest(tmp_path / "cat", [str(root)], filelist=str(release / "filelist.csv"),
           assets=str(release / "assets"))  # fmt: skip
    with Catalog.open(tmp_path / "cat") as cat:
        got = cat.sql("select file_id, archive_path, reason from unlisted_samples").fetchall()
    assert got == [(row["file_id"], folder_of(other),
                    f"filelist lists it in {folder_of(row)}.tar")]  # fmt: skip


def test_a_tar_outside_the_hub_layout_says_which_path_it_needs(release, tmp_path):
    loose = tmp_path / "downloads" / "0003.tar"
    loose.parent.mkdir()
    shutil.copyfile(next((release / "hf").rglob("*.tar")), loose)
    with pytest.raises(UsageError) as e:
        ingest(tmp_path / "cat", [str(loose)], filelist=str(release / "filelist.csv"),
               assets=str(release / "assets"))  # fmt: skip
    assert TAR_LAYOUT in str(e.value) and "cannot tell" not in str(e.value)
    args = ["ingest", "--catalog", str(tmp_path / "cat2"), "--filelist",
            str(release / "filelist.csv"), "--assets", str(release / "assets")]  # fmt: skip
    for where in (loose, loose.parent):  # the tar, or a folder of such tars
        r = CliRunner().invoke(main, [*args, str(where)])
        assert r.exit_code == 2, r.output
        assert TAR_LAYOUT in r.output, r.output


# -- a local tree as a source (item 4) ------------------------------------------------------
def _in_tree(cat, release) -> list[str]:
    """The catalog's files that the release's tree holds (every modality of each)."""
    rows = by_id(release)
    ids = [r[0] for r in cat.sql(IN_TARS + " order by 1").fetchall()]
    return [f for f in ids if all(tree_path(release, rows[f], e).exists() for e in EXTS)]


def test_materialize_from_a_tree_beside_tars(hf_catalog, upstream_root, release, tmp_path):
    """The folder upstream half-extracted: extracted files are copied, the rest read from the
    tars still there, and every output is the release's file byte for byte."""
    with Catalog.open(hf_catalog) as cat:
        ids = _in_tree(cat, release)
    rows = by_id(release)
    extracted = set(upstream_root["extracted"])
    in_folders = [f for f in ids if folder_of(rows[f]) in extracted]
    assert in_folders and len(in_folders) < len(ids)  # both kinds are needed
    r = materialize(hf_catalog, ids=ids, to=tmp_path, source=str(upstream_root["root"]))
    assert r.ok, r.failures
    assert r.plan.layout == "tree+tar" and r.count("delivered") == 4 * len(ids)
    for fid in ids:
        for ext in EXTS:
            got = (tmp_path / folder_of(rows[fid]) / f"{fid}.{ext}").read_bytes()
            assert got == tree_path(release, rows[fid], ext).read_bytes(), (fid, ext)


def test_materialize_from_a_tree_alone_names_what_it_lacks(hf_catalog, release, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(release / "tree", tree)
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        ids = _in_tree(cat, release)
    gone = tree / folder_of(rows[ids[0]]) / f"{ids[0]}.npz"
    gone.unlink()
    r = materialize(hf_catalog, ids=ids, to=tmp_path / "out", source=str(tree))
    assert r.plan.layout == "tree" and r.count("delivered") == 4 * len(ids) - 1
    lacking = (ids[0], gone.relative_to(tree).as_posix())
    assert [(o.file_id, o.path) for o in r.failures] == [lacking]
    assert f"{folder_of(rows[ids[0]])}.tar" in r.failures[0].reason
    sql = f"select file_id from files where file_id = '{ids[1]}'"
    args = ["materialize", "--catalog", str(hf_catalog), "--sql", sql,
            "--to", str(tmp_path / "cli"), "--source", str(tree)]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    got = [p.name for p in (tmp_path / "cli").rglob("*") if split_name(p.name) is not None]
    assert sorted(got) == [f"{ids[1]}.{e}" for e in EXTS]


@pytest.mark.parametrize("layout", ["tree", "cdn"])
def test_load_stream_and_export_read_a_local_copy(hf_catalog, release, layout, tmp_path):
    """A tree and a per-file copy, as a source for load, stream and export alike."""
    source = str(release / layout)
    rows = by_id(release)
    with Catalog.open(hf_catalog) as cat:
        ids = _in_tree(cat, release)[:4]
        s = cat.load(ids[0], source=source)
        assert (
            s.json["metadata:vad"]
            == json.loads(tree_path(release, rows[ids[0]], "json").read_text())["metadata:vad"]
        )
        assert s.video == tree_path(release, rows[ids[0]], "mp4").read_bytes()
        sql = "select file_id from files where file_id in (select unnest(?::varchar[]))"
        sql = sql.replace("?::varchar[]", "['" + "','".join(ids) + "']")
        streamed = {
            x.row.file_id: x.blobs for x in cat.stream(sql, modalities="wav,mp4", source=source,
                                                 decode=False)
        }  # fmt: skip
        result = cat.export(sql, tmp_path / "shards", source=source, modalities="wav,mp4")
    for fid in ids:
        for ext in ("wav", "mp4"):
            assert streamed[fid][ext] == tree_path(release, rows[fid], ext).read_bytes()
    assert sorted(s["file_id"] for s in result.samples) == sorted(ids) and not result.skipped
