"""What the upstream toolkit reads, from folders we materialized.

Upstream's code (facebookresearch/seamless_interaction, ``src/seamless_interaction/fs.py``)
is not on the PyPI mirror and pulls in Streamlit, JupyterLab and OpenCV, so its lookups are
reproduced here step by step, each citing the function (the lookup was checked once against
fs.py itself, at upstream commit acc817c: the same paths for each of 15 materialized ids):

* ``get_path_list_for_file_id_local``: ``pd.read_csv(filelist)``, the first row whose
  ``file_id`` equals the id, ``os.path.join(local_dir, label, split, f"{batch_idx:04d}",
  f"{archive_idx:04d}")`` and ``glob.glob(os.path.join(base_path, f"{file_id}*"))``. The glob
  is a prefix: an id's lookup also returns the files of an id it is the prefix of, in the same
  folder (``..._P0101`` finds ``..._P0101A.*``).
* ``download_archive_from_hf(extract=True)``: ``if os.path.exists(extract_dir)``: "Archive
  already extracted", nothing added. ``materialize status`` names such folders.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from seamless_catalog.catalog import Catalog
from seamless_catalog.cli import main
from seamless_catalog.materialize import make_plan, materialize, plan_status, run_plan
from seamless_catalog.materialize.running.status import PartialArchive
from tests.access_helpers import IN_TARS, by_id, filelist, tree_path

EXTS = ("json", "mp4", "npz", "wav")


def upstream_local_paths(filelist_path: Path, local_dir: Path, file_id: str) -> list[str]:
    """``SeamlessInteractionFS.get_path_list_for_file_id_local``, step by step."""
    df = pd.read_csv(filelist_path)
    entry = df[df["file_id"] == file_id]
    if entry.empty:
        raise ValueError(f"File ID {file_id} not found in dataset")
    label, split, batch_idx, archive_idx = entry.iloc[0][
        ["label", "split", "batch_idx", "archive_idx"]
    ]
    base = os.path.join(str(local_dir), label, split, f"{batch_idx:04d}", f"{archive_idx:04d}")
    return glob.glob(os.path.join(base, f"{file_id}*"))


def folder_of(row: dict) -> str:
    return tree_path(Path("."), row, "json").parent.relative_to("tree").as_posix()


@pytest.fixture(scope="module")
def materialized(hf_catalog, release, tmp_path_factory):
    to = tmp_path_factory.mktemp("upstream-local-dir")
    with Catalog.open(hf_catalog) as cat:
        ids = [r[0] for r in cat.sql(IN_TARS + " order by 1").fetchall()]
    r = materialize(hf_catalog, ids=ids, to=to, source=str(release / "hf"))
    assert r.ok, r.failures
    return to, ids


def test_upstream_local_lookup_finds_each_materialized_sample(materialized, release):
    to, ids = materialized
    rows = by_id(release)
    for fid in ids:
        got = upstream_local_paths(release / "filelist.csv", to, fid)
        # every file of the id, and (the glob is a prefix) of any id it begins in that folder
        same = [g for g in rows if folder_of(rows[g]) == folder_of(rows[fid]) and g in ids]
        expected = {f"{g}.{e}" for g in same if g.startswith(fid) for e in EXTS}
        assert {Path(p).name for p in got} == expected, fid
        for p in map(Path, got):
            fid_of, ext = p.name.rsplit(".", 1)
            assert p.read_bytes() == tree_path(release, rows[fid_of], ext).read_bytes()


def test_upstream_lookup_of_a_sample_not_materialized_finds_nothing(materialized, release):
    to, ids = materialized
    other = next(r["file_id"] for r in filelist(release) if r["file_id"] not in ids)
    got = upstream_local_paths(release / "filelist.csv", to, other)
    assert all(Path(p).name.startswith(other) and Path(p).stem != other for p in got)


def _archive_without_strays(hf_catalog, release) -> tuple[str, list[str], int]:
    """An archive whose tar holds only listed samples, several of them: (folder, ids, tar
    members)."""
    with Catalog.open(hf_catalog) as cat:
        rows = cat.sql(
            "select archive_path, list(distinct file_id order by file_id), count(*) "
            "from raw.members m where archive_path like '%.tar' group by 1 "
            "having count(distinct file_id) >= 2 and bool_and(file_id in "
            "(select file_id from files f where f.archive_path = m.archive_path)) order by 1"
        ).fetchall()
    archive, ids, members = rows[0]
    return archive.removesuffix(".tar"), ids, members


def test_status_names_an_archive_folder_upstream_would_take_as_extracted(
    hf_catalog, release, tmp_path
):
    folder, ids, members = _archive_without_strays(hf_catalog, release)
    to = tmp_path / "shared"
    part = make_plan(hf_catalog, tmp_path / "part.parquet", to=to, ids=ids[:1],
                     source=str(release / "hf"))  # fmt: skip
    assert part.archives == {folder: members}
    assert plan_status(part.path).partial == []  # nothing on disk yet: no folder to mistake
    run_plan(part.path)
    st = plan_status(part.path)
    assert st.complete and st.partial == [PartialArchive(folder, len(EXTS), members)]
    assert os.path.exists(to / folder)  # what upstream's extract checks, and stops at
    r = CliRunner().invoke(main, ["materialize", "status", "--plan", str(part.path)])
    assert r.exit_code == 0, r.output
    assert f"{folder}: {len(EXTS)} of {members} files" in r.output
    assert "download_archive_from_hf" in r.output

    whole = make_plan(hf_catalog, tmp_path / "whole.parquet", to=to, ids=ids,
                      source=str(release / "hf"))  # fmt: skip
    run_plan(whole.path)
    assert plan_status(whole.path).partial == [] and plan_status(part.path).partial == []
    r = CliRunner().invoke(main, ["materialize", "status", "--plan", str(part.path)])
    assert "download_archive_from_hf" not in r.output


def test_a_plain_run_names_the_folders_it_left_part_filled(hf_catalog, release, tmp_path):
    folder, ids, members = _archive_without_strays(hf_catalog, release)
    to = tmp_path / "shared"
    r = materialize(hf_catalog, ids=ids[:1], to=to, source=str(release / "hf"))
    assert r.ok and r.partial == [PartialArchive(folder, len(EXTS), members)]
    sql = "select file_id from files where archive_path = '" + folder + ".tar'"
    args = ["materialize", "--catalog", str(hf_catalog), "--sql", sql, "--to", str(to),
            "--source", str(release / "hf")]  # fmt: skip
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "download_archive_from_hf" not in out.output  # the whole archive is there now
    assert materialize(hf_catalog, ids=ids[:1], to=to, source=str(release / "hf")).partial == []
    one = "select file_id from files where file_id = '" + ids[0] + "'"
    args = [*args[:4], one, "--to", str(tmp_path / "other"), *args[-2:]]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert f"{folder}: {len(EXTS)} of {members} files" in out.output
    assert "download_archive_from_hf(extract=True)" in out.output


def test_materialize_help_warns_about_sharing_the_destination():
    r = CliRunner().invoke(main, ["materialize", "--help"])
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "download_archive_from_hf(extract=True)" in text and "materialize status" in text
