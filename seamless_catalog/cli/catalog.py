"""Commands over one catalog: make it (quickstart, ingest, synth), ask it (query, views, stats,
sample)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import config
from . import output
from .format import format_ingest, format_stats
from .options import catalog_option, format_option, output_option

# \b: click would re-wrap the lines of an epilog into one paragraph
INGEST_EXAMPLES = """
\b
Example:
  seamless-catalog ingest --catalog cat --filelist filelist.csv --assets assets/ hf/
  seamless-catalog ingest --catalog cat ~/seamless/improvised/dev   # a local tree
"""
QUERY_EXAMPLES = """
\b
Example:
  seamless-catalog query --catalog cat "select * from pairs where relationship = 'familiar' limit 5"
  seamless-catalog query --catalog cat "select * from turn_taking" --format parquet -o tt.parquet
"""


@click.command()
@catalog_option
@click.option(
    "--sample",
    "sample_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the generated sample release [default: CATALOG/sample].",
)
@click.option("--n-files", default=48, show_default=True, help="Files in the sample release.")
@click.option("--seed", default=0, show_default=True)
def quickstart(catalog_dir: Path, sample_dir: Path | None, n_files: int, seed: int) -> int:
    """Generate a small sample release, ingest it, print a summary and example queries.

    Runs offline: the sample is made by the package's own generator.

    \b
    Example:
      seamless-catalog quickstart --catalog demo
    """
    from .quickstart import quickstart as do

    result, text = do(catalog_dir, sample_dir=sample_dir, n_files=n_files, seed=seed)
    click.echo(text)
    return 0 if result.ok else 1


@click.command(epilog=INGEST_EXAMPLES)
@catalog_option
@click.option(
    "--filelist",
    help="filelist.csv path or URL [default: the one already ingested, "
    "else ASSETS/filelist.csv, else the official one].",
)
@click.option(
    "--assets",
    help="Folder or URL holding interactions.csv, participants.csv, "
    "relationships.csv [default: as already ingested, else the official ones].",
)
@click.option("--workers", type=click.IntRange(min=1), help="Units read at once [default: 4].")
@click.argument("sources", nargs=-1)
def ingest(
    catalog_dir: Path,
    filelist: str | None,
    assets: str | None,
    workers: int | None,
    sources: tuple[str, ...],
):
    """Ingest SOURCES (local tree, .tar, folder of tars, per-file layout) into the catalog.

    Unchanged sources are skipped; the catalog changes in one atomic step; bad records go
    to the ingest_issues table and the run carries on (exit status 1 when any was found).
    """
    from ..ingestion.pipeline import ingest as do

    r = do(catalog_dir, sources, filelist=filelist, assets=assets, workers=workers)
    click.echo(format_ingest(r))
    return 0 if r.ok else 1


@click.command(epilog=QUERY_EXAMPLES)
@catalog_option
@click.argument("sql")
@format_option
@output_option
def query(catalog_dir: Path, sql: str, fmt: str, output_path: str | None) -> int:
    """Run SQL over the catalog's views and print or save the result."""
    from ..catalog import Catalog

    with Catalog.open(catalog_dir, sandbox=True) as cat:
        output.write(cat.query(sql), fmt, output_path)
    return 0


@click.command("views")
@catalog_option
def views(catalog_dir: Path) -> int:
    """List the views with their descriptions.

    \b
    Example:
      seamless-catalog views --catalog demo
    """
    from ..catalog import Catalog

    with Catalog.open(catalog_dir) as cat:
        for name, description in cat.views():
            click.echo(f"{name:<20} {description}")
    return 0


@click.command()
@catalog_option
def stats(catalog_dir: Path) -> int:
    """Print what the catalog holds: totals, hours by label and split, defects, issues.

    \b
    Example:
      seamless-catalog stats --catalog demo
    """
    from ..catalog import Catalog
    from ..stats import compute

    with Catalog.open(catalog_dir) as cat:
        click.echo(format_stats(compute(cat)))
    return 0


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--n-files", type=int, help="Approximate number of files.")
@click.option("--scale", type=float, help="Fraction of the full release (1.0 = 129,370 files).")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--layouts", default="tree,hf,cdn", show_default=True, help="Comma-separated: tree, hf, cdn."
)
@click.option("--metadata-only", is_flag=True, help="JSON metadata only, no media.")
@click.option("--filelist-columns", type=click.Choice(["8", "5"]), default="8", show_default=True)
def synth(
    out: Path,
    n_files: int | None,
    scale: float | None,
    seed: int,
    layouts: str,
    metadata_only: bool,
    filelist_columns: str,
) -> int:
    """Generate a synthetic release faithful to the real one, in all three layouts.

    \b
    Example:
      seamless-catalog synth release --n-files 60 --seed 1
      seamless-catalog synth full --scale 1.0 --metadata-only --layouts tree
    """
    from ..synth import generate

    if n_files is None and scale is None:
        raise click.UsageError("give --n-files or --scale")
    r = generate(
        out,
        n_files=n_files,
        scale=scale,
        seed=seed,
        layouts=tuple(x.strip() for x in layouts.split(",") if x.strip()),
        metadata_only=metadata_only,
        filelist_columns=int(filelist_columns),
        progress=config.from_env().progress,
    )
    click.echo(f"wrote {out}: {r}")
    return 0


@click.command("sample")
@catalog_option
@click.option(
    "--unit", type=click.Choice(["file", "pair", "session"]), default="file", show_default=True
)
@click.option("-n", "n", type=int, required=True, help="How many units.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same sample.")
@click.option("--where", help="SQL predicate over the unit's view (files, pairs or sessions).")
@format_option
@output_option
def sample(
    catalog_dir: Path,
    unit: str,
    n: int,
    seed: int,
    where: str | None,
    fmt: str,
    output_path: str | None,
) -> int:
    """Pick N random files, pairs or sessions, reproducibly (ordered by md5(seed, key)).

    The result can be saved and given to `materialize --selection`.

    \b
    Example:
      seamless-catalog sample --catalog demo --unit pair -n 10 --seed 1 \\
          --where "relationship = 'familiar'" --format csv -o pairs.csv
      seamless-catalog materialize --catalog demo --selection pairs.csv --to data --pairs
    """
    from ..catalog import Catalog
    from ..select.draw import sample as draw

    with Catalog.open(catalog_dir, sandbox=True) as cat:
        output.write(draw(cat, unit, n, seed=seed, where=where), fmt, output_path)
    return 0
