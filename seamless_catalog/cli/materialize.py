"""``materialize`` and its plan-file commands (plan, run, status, retry)."""

from __future__ import annotations

from pathlib import Path

import click

from .boundary import CatalogGroup
from .format import format_plan, format_planfile, format_run, format_status, format_summary
from .options import (
    TO_HELP,
    catalog_option,
    clip_options,
    clip_settings,
    engine_options,
    merge_option,
    modalities_option,
    pairs_option,
    plan_option,
    plan_to_option,
    selection_option,
    source_option,
    sql_option,
)


@click.group("materialize", cls=CatalogGroup, invoke_without_command=True)
@click.option(
    "--catalog", "catalog_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Catalog directory.",
)  # fmt: skip
@sql_option
@selection_option
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), help=TO_HELP)
@source_option
@modalities_option
@pairs_option
@click.option("--dry-run", is_flag=True, help="Print the plan; transfer nothing.")
@click.option("--workers", default=4, show_default=True, help="Parallel transfers.")
@click.option("--shard", help="K/N: keep the K-th of N parts (split by interaction).")
@click.option("--retry-failed", is_flag=True, help="Redo only the failures of the last run.")
@merge_option
@clip_options
@click.pass_context
def materialize(
    ctx: click.Context,
    catalog_dir: Path | None,
    sql: str | None,
    selection: Path | None,
    to: Path | None,
    source: str | None,
    modalities: str,
    pairs: bool,
    dry_run: bool,
    workers: int,
    shard: str | None,
    retry_failed: bool,
    merge: bool,
    **clip: object,
) -> int:
    """Download exactly the files a selection names, into the upstream local layout.

    From the Hub's tars it reads members by byte range (one request per sample); from
    S3/HTTPS it fetches per-file objects; from a local folder it copies the files of a tree
    in the upstream layout, reads tars in the Hub layout by range, or both side by side.
    Files already present and verified are skipped; a receipt is written under
    TO/.seamless-catalog/receipts/. Exit status 1 when any file was not delivered (each is
    named). Across machines: `materialize plan` writes a plan file, `materialize run --plan
    P` runs its shards (locally, on Ray or Dask, or one `--shard K/N` per array member),
    `status` and `retry` follow up.

    Sharing TO with the upstream toolkit: its download_archive_from_hf(extract=True) takes
    an archive folder that exists as already extracted, so after materializing part of an
    archive it will not add the rest. Materialize whole archives there (select by
    archive_path), or give upstream another local_dir. A run, and `materialize status
    --plan P`, name the archive folders that hold part of their archive.

    Clips: when the SQL's result has start_s and end_s (seconds) plus file_id or
    interaction_key (both sides), each window becomes {file_id}_t{start_ms}-{end_ms}.{ext}
    in its file's folder, cut by range: wav sample-exact, npz frames of --features, mp4 by
    stream copy (--exact re-encodes), json from the catalog. Invalid windows are named.

    \b
    Example:
      seamless-catalog materialize --catalog demo --to data --dry-run \\
          --sql "select interaction_key from pairs where relationship = 'familiar' limit 2"
      seamless-catalog materialize --catalog demo --to data --source s3://bucket/seamless \\
          --sql "select file_id from files where split = 'dev'" --modalities wav,json
      seamless-catalog materialize --catalog demo --to clips --pad 1 --modalities wav,json \
          --sql "select file_id, start_s, end_s from turn_shifts limit 20"
    """
    if ctx.invoked_subcommand is not None:
        return 0
    for value, name in ((catalog_dir, "--catalog"), (to, "--to")):
        if value is None:
            raise click.UsageError(f"Missing option '{name}'.", ctx)
    from ..materialize import materialize as download

    r = download(
        catalog_dir,
        sql=sql,
        selection=selection,
        to=to,
        source=source,
        modalities=modalities,
        pairs=pairs,
        dry_run=dry_run,
        workers=workers,
        shard=shard,
        retry_failed=retry_failed,
        merge=merge,
        clips=clip_settings(**clip),
    )
    click.echo(format_plan(r.plan, r.unknown, r.failures) if dry_run else format_summary(r))
    return 0 if (dry_run or r.ok) else 1


