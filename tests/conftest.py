"""Shared fixtures: the real data in ../shared, generated releases, ingested catalogs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL = SHARED / "data" / "real"

os.environ.setdefault("SEAMLESS_CATALOG_PROGRESS", "0")


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
    from seamless_catalog.ingest.run import ingest

    cat = tmp_path_factory.mktemp("catalog")
    ingest(
        cat,
        [str(release / "hf")],
        filelist=str(release / "filelist.csv"),
        assets=str(release / "assets"),
    )
    return cat
