"""The CLI's one error boundary: exit statuses from return values and exception classes."""

from __future__ import annotations

import traceback

import click

from .. import config
from ..errors import CatalogError

INTERRUPTED = 130


class CatalogGroup(click.Group):
    """A click group whose commands return their exit status (None means 0), and where our
    errors become one line ``Error: <message>`` on stderr and ``exit_code`` of their class."""

    def invoke(self, ctx: click.Context):
        try:
            code = super().invoke(ctx)
        except CatalogError as e:
            if config.from_env().debug:
                traceback.print_exc()
            click.echo(f"Error: {one_line(str(e))}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("Error: interrupted; rerun the same command to resume", err=True)
            ctx.exit(INTERRUPTED)
        ctx.exit(code or 0)


def one_line(message: str) -> str:
    """A message as one line: DuckDB's, for one, go on over several (``LINE 1: ...``, a caret,
    ``Did you mean ...``); the traceback under ``SEAMLESS_CATALOG_DEBUG=1`` keeps them whole."""
    return " ".join(line.strip() for line in message.splitlines() if line.strip())