@materialize.command("plan")
@catalog_option
@sql_option
@selection_option
@click.option(
    "--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path), help=TO_HELP
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The plan file to write (Parquet).",
)  # fmt: skip
@source_option
@modalities_option
@pairs_option
@merge_option
@clip_options
def plan(
    catalog_dir: Path, sql: str | None, selection: Path | None, to: Path, out: Path,
    source: str | None, modalities: str, pairs: bool, merge: bool, **clip: object,
) -> int:  # fmt: skip
    """Write a plan file: one row per output file, with its source byte ranges, destination,
    expected size/sha256 and stable shard bucket. Nothing is transferred.

    \b
    Example:
      seamless-catalog materialize plan --catalog demo --to /shared/data --out plan.parquet \\
          --sql "select interaction_key from pairs where split = 'train'"
    """
    from ..materialize import make_plan

    pf = make_plan(
        catalog_dir, out, to=to, sql=sql, selection=selection,
        source=source, modalities=modalities, pairs=pairs, merge=merge,
        clips=clip_settings(**clip),
    )  # fmt: skip
    click.echo(format_planfile(pf))
    return 0


@materialize.command("run")
@plan_option
@click.option("--shard", help="K/N: run only the K-th of N shards (one per array member).")
@click.option("--shards", type=click.IntRange(min=1),
              help="How many shards to schedule [default: 1 local, 4 ray/dask].")  # fmt: skip
@engine_options
@plan_to_option
def run_(
    plan_path: Path, shard: str | None, shards: int | None, workers: int, engine: str,
    ray_address: str | None, dask_scheduler: str | None, to: Path | None,
) -> int:  # fmt: skip
    """Run a plan file: its shards, or only `--shard K/N` (SLURM/Kubernetes array members).
    Files already on disk and verified are skipped, so any engine resumes another's work.
    Exit status 1 when any file was not delivered.

    \b
    Example:
      seamless-catalog materialize run --plan plan.parquet
      seamless-catalog materialize run --plan plan.parquet --engine ray --shards 16
      seamless-catalog materialize run --plan plan.parquet --shard $((SLURM_ARRAY_TASK_ID+1))/8
    """
    from ..materialize import run_plan

    return _shards_ran(run_plan(
        plan_path, engine=engine, shards=shards, shard=shard, workers=workers, to=to,
        ray_address=ray_address, dask_scheduler=dask_scheduler,
    ))  # fmt: skip


def _shards_ran(done) -> int:
    """Print what the shards of a run did; exit status 1 when any file was not delivered."""
    click.echo(format_run(done))
    return 0 if all(s.ok for s in done) else 1


@materialize.command("status")
@plan_option
@click.option("--shards", type=click.IntRange(min=1),
              help="Count by N shards [default: the N of the plan's last run].")  # fmt: skip
@plan_to_option
def status(plan_path: Path, shards: int | None, to: Path | None) -> int:
    """Per shard and in total: items done (on disk and verified), failed (by the latest
    receipt) and missing, with their bytes. Exit status 1 until every item is done.

    \b
    Example:
      seamless-catalog materialize status --plan plan.parquet
    """
    from ..materialize import plan_status

    st = plan_status(plan_path, shards, to)
    click.echo(format_status(st))
    return 0 if st.complete else 1


@materialize.command("retry")
@plan_option
@click.option("--shards", type=click.IntRange(min=1),
              help="Shard by N [default: the N of the plan's last run].")  # fmt: skip
@engine_options
@plan_to_option
def retry(
    plan_path: Path, shards: int | None, workers: int, engine: str, ray_address: str | None,
    dask_scheduler: str | None, to: Path | None,
) -> int:  # fmt: skip
    """Run again only the shards that have failed or missing items; their done items are
    skipped. Exit status 1 when any file is still not delivered.

    \b
    Example:
      seamless-catalog materialize retry --plan plan.parquet
    """
    from ..materialize import retry_plan

    return _shards_ran(retry_plan(
        plan_path, shards=shards, engine=engine, workers=workers, to=to,
        ray_address=ray_address, dask_scheduler=dask_scheduler,
    ))  # fmt: skip
