"""What the terminal shows (issue 14): ingest is never silent after its bar reaches 100 %,
synth prints a summary, help examples keep their lines, views show their columns."""

from __future__ import annotations

import inspect
import json
import pydoc
import sys

import click
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.cli import main
from seamless_catalog.errors import MissingDependency
from tests.cli_contract import PROG, command_paths, run


def test_ingest_shows_a_bar_or_status_line_for_every_phase(release, tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMLESS_CATALOG_PROGRESS", "1")
    result = run(
        "ingest", "--catalog", tmp_path / "cat", "--filelist", release / "filelist.csv",
        "--assets", release / "assets", release / "hf",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = result.stderr.replace("\r", "\n")
    marks = [
        "ingest: ",  # parsing
        "merge: 100%",  # every table of the next snapshot
        "derived tables",
        "derived tables (the expensive views' rows): done in",
        "catalog.duckdb",
        "catalog.duckdb (the views, for any DuckDB client): done in",
    ]
    at = [shown.find(mark) for mark in marks]
    assert all(i >= 0 for i in at), dict(zip(marks, at))
    assert at == sorted(at), dict(zip(marks, at))  # in the order they run


def test_synth_prints_a_summary(tmp_path):
    out = tmp_path / "rel"
    result = run("synth", out, "--n-files", 24, "--metadata-only", "--layouts", "tree")
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "release.json").read_text())
    text = result.stdout
    assert len(text) < 2000 and len(text.splitlines()) <= 8, text  # not the object's repr
    assert "SynthRelease(" not in text and "PosixPath" not in text
    first = text.splitlines()[0]
    assert first.startswith(f"wrote {out}: ") and f"{doc['counts']['files']} files" in first
    assert str(out / "release.json") in text  # where the details are


def _source_examples(command: click.Command) -> list[str]:
    """The lines of the Example block as the command's source writes them (help or epilog)."""
    text = "\n".join(inspect.cleandoc(t) for t in (command.help, command.epilog) if t)
    lines = text.splitlines()
    start = lines.index("Example:")
    block = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        block.append(line.rstrip())
    return block


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "(main)")
@pytest.mark.parametrize("width", [60, 200])
def test_help_examples_keep_their_lines(path, width):
    """Whatever the terminal's width, the Example block is printed line for line as written
    (click re-wraps a paragraph unless it is marked ``\\b``)."""
    command: click.Command = main
    ctx = click.Context(main, info_name=PROG, terminal_width=width, max_content_width=width)
    for name in path:
        command = command.commands[name]
        ctx = click.Context(command, info_name=name, parent=ctx)
    want = [line.strip() for line in _source_examples(command)]
    shown = command.get_help(ctx).splitlines()
    start = [i for i, line in enumerate(shown) if line.strip() == "Example:"]
    assert len(start) == 1, shown
    got = []
    for line in shown[start[0] + 1 :]:
        if not line.strip():
            break
        got.append(line.strip())
    assert got == want


def test_views_lists_columns_and_views_name_describes_one(hf_catalog):
    with Catalog.open(hf_catalog) as cat:
        columns = [r[0] for r in cat.sql("describe turn_taking").fetchall()]
    listing = run("views", "--catalog", hf_catalog)
    assert listing.exit_code == 0, listing.output
    lines = listing.stdout.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("turn_taking "))
    shown = lines[at + 1].split("columns: ", 1)[1].split(", ")  # the columns, not just prose
    assert shown == columns, lines[at + 1]
    one = run("views", "--catalog", hf_catalog, "turn_taking")
    assert one.exit_code == 0, one.output
    shown = one.stdout.splitlines()
    assert shown[0].startswith("turn_taking")
    for column in columns:
        assert any(x.split()[:1] == [column] for x in shown[1:]), (column, shown)
    bad = run("views", "--catalog", hf_catalog, "no_such_view")
    assert bad.exit_code == 2 and "no_such_view" in bad.stderr and "turn_taking" in bad.stderr


def test_torch_dataset_without_torch_says_what_to_install(hf_catalog, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails, as without it
    monkeypatch.delitem(sys.modules, "seamless_catalog.access.torchdata", raising=False)
    with Catalog.open(hf_catalog) as cat, pytest.raises(MissingDependency) as e:
        cat.torch_dataset("select file_id from files")
    assert "torch_dataset needs torch" in str(e.value) and "pip install torch" in str(e.value)
    assert isinstance(e.value, ImportError)  # what a caller catching ImportError expects


def test_stream_spells_its_parameters_out_in_help():
    text = pydoc.render_doc(Catalog.stream, renderer=pydoc.plaintext)
    params = inspect.signature(Catalog.stream).parameters
    assert "options" not in params and "kwargs" not in params
    for name in ("modalities", "source", "media", "shuffle", "seed", "rank", "world_size",
                 "pairs_together", "start", "prefetch", "errors", "decode"):  # fmt: skip
        assert name in params, name
        assert f"{name}:" in text or f"{name}," in text, f"{name} is not explained in help()"
