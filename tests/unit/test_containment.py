"""The nodeid prefixes that ``conftest.py`` wraps in a containment check name real tests: a
moved or renamed file would otherwise silently lose its check."""

from __future__ import annotations

import ast

import pytest

from tests.containment import CONTAINED
from tests.paths import REPO


@pytest.mark.parametrize("prefix", CONTAINED)
def test_every_contained_prefix_names_existing_tests(prefix):
    path, _, name = prefix.partition("::")
    module = REPO / path
    assert module.is_file(), f"{prefix}: no file {module}"
    tests = [
        node.name
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    ]
    assert any(t.startswith(name) for t in tests), f"{prefix}: no test named {name}* in {path}"
