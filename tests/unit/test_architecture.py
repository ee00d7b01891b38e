"""The dependency direction of docs/architecture.md, checked on every import of the package
(module level and inside functions): a stage imports only the stages below it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "seamless_catalog"

# what each top-level part of the package may import (besides itself)
FOUNDATION = {"errors", "config", "layout", "formats", "remote"}
ALLOWED = {
    "errors": set(),
    "config": set(),
    "layout": {"errors"},
    "formats": {"errors"},
    "remote": {"errors", "config", "formats"},
    "synth": {"errors", "layout"},
    "store": FOUNDATION,
    "ingestion": FOUNDATION | {"store"},
    "select": FOUNDATION | {"store"},
    "materialize": FOUNDATION | {"store", "select"},
    "access": FOUNDATION | {"store", "select", "materialize"},
}
APPS = {"catalog", "cli", "dashboard", "publish", "stats", "__init__", "__main__"}  # may use all


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    package = list(path.relative_to(PACKAGE.parent).parts[:-1])  # what "." means there
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            out += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(line, n) for line, n in out if n.split(".")[0] == "seamless_catalog"]


def test_every_import_goes_down_the_flow():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        part = _part(module)
        if part in APPS:
            continue
        assert part in ALLOWED, f"{path}: part {part!r} is not in docs/architecture.md's layers"
        for line, target in _imports(path):
            to = _part(target)
            if to != part and to not in ALLOWED[part]:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {part} -> {to}")
    assert not problems, "imports against the flow:\n" + "\n".join(problems)


def test_the_check_sees_function_level_and_relative_imports():
    """The checker itself: a lazy import inside a function, written relative, is found."""
    engines = PACKAGE / "materialize" / "running" / "engines.py"
    source = engines.read_text()
    assert "    from .status import plan_status" in source  # inside a function
    found = {t for _, t in _imports(engines)}
    assert "seamless_catalog.materialize.running.status" in found
    assert {"seamless_catalog.remote", "seamless_catalog.config"} <= found
