"""``dashboard``: serve the Streamlit dashboard (its module imports no Streamlit until it runs)."""

from __future__ import annotations

from pathlib import Path

import click

from ..dashboard.server import DEFAULT_HOST, DEFAULT_PORT


@click.command(name="dashboard")
@click.option(
    "--catalog",
    "catalog_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog directory (made by `ingest` or `quickstart`).",
)
@click.option(
    "--media",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of materialized media in the upstream layout, to play and inspect files "
    "(the materialize buttons write there).",
)
@click.option(
    "--source",
    help="Where the materialize buttons fetch from [default: the catalog's recorded source "
    "(quickstart: its sample), else the dataset on the Hub].",
)
@click.option(
    "--clips",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that keeps the clips of the moments played on Browse, so that a moment "
    "chosen again is not fetched again [default: seamless-catalog-clips in the temp folder].",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
def dashboard(
    catalog_dir: Path,
    media: Path | None,
    source: str | None,
    clips: Path | None,
    host: str,
    port: int,
) -> int:
    """Browse, chart, query and download the catalog in a local, read-only web dashboard.

    Needs the extra: pip install 'seamless-catalog[dashboard]'. Open the printed URL in a
    browser; stop with Ctrl-C.

    \b
    Example:
      seamless-catalog quickstart --catalog demo
      seamless-catalog dashboard --catalog demo --media demo-media
    """
    from ..dashboard.server import serve

    if media is not None:
        media.mkdir(parents=True, exist_ok=True)
    return serve(catalog_dir, media=media, host=host, port=port, source=source, clips=clips)
