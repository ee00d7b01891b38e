"""What every command of the CLI promises, checked the same way in every test that runs one.

* An error is one line, ``Error: <message>``, on stderr, with the exit status of its class and no
  traceback; a usage error (exit 2) is click's usage, a hint, then the ``Error:`` line.
* Every command's help has one ``Example:`` block whose lines are commands of this CLI (or of
  another named tool) that parse: the subcommand exists, and so do its options.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import click
from click.testing import CliRunner, Result

from seamless_catalog.cli import main

PROG = "seamless-catalog"
OTHER_TOOLS = {"duckdb"}  # an example may show reading the result with another tool


def run(*args: object) -> Result:
    """The CLI in-process, as ``seamless-catalog ARGS``; stdout and stderr kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args], prog_name=PROG)


def assert_error(result: Result, *words: str, exit_code: int = 1) -> str:
    """The run failed with one ``Error:`` line on stderr holding ``words``; returns that line."""
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert "Traceback" not in result.output, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Error:" not in result.stdout, result.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def assert_usage_error(result: Result, *words: str) -> str:
    """Exit 2 with click's usage block on stderr, ending in the ``Error:`` line; returns it."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == "" and "Traceback" not in result.stderr, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Usage: {PROG} "), result.stderr
    assert lines[1].startswith(f"Try '{PROG} ") and lines[1].endswith(" for help."), lines[1]
    assert lines[-1].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[-1], (word, lines[-1])
    return lines[-1]


def command_paths(group: click.Group = main, prefix: tuple[str, ...] = ()) -> Iterator[tuple]:
    """``()`` for the program, then every command and subcommand: ``("materialize", "run")``."""
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def example_commands(help_text: str) -> list[list[str]]:
    """The commands of the help's ``Example:`` block, as argv lists (``\\`` lines joined,
    ``# comments`` dropped). The block is the indented lines after ``Example:``."""
    lines = help_text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Example:"]
    assert len(starts) == 1, f"{len(starts)} Example: blocks in\n{help_text}"
    block: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if not line.strip() or not line.startswith("  "):
            break
        block.append(line.strip())
    text = "\n".join(block).replace("\\\n", " ")
    return [shlex.split(command, comments=True) for command in text.splitlines()]


def parse_example(argv: list[str]) -> tuple[str, ...]:
    """Parse ``seamless-catalog ARGV`` as the CLI would, without running anything: unknown
    commands or options, missing required ones and bad values raise ``click.UsageError``.
    Returns the path of the command it names."""
    assert argv[0] == PROG, argv
    command: click.Command = main
    ctx = command.make_context(PROG, argv[1:])
    path: list[str] = []
    while isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]  # what a group leaves to its subcommand
        if not rest:
            break
        name, sub, args = command.resolve_command(ctx, rest)
        assert name is not None and sub is not None, rest
        path.append(name)
        command, ctx = sub, sub.make_context(name, args, parent=ctx)
    return tuple(path)


def assert_failures_reported(result: Result, *words: str) -> dict[str, str]:
    """A materialize that ran and could not deliver everything: exit 1, nothing on stderr, and
    on stdout the summary, one ``  PATH: REASON`` line per failure (each reason holding
    ``words``) as many as the summary counts, and the hint to retry. Returns path -> reason."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert result.stderr == "" and isinstance(result.exception, SystemExit), result.output
    lines = result.stdout.splitlines()
    summary = re.fullmatch(
        r"(\d+) delivered, (\d+) already present, (\d+) failed; [\d,]+ bytes transferred",
        lines[0],
    )
    assert summary, lines[0]
    at = lines.index("not delivered:")
    assert lines[-1] == "rerun with --retry-failed to try these again", lines[-1]
    listed = lines[at + 1 : -1]
    assert len(listed) == int(summary[3]) > 0, (summary[0], listed)
    failures = dict(line.removeprefix("  ").split(": ", 1) for line in listed)
    assert len(failures) == len(listed) and all(line.startswith("  ") for line in listed)
    for path, reason in failures.items():
        for word in words:
            assert word in reason, (path, reason, word)
    return failures
