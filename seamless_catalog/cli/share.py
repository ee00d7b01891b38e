"""Commands that hand a selection or the catalog to others: ``export`` (WebDataset shards) and
``publish`` (the catalog as a Hub dataset)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import catalog_option


@click.command("export")
@catalog_option
@click.option(
    "--sql", required=True, help="SQL whose result has file_id, interaction_key or session_key."
)
@click.option(
    "--format", "fmt", type=click.Choice(["webdataset"]), default="webdataset", show_default=True
)
@click.option("--to", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--shard-size", default="1GB", show_default=True, help="e.g. 1GB, 500MB, 512MiB.")
@click.option("--source", help="Where to read from [default: the Hub dataset].")
@click.option(
    "--media",
    type=click.Path(file_okay=False, path_type=Path),
    help="A materialized folder to read first (upstream layout).",
)
@click.option("--modalities", default="json,mp4,npz,wav", show_default=True)
@click.option("--prefix", default="shard", show_default=True, help="Shard file name prefix.")
@click.option("--skip-missing", is_flag=True, help="Leave out samples that cannot be read.")
def export(
    catalog_dir: Path, sql: str, fmt: str, to: Path, shard_size: str, source: str | None,
    media: Path | None, modalities: str, prefix: str, skip_missing: bool,
) -> int:  # fmt: skip
    """Write a selection as new WebDataset tar shards plus TO/.seamless-catalog/index.json.

    Members keep the release's names and bytes ({file_id}.json/.mp4/.npz/.wav, adjacent per
    sample); both sides of a pair share a shard. Each shard appears under its name only once
    complete. Exit status 1 when a sample was left out (with --skip-missing).

    \b
    Example:
      seamless-catalog export --catalog demo --format webdataset --to shards --shard-size 1GB \\
          --sql "select interaction_key from pairs where relationship = 'familiar'"
    """
    from ..access.export import export_webdataset
    from ..catalog import Catalog

    with Catalog.open(catalog_dir, sandbox=True) as cat:
        r = export_webdataset(
            cat, sql, to, shard_size=shard_size, source=source, media=media,
            modalities=modalities, prefix=prefix,
            errors="skip" if skip_missing else "raise",
        )  # fmt: skip
    click.echo(
        f"{len(r.samples)} samples in {len(r.shards)} shards ({r.bytes:,} bytes) under {to}; "
        f"index: {r.index}"
    )
    for file_id, reason in r.skipped:
        click.echo(f"  left out {file_id}: {reason}", err=True)
    return 1 if r.skipped else 0


@click.command("publish")
@catalog_option
@click.option("--repo", "repo_id", required=True, help="Hub dataset repo, ORG/NAME.")
@click.option("--dry-run", is_flag=True, help="Build the folder only; upload nothing.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the built folder here [default with --dry-run: ./NAME; else a temp folder].",
)
@click.option("--revision", help="Branch to commit to (must exist) [default: main].")
@click.option("--private", is_flag=True, default=None, help="Create the repo private.")
@click.option("-m", "--message", help="Commit message.")
def publish(
    catalog_dir: Path, repo_id: str, dry_run: bool, out: Path | None, revision: str | None,
    private: bool | None, message: str | None,
) -> int:  # fmt: skip
    """Publish the catalog as a Hub dataset: Parquet per table plus a dataset card.

    One config per table (splits train/dev/test where the table has them, else one train
    split); label and split are columns inside every file. Uploads with huggingface_hub to
    HF_ENDPOINT, authenticated by HF_TOKEN (or `hf auth login`). See docs/portable.md.

    \b
    Example:
      seamless-catalog publish --catalog cat --repo my-lab/seamless-catalog --dry-run
      seamless-catalog publish --catalog cat --repo my-lab/seamless-catalog --private
      duckdb -c "from 'hf://datasets/my-lab/seamless-catalog/data/files/*.parquet'"
    """
    from ..publish import publish as do

    r = do(
        catalog_dir, repo_id, out=out, dry_run=dry_run, revision=revision, private=private,
        commit_message=message,
    )  # fmt: skip
    for t in r.tables:
        rows = ", ".join(f"{split} {n:,}" for split, n in t.rows.items())
        click.echo(f"  {t.name}: {rows}")
    if r.empty:
        click.echo(f"  no rows (no config): {', '.join(r.empty)}")
    if r.folder is not None:
        click.echo(f"folder: {r.folder}")
    if r.commit_url:
        click.echo(f"published snapshot {r.snapshot} to {r.repo_url}: {r.commit_url}")
    else:
        click.echo("dry run: nothing uploaded; to publish, rerun without --dry-run")
    return 0
