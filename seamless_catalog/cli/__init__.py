"""The ``seamless-catalog`` command: a thin click layer over the library.

One group, one error boundary (:class:`CatalogGroup`): commands return their exit status, and
a :class:`~seamless_catalog.errors.CatalogError` raised anywhere below becomes one line on
stderr and the exit status its class declares (a traceback only with
``SEAMLESS_CATALOG_DEBUG=1``). A module per command group: ``catalog`` (quickstart, ingest,
query, views, stats, sample, synth), ``materialize``, ``share`` (export, publish),
``dashboard``; text for people is made in ``format`` and ``output``.
"""

from __future__ import annotations

import click

from .. import __version__
from . import catalog, dashboard, materialize, share
from .boundary import CatalogGroup


@click.group(cls=CatalogGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seamless-catalog")
def main() -> None:
    """Query Meta's Seamless Interaction dataset with SQL, then download only what you need.

    \b
    Example:
      seamless-catalog quickstart --catalog demo
      seamless-catalog query --catalog demo "select * from turn_taking limit 5"
    """


for command in (
    catalog.quickstart,
    catalog.ingest,
    catalog.query,
    catalog.views,
    catalog.stats,
    catalog.synth,
    catalog.sample,
    catalog.folds,
    materialize.materialize,
    share.export,
    dashboard.dashboard,
    share.publish,
):
    main.add_command(command)
