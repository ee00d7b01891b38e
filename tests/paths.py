"""Where things are, for tests in any folder: the repository, its tests, the shared data."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED = REPO.parent / "shared"
REAL = SHARED / "data" / "real"  # the real asset CSVs and raw files (CI provides ../shared)
CORPUS = TESTS / "corpus"  # bad-input cases, one folder each (see integration/test_bad_inputs.py)
