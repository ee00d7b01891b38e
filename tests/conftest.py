"""Shared fixtures: the real data in ../shared, generated releases, ingested catalogs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.paths import REAL

os.environ.setdefault("SEAMLESS_CATALOG_PROGRESS", "0")

# helpers with asserts, rewritten like test modules so that their failures show the values
pytest.register_assert_rewrite("tests.cli_contract", "tests.containment", "tests.fakes")
# the fakes' fixtures (tests/fakes/fixtures.py), for every test; registered here, before any
# test module imports the fakes, so that they are rewritten too
pytest_plugins = ("tests.fakes.fixtures",)


@pytest.fixture(scope="session")
def real() -> Path:
    """The real asset CSVs and raw files; absent from a user's clone, always present in CI."""
    if not REAL.is_dir():
        pytest.skip(
            f"real data not found at {REAL} (it lives beside the repo in ../shared, "
            "which CI provides; a plain clone does not have it)"
        )
    return REAL


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Path:
    """A generated release with media, in all three layouts (one per test session)."""
    from seamless_catalog.synth import generate

    out = tmp_path_factory.mktemp("release")
    generate(out, n_files=32, seed=7)
    return out


@pytest.fixture(scope="session")
def hf_catalog(release: Path, tmp_path_factory) -> Path:
    """The release's tars ingested, with its filelist and assets."""
    from seamless_catalog.ingestion.pipeline import ingest

    cat = tmp_path_factory.mktemp("catalog")
    ingest(
        cat,
        [str(release / "hf")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )
    return cat


@pytest.fixture(autouse=True)
def _containment(request, tmp_path_factory, monkeypatch):
    """Tests named in ``containment.CONTAINED`` run in an empty working directory, with a
    sentinel directory beside theirs; neither, nor the release or the shared catalog, may
    change (their own ``tmp_path`` may: that is where they write)."""
    from tests.containment import CONTAINED, Contained

    if not request.node.nodeid.startswith(CONTAINED):
        yield
        return
    shared = [request.getfixturevalue("release")]
    if "hf_catalog" in request.fixturenames:
        shared.append(request.getfixturevalue("hf_catalog"))
    base = tmp_path_factory.mktemp("contained")
    cwd = base / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    box = Contained(base, [], shared, cwd)
    yield box
    box.check()
