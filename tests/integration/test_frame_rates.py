"""The frame_rates view (sql/45_frame_rates.sql) on a generated release with media in which
upstream issue #34 is planted (``generate(smplh_240hz=True)``: one pair whose SMPL-H arrays have
8x the frames while wav, mp4 and the other groups agree on 30 Hz): the rule in the view's
description, file by file and group by group, against the generator's truth."""

from __future__ import annotations

import csv

import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.ingestion.pipeline import ingest
from seamless_catalog.synth import generate

GROUPS = {"smplh", "boxes_and_keypoints"}  # every file; movement groups only with movement


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    out = tmp_path_factory.mktemp("frame-rates")
    rel = generate(out / "rel", n_files=30, seed=3, layouts=("tree",), smplh_240hz=True)
    ingest(out / "cat", [str(rel.tree)], filelist=str(rel.filelist), assets=str(rel.assets))
    with Catalog.open(out / "cat") as c:
        with rel.truth.open(newline="") as fh:
            truth = {r["file_id"]: r for r in csv.DictReader(fh)}
        yield c, rel.quirks, truth


def rows(c, sql="select * from frame_rates"):
    cur = c.sql(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_the_planted_240hz_smplh_is_flagged_and_nothing_else(cat):
    c, quirks, _ = cat
    planted = set(quirks["smplh_240hz"])
    assert len(planted) == 2
    flagged = {(r["file_id"], r["feature_group"]) for r in rows(c) if r["contradicts_nominal"]}
    assert flagged == {(f, "smplh") for f in planted}
    for r in rows(c, "select * from frame_rates where rate_rule = 'multiple'"):
        assert r["file_id"] in planted and r["feature_group"] == "smplh"
        assert r["clip_fps"] == pytest.approx(240.0)
        assert r["observed_fps"] == pytest.approx(240.0, rel=0.01)
        assert r["media_agree"] is True and r["keys_agree"] is True
        assert r["frames_off_nominal"] > 7 * 30 * r["media_duration_s"] - 10


def test_every_other_group_keeps_its_nominal_rate(cat):
    c, quirks, truth = cat
    planted = set(quirks["smplh_240hz"])
    by_file: dict[str, set[str]] = {}
    for r in rows(c):
        by_file.setdefault(r["file_id"], set()).add(r["feature_group"])
        if (r["file_id"], r["feature_group"]) in {(f, "smplh") for f in planted}:
            continue
        if r["rate_rule"] == "no_frames":  # a placeholder's empty arrays
            assert r["clip_fps"] is None and r["contradicts_nominal"] is None
            continue
        assert r["rate_rule"] == "nominal", r
        assert r["contradicts_nominal"] is False
        vendor_fps = 30000 / 1001 if r["file_id"].startswith("V03") else 30.0
        assert r["nominal_fps"] == pytest.approx(vendor_fps)
        assert r["clip_fps"] == r["nominal_fps"]
        assert r["n_frames"] == int(truth[r["file_id"]]["n_frames"])
        assert r["duration_source"] == "wav"
    assert any(f.startswith("V03") for f in by_file), "the release has a 29.97 Hz vendor"
    assert all(groups >= GROUPS for groups in by_file.values())


def test_a_catalog_without_media_durations_is_nominal_unchecked():
    import duckdb

    from tests.paths import REPO

    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.features (file_id varchar, key varchar, dtype varchar, "
        "shape bigint[], n_frames bigint)"
    )
    con.execute(
        "create table raw.media (file_id varchar, ext varchar, duration_s double, "
        "placeholder boolean)"
    )
    con.execute(
        "create view files as select 'V01_S0001_I00000001_P0001' as file_id, 'V01' as vendor"
    )
    con.execute(
        "insert into raw.features values "
        "('V01_S0001_I00000001_P0001', 'smplh:body_pose', 'float32', [10, 21, 3], 10), "
        "('V01_S0001_I00000001_P0001', 'movement:hypernet_features', 'float32', [1, 5120], 1)"
    )
    con.execute((REPO / "seamless_catalog/store/sql/45_frame_rates.sql").read_text())
    got = con.execute(
        "select feature_group, rate_rule, clip_fps, contradicts_nominal from frame_rates"
    ).fetchall()
    assert got == [("smplh", "nominal_unchecked", 30.0, None)]  # hypernet rows left out
