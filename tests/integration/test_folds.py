"""Folds over a generated catalog: no person in two folds, every file once, balance reported;
and the `folds` command."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from seamless_catalog import Catalog
from seamless_catalog.errors import UsageError


@pytest.mark.parametrize("k", [2, 5])
def test_person_folds_keep_every_person_in_one_fold(hf_catalog, k):
    with Catalog.open(hf_catalog) as cat:
        f = cat.folds(k, seed=3)
        rows = f.files.fetchall()
        cols = f.files.columns
        n_files = cat.value("select count(*) from files")
        total_s = cat.value("select coalesce(sum(duration_s), 0) from files")
        balance = dict(zip(f.balance.columns, zip(*f.balance.fetchall())))
    assert len(rows) == n_files == len({r[cols.index("file_id")] for r in rows})
    fold_of_person: dict[tuple, set] = {}
    fold_of_interaction: dict[str, set] = {}
    for r in rows:
        row = dict(zip(cols, r))
        fold_of_person.setdefault((row["vendor"], row["participant"]), set()).add(row["fold"])
        fold_of_interaction.setdefault(row["interaction_key"], set()).add(row["fold"])
    assert all(len(v) == 1 for v in fold_of_person.values())
    assert all(len(v) == 1 for v in fold_of_interaction.values())
    assert list(balance["fold"]) == list(range(k))
    assert sum(balance["files"]) == n_files
    assert sum(balance["hours"]) == pytest.approx(total_s / 3600, abs=0.001 * k)
    assert sum(balance["people"]) == len(fold_of_person)


def test_session_folds_are_whole_sessions(hf_catalog):
    with Catalog.open(hf_catalog) as cat:
        rows = cat.folds(3, by="session").files.fetchall()
        cols = cat.folds(3, by="session").files.columns
    by_session: dict[str, set] = {}
    for r in rows:
        row = dict(zip(cols, r))
        by_session.setdefault(row["session_key"], set()).add(row["fold"])
    assert all(len(v) == 1 for v in by_session.values())


def test_bad_folds_are_usage_errors(hf_catalog):
    with Catalog.open(hf_catalog) as cat:
        with pytest.raises(UsageError, match="at least 2"):
            cat.folds(1)
        with pytest.raises(UsageError, match="choose from person"):
            cat.folds(3, by="vendor")


def test_folds_command_writes_the_assignment_and_reports_the_balance(hf_catalog, tmp_path):
    out = tmp_path / "folds.csv"
    cmd = [sys.executable, "-m", "seamless_catalog", "folds", "--catalog", str(hf_catalog)]
    proc = subprocess.run(
        [*cmd, "-k", "4", "--seed", "1", "--format", "csv", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with Catalog.open(hf_catalog) as cat:
        want = cat.folds(4, seed=1).files.fetchall()
    assert [r["file_id"] for r in rows] == [w[2] for w in want]
    assert "hours" in proc.stderr and "people" in proc.stderr
    bad = subprocess.run([*cmd, "-k", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "at least 2" in bad.stderr
