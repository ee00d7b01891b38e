"""sample: reproducible for a seed, different across seeds, filtered by a predicate."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from seamless_catalog.catalog import Catalog
from seamless_catalog.cli import main
from seamless_catalog.errors import UsageError
from seamless_catalog.select.draw import sample, sample_sql


def _keys(cat, unit, n, seed, where=None):
    return [r[0] for r in sample(cat, unit, n, seed=seed, where=where).fetchall()]


def test_sample_is_reproducible_and_seed_dependent(hf_catalog):
    with Catalog.open(hf_catalog) as cat:
        a = _keys(cat, "file", 10, seed=1)
        assert a == _keys(cat, "file", 10, seed=1) and len(a) == 10
        seeds = {tuple(_keys(cat, "file", 10, seed=s)) for s in range(5)}
        assert len(seeds) > 1
        assert _keys(cat, "file", 5, seed=1) == a[:5]  # growing n only adds rows
        pairs = _keys(cat, "pair", 3, seed=2, where="label = 'naturalistic'")
        labels = cat.sql(
            "select distinct label from pairs where interaction_key in "
            "(select unnest(?::varchar[]))",
            [pairs],
        ).fetchall()
        assert labels == [("naturalistic",)] and len(pairs) == 3
        n_sessions = cat.value("select count(*) from sessions")
        assert len(_keys(cat, "session", 100, seed=0)) == n_sessions
    with pytest.raises(UsageError):
        sample_sql("room")


def test_sample_cli_output_feeds_materialize(hf_catalog, tmp_path):
    out = tmp_path / "pairs.csv"
    args = [
        "sample",
        "--catalog",
        str(hf_catalog),
        "--unit",
        "pair",
        "-n",
        "2",
        "--seed",
        "7",
        "--format",
        "csv",
        "-o",
        str(out),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 2 and "interaction_key" in rows[0]
    again = CliRunner().invoke(main, args[:-2])
    assert again.exit_code == 0 and rows[0]["interaction_key"] in again.output
    plan = CliRunner().invoke(
        main,
        [
            "materialize",
            "--catalog",
            str(hf_catalog),
            "--selection",
            str(out),
            "--to",
            str(tmp_path / "d"),
            "--source",
            str(tmp_path),
            "--dry-run",
        ],
    )
    assert plan.exit_code == 0 and "files: 16" in plan.output
