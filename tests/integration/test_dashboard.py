"""The dashboard's pages through Streamlit's app testing API, on the generator's catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("altair")

from click.testing import CliRunner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from seamless_catalog.cli import main
from seamless_catalog.dashboard.data import Data
from seamless_catalog.dashboard.server import server_argv
from seamless_catalog.errors import QueryError
from seamless_catalog.store.catalogdb import check_read_only
from tests.cli_contract import assert_error, example_commands, parse_example, run
from tests.dashboard_helpers import ok, run_app


@pytest.fixture
def app(hf_catalog: Path, release: Path, monkeypatch):
    """An AppTest factory: the dashboard on ``hf_catalog`` with ``media`` (default: the tree)."""

    def make(page: str, media: Path | None = release / "tree") -> AppTest:
        argv = ["--catalog", str(hf_catalog), "--source", str(release / "hf")]
        if media is not None:
            argv += ["--media", str(media)]
        return run_app(monkeypatch, argv, page)

    return make


def first_pair(hf_catalog: Path) -> str:
    return Data(hf_catalog).column("select interaction_key from pairs order by 1 limit 1")[0]


def test_overview_charts(app):
    at = ok(app("Overview"))
    assert len(at.get("vega_lite_chart")) >= 10
    labels = {m.label for m in at.metric}
    assert {"files", "interactions", "sessions", "participants"} <= labels
    assert next(m for m in at.metric if m.label == "files").value == "31"


def test_browse_pair_side_by_side(app, hf_catalog):
    at = ok(app("Browse"))
    key = first_pair(hf_catalog)
    data = Data(hf_catalog)
    label, split, batch = data.frame(
        "select label, split, batch_idx from pairs where interaction_key = ?", [key]
    ).row(0)
    at.selectbox(key="browse_label").set_value(label).run()
    at.selectbox(key="browse_split").set_value(split).run()
    at.selectbox(key="browse_batch").set_value(batch).run()
    at = ok(at.selectbox(key="browse_interaction").set_value(key).run())
    assert any(h.value == key for h in at.subheader)
    assert len(at.get("video")) == 2  # both participants, materialized in the tree
    assert at.get("vega_lite_chart")  # the VAD/transcript timeline
    assert any(m.label == "median FTO (ms)" for m in at.metric)


def test_browse_random_pick_is_seeded(app):
    at = ok(app("Browse"))
    at.number_input(key="browse_seed").set_value(3).run()
    first = ok(at.button(key="browse_random").click().run()).selectbox(key="browse_interaction")
    again = ok(app("Browse"))
    again.number_input(key="browse_seed").set_value(3).run()
    second = ok(again.button(key="browse_random").click().run())
    assert second.selectbox(key="browse_interaction").value == first.value
    assert second.number_input(key="browse_seed").value == 4


def test_browse_materializes_a_missing_pair(app, hf_catalog, tmp_path):
    media = tmp_path / "media"
    at = app("Browse", media=media)
    at.session_state["browse_interaction"] = None
    key = first_pair(hf_catalog)
    at.query_params["interaction"] = key
    at = ok(at.run())
    assert not at.get("video")
    at = ok(at.button(key="browse_materialize").click().run())
    assert len(list(media.rglob(f"{key}_*.mp4"))) == 2
    assert len(at.get("video")) == 2


def test_files_json_audio_npz(app, hf_catalog):
    at = ok(app("Files"))
    fid = first_pair(hf_catalog) + "_"
    file_id = next(o for o in at.selectbox(key="files_file_id").options if o.startswith(fid))
    at = ok(at.selectbox(key="files_file_id").set_value(file_id).run())
    assert at.json and "vad" in at.json[0].value
    assert at.get("audio")
    shapes = at.dataframe[-1].value
    assert "shape" in shapes.columns and len(shapes) > 3
    feature = at.selectbox(key="files_feature")
    other = feature.options[-1]
    at = ok(feature.set_value(other).run())
    assert at.get("vega_lite_chart")


def test_files_without_media_lists_the_catalog_inventory(app):
    at = ok(app("Files", media=None))
    assert not at.get("audio")
    assert any("not materialized" in c.value for c in at.caption)


def test_sql_runs_a_select_and_offers_downloads(app):
    at = app("SQL")
    at.text_area(key="sql_query").set_value("select label, count(*) as n from files group by 1")
    at = ok(at.button(key="sql_run").click().run())
    result = at.dataframe[0].value
    assert sorted(result["label"]) == ["improvised", "naturalistic"]
    assert len(at.get("download_button")) == 2


@pytest.mark.parametrize(
    "query",
    [
        "create table t as select 1",
        "copy (select 1) to 'x.csv'",
        "explain analyze copy (select 1) to 'x.csv'",
        "select 1; drop view files",
        "attach 'x.duckdb'",
    ],
)
def test_sql_refuses_statements_that_are_not_select(app, query, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    at = app("SQL")
    at.text_area(key="sql_query").set_value(query)
    at = at.button(key="sql_run").click().run()
    assert not at.exception
    assert at.error and ("only SELECT" in at.error[0].value or "exactly one" in at.error[0].value)
    assert not at.dataframe
    assert not list(tmp_path.iterdir())  # nothing written


def test_download_plans_runs_and_shows_the_receipt(app, tmp_path):
    target = tmp_path / "out"
    at = app("Download")
    at.text_input(key="dl_to").set_value(str(target))
    at.number_input(key="dl_n").set_value(1)
    at.multiselect(key="dl_modalities").set_value(["json", "wav"])
    at = ok(at.run())
    at = ok(at.button(key="dl_plan").click().run())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["files to fetch"] == "4" and int(metrics["requests"]) >= 1
    at = ok(at.button(key="dl_run").click().run())
    assert any("4 delivered" in s.value for s in at.success)
    assert len(list(target.rglob("*.wav"))) == 2 and len(list(target.rglob("*.json"))) == 2
    assert list((target / ".seamless-catalog" / "receipts").glob("*.jsonl"))


def test_download_by_sql_refuses_writes(app, tmp_path):
    at = app("Download")
    at.radio(key="dl_mode").set_value("SQL").run()
    at.text_area(key="dl_sql").set_value("delete from files")
    at = at.run()
    assert not at.exception and "only SELECT" in at.error[0].value


def test_check_read_only():
    assert check_read_only("with a as (select 1) select * from a")
    assert check_read_only("explain select 1")
    for bad in [
        "insert into x values (1)",
        "pragma version",
        "install httpfs",
        "explain analyze create table t as select 1",
    ]:
        with pytest.raises(QueryError):
            check_read_only(bad)


def test_command_binds_loopback_and_has_an_example(tmp_path):
    argv = server_argv(tmp_path, media=tmp_path / "m", port=9999)
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.headless") + 1] == "true"
    assert argv[argv.index("--catalog") + 1] == str(tmp_path.resolve())
    help_text = CliRunner().invoke(main, ["dashboard", "--help"]).output
    assert "Example:" in help_text and "seamless-catalog dashboard --catalog" in help_text
    examples = [parse_example(argv) for argv in example_commands(help_text)]
    assert ("dashboard",) in examples  # (every line parses: see test_cli)
    result = CliRunner().invoke(main, ["dashboard", "--catalog", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no catalog" in result.output
    assert_error(
        run("dashboard", "--catalog", tmp_path / "none"), f"no catalog at {tmp_path}", exit_code=2
    )
    assert not (tmp_path / "none").exists()


# ----------------------------------------------------------------- issue 14: one of everything


def test_overview_counts_participants_as_stats_does(app, hf_catalog):
    from seamless_catalog import stats
    from seamless_catalog.catalog import Catalog

    with Catalog.open(hf_catalog) as cat:
        totals = stats.compute(cat).totals
        rows = cat.value("select count(*) from participants")
    assert rows != totals["participants"]  # the release lists people without files
    at = ok(app("Overview"))
    metrics = {m.label: m.value for m in at.metric}
    for name in ("files", "interactions", "sessions", "participants"):
        assert metrics[name] == str(totals[name]), (name, metrics[name], totals[name])


def _colours(spec, found: dict) -> None:
    """Every colour scale of a Vega-Lite spec: colour -> {(field, value)}."""
    if isinstance(spec, dict):
        enc = spec.get("color")
        if isinstance(enc, dict) and "field" in enc and "scale" in enc:
            scale = enc["scale"]
            for value, colour in zip(scale.get("domain", []), scale.get("range", [])):
                found.setdefault(colour, set()).add((enc["field"], value))
        for v in spec.values():
            _colours(v, found)
    elif isinstance(spec, list):
        for v in spec:
            _colours(v, found)


def test_one_colour_means_one_value_of_one_dimension(app, hf_catalog):
    import json

    specs = [json.loads(c.proto.spec) for c in ok(app("Overview")).get("vega_lite_chart")]
    at = ok(app("Browse"))
    specs += [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    coloured = [
        enc
        for spec in specs
        for enc in [spec.get("encoding", {}).get("color")]
        if isinstance(enc, dict) and enc.get("field") in ("label", "split")
    ]
    assert {e["field"] for e in coloured} == {"label", "split"}  # both dimensions are charted
    assert all("scale" in e for e in coloured), coloured  # a fixed palette, not the default
    found: dict = {}
    for spec in specs:
        _colours(spec, found)
    # one colour per value; only "no value" (a NULL group) is the same grey everywhere
    shared = {c: v for c, v in found.items() if len({value for _, value in v}) > 1}
    assert not shared, shared


def test_hours_by_vendor_keeps_a_vendor_whose_group_is_null():
    import polars as pl

    from seamless_catalog.dashboard import charts

    frame = pl.DataFrame(
        {"vendor": ["V01", "V02", "V02", "V03"], "label": ["improvised", "naturalistic", None,
         "improvised"], "hours": [0.5, None, 0.2, None]}
    )  # fmt: skip
    chart = charts.bars(frame, "vendor", "hours", "label", "Hours by vendor")
    data = chart.data
    assert sorted(set(data["vendor"])) == ["V01", "V02", "V03"]
    assert data["hours"].null_count() == 0 and data["label"].null_count() == 0
    assert charts.UNKNOWN in set(data["label"])


def test_a_run_where_every_file_fails_shows_delivered_and_failed_apart(app, release, tmp_path):
    import shutil

    mirror = tmp_path / "hf"
    shutil.copytree(release / "hf", mirror)
    at = app("Download")
    at.text_input(key="dl_to").set_value(str(tmp_path / "out"))
    at.text_input(key="dl_source").set_value(str(mirror))
    at.number_input(key="dl_n").set_value(1)
    at.multiselect(key="dl_modalities").set_value(["json", "wav"])
    at = ok(at.run())
    at = ok(at.button(key="dl_plan").click().run())
    for tar in mirror.rglob("*.tar"):  # the source goes away between the plan and the run
        tar.unlink()
    at = at.button(key="dl_run").click().run()
    assert not at.exception
    bars = at.get("progress")
    assert bars, "no progress bar"
    last = bars[-1].proto
    assert last.value == 0, last  # nothing delivered: not a full bar
    assert "0 of 4 files delivered, 4 failed" in last.text, last.text
    assert at.error and "0 delivered" in at.error[0].value


def test_download_counts_in_samples_and_files_with_totals_first(app, tmp_path):
    at = app("Download")
    at.text_input(key="dl_to").set_value(str(tmp_path / "out"))
    at.number_input(key="dl_n").set_value(1)
    at.multiselect(key="dl_modalities").set_value(["json", "wav"])
    at = ok(at.run())
    caption = next(c.value for c in at.caption if "selected" in c.value)
    assert caption.startswith("2 samples (file ids) selected"), caption
    at = ok(at.button(key="dl_plan").click().run())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["samples to fetch"] == "2" and metrics["files to fetch"] == "4"
    headline = at.markdown[0].value
    assert "2 samples, 4 files" in headline and ("kB" in headline or "MB" in headline), headline
