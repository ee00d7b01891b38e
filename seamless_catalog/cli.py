"""The ``seamless-catalog`` command: a thin click layer over the library."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import click

from . import __version__, config, output
from .dashboard.command import dashboard
from .errors import CatalogError

EXAMPLES = {
    "ingest": """
Example:

  seamless-catalog ingest --catalog cat --filelist filelist.csv --assets assets/ hf/
  seamless-catalog ingest --catalog cat ~/seamless/improvised/dev   # a local tree
""",
    "query": """
Example:

  seamless-catalog query --catalog cat "select * from pairs where relationship = 'familiar' limit 5"
  seamless-catalog query --catalog cat "select * from turn_taking" --format parquet -o tt.parquet
""",
}


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def run(fn: Callable[[], int | None]) -> None:
    """Call ``fn``; map our errors to a message and an exit code (traceback when debugging)."""
    debug = config.from_env().debug
    try:
        code = fn() or 0
    except CatalogError as e:
        if debug:
            traceback.print_exc()
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted; rerun the same command to resume", 130)
    sys.exit(code)


catalog_option = click.option(
    "--catalog",
    "catalog_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog directory.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seamless-catalog")
def main() -> None:
    """Query Meta's Seamless Interaction dataset with SQL, then download only what you need.

    \b
    Example:
      seamless-catalog quickstart --catalog demo
      seamless-catalog query --catalog demo "select * from turn_taking limit 5"
    """


@main.command()
@catalog_option
@click.option(
    "--sample",
    "sample_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the generated sample release [default: CATALOG/sample].",
)
@click.option("--n-files", default=48, show_default=True, help="Files in the sample release.")
@click.option("--seed", default=0, show_default=True)
def quickstart(catalog_dir: Path, sample_dir: Path | None, n_files: int, seed: int) -> None:
    """Generate a small sample release, ingest it, print a summary and example queries.

    Runs offline: the sample is made by the package's own generator.

    \b
    Example:
      seamless-catalog quickstart --catalog demo
    """
    from .quickstart import quickstart as do

    def go() -> int:
        result, text = do(catalog_dir, sample_dir=sample_dir, n_files=n_files, seed=seed)
        click.echo(text)
        return 0 if result.ok else 1

    run(go)


@main.command(epilog=EXAMPLES["ingest"])
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
    from .ingest.run import ingest as do

    def go() -> int:
        r = do(catalog_dir, sources, filelist=filelist, assets=assets, workers=workers)
        click.echo(_ingest_summary(r))
        return 0 if r.ok else 1

    run(go)


def _ingest_summary(r) -> str:
    lines = [
        f"snapshot {r.snapshot} (run {r.run_id}): {r.n_units_parsed} units parsed, "
        f"{r.n_units_unchanged} unchanged, {r.n_units_removed} removed",
        "rows written: " + (", ".join(f"{k} {v:,}" for k, v in r.rows.items()) or "none"),
    ]
    if r.n_errors or r.n_warnings:
        lines.append(f"{r.n_errors} records quarantined, {r.n_warnings} warnings; first ones:")
        lines += [f"  {loc}: {reason}" for loc, reason in r.issues]
        lines.append("all of them: select * from raw.ingest_issues")
    return "\n".join(lines)


@main.command(epilog=EXAMPLES["query"])
@catalog_option
@click.argument("sql")
@click.option(
    "--format", "fmt", type=click.Choice(output.FORMATS), default="table", show_default=True
)
@click.option("-o", "--output", "output_path", help="Write to this file instead of stdout.")
def query(catalog_dir: Path, sql: str, fmt: str, output_path: str | None) -> None:
    """Run SQL over the catalog's views and print or save the result."""
    from .catalog import Catalog

    def go() -> int:
        with Catalog.open(catalog_dir, sandbox=True) as cat:
            output.write(cat.query(sql), fmt, output_path)
        return 0

    run(go)


@main.command("views")
@catalog_option
def views_cmd(catalog_dir: Path) -> None:
    """List the views with their descriptions.

    \b
    Example:
      seamless-catalog views --catalog demo
    """
    from .catalog import Catalog

    def go() -> int:
        with Catalog.open(catalog_dir) as cat:
            for name, description in cat.views():
                click.echo(f"{name:<20} {description}")
        return 0

    run(go)


@main.command()
@catalog_option
def stats(catalog_dir: Path) -> None:
    """Print what the catalog holds: totals, hours by label and split, defects, issues.

    \b
    Example:
      seamless-catalog stats --catalog demo
    """
    from .catalog import Catalog
    from .stats import compute

    def go() -> int:
        with Catalog.open(catalog_dir) as cat:
            click.echo(format_stats(compute(cat)))
        return 0

    run(go)


def format_stats(s) -> str:
    width = max(len(k) for k in s.totals)
    lines = [f"snapshot {s.snapshot}", ""]
    lines += [f"{k:<{width}}  {v}" for k, v in s.totals.items()]
    lines += ["", output.format_table(*s.by_split).rstrip(), "", "table rows:"]
    lines += [f"  {k:<20} {v:,}" for k, v in s.table_rows.items()]
    issues = ", ".join(f"{n} {sev}" for sev, n in s.issues.items()) or "none"
    lines.append(f"ingest issues: {issues}")
    return "\n".join(lines)


@main.command()
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
) -> None:
    """Generate a synthetic release faithful to the real one, in all three layouts.

    \b
    Example:
      seamless-catalog synth release --n-files 60 --seed 1
      seamless-catalog synth full --scale 1.0 --metadata-only --layouts tree
    """
    from .synth import generate

    def go() -> int:
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

    run(go)


@main.command("sample")
@catalog_option
@click.option(
    "--unit", type=click.Choice(["file", "pair", "session"]), default="file", show_default=True
)
@click.option("-n", "n", type=int, required=True, help="How many units.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same sample.")
@click.option("--where", help="SQL predicate over the unit's view (files, pairs or sessions).")
@click.option(
    "--format", "fmt", type=click.Choice(output.FORMATS), default="table", show_default=True
)
@click.option("-o", "--output", "output_path", help="Write to this file instead of stdout.")
def sample_cmd(
    catalog_dir: Path,
    unit: str,
    n: int,
    seed: int,
    where: str | None,
    fmt: str,
    output_path: str | None,
) -> None:
    """Pick N random files, pairs or sessions, reproducibly (ordered by md5(seed, key)).

    The result can be saved and given to `materialize --selection`.

    \b
    Example:
      seamless-catalog sample --catalog demo --unit pair -n 10 --seed 1 \\
          --where "relationship = 'familiar'" --format csv -o pairs.csv
      seamless-catalog materialize --catalog demo --selection pairs.csv --to data --pairs
    """
    from .catalog import Catalog
    from .sample import sample

    def go() -> int:
        with Catalog.open(catalog_dir, sandbox=True) as cat:
            output.write(sample(cat, unit, n, seed=seed, where=where), fmt, output_path)
        return 0

    run(go)


source_option = click.option(
    "--source",
    default=None,
    help="hf://datasets/ORG/NAME, s3://BUCKET/PREFIX, https://HOST/PREFIX or a local "
    "mirror folder [default: hf://datasets/facebook/seamless-interaction].",
)
modalities_option = click.option(
    "--modalities",
    default="json,mp4,npz,wav",
    show_default=True,
    help="Comma-separated: json, mp4, npz, wav; per-file sources also smplh, "
    "boxes_and_keypoints, movement, movement_v4, transcript, vad, annotations, audio, video.",
)
sql_option = click.option(
    "--sql", help="SQL whose result has file_id, interaction_key or session_key."
)
selection_option = click.option(
    "--selection",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV/Parquet with one of those columns, or a text file of ids (one a line).",
)
pairs_option = click.option(
    "--pairs", is_flag=True, help="Add the other side of each selected pair."
)
merge_option = click.option(
    "--merge/--no-merge",
    default=True,
    show_default=True,
    help="Per-file sources: merge .npy into one npz and JSON Lines into one json.",
)
to_help = "Target folder ({label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext})."
plan_option = click.option(
    "--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="A plan file written by `materialize plan`.",
)  # fmt: skip
plan_to_option = click.option(
    "--to", "to", type=click.Path(file_okay=False, path_type=Path),
    help="The plan's destination as mounted here [default: the one in the plan].",
)  # fmt: skip
engine_options = [
    click.option("--workers", default=4, show_default=True, help="Parallel transfers per shard."),
    click.option(
        "--engine",
        type=click.Choice(["local", "ray", "dask"]),
        default="local",
        show_default=True,
        help="What schedules the shards (ray and dask are extras).",
    ),  # fmt: skip
    click.option("--ray-address", help="An existing Ray cluster [default: a local one]."),
    click.option("--dask-scheduler", help="An existing Dask scheduler [default: a local one]."),
]


def _engine_options(fn):
    for option in reversed(engine_options):
        fn = option(fn)
    return fn


@main.group("materialize", invoke_without_command=True)
@click.option(
    "--catalog", "catalog_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Catalog directory.",
)  # fmt: skip
@sql_option
@selection_option
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), help=to_help)
@source_option
@modalities_option
@pairs_option
@click.option("--dry-run", is_flag=True, help="Print the plan; transfer nothing.")
@click.option("--workers", default=4, show_default=True, help="Parallel transfers.")
@click.option("--shard", help="K/N: keep the K-th of N parts (split by interaction).")
@click.option("--retry-failed", is_flag=True, help="Redo only the failures of the last run.")
@merge_option
@click.pass_context
def materialize_cmd(
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
) -> None:
    """Download exactly the files a selection names, into the upstream local layout.

    From the Hub's tars it reads members by byte range (one request per sample); from
    S3/HTTPS it fetches per-file objects. Files already present and verified are skipped;
    a receipt is written under TO/.seamless-catalog/receipts/. Exit status 1 when any file
    was not delivered (each is named). Across machines: `materialize plan` writes a plan
    file, `materialize run --plan P` runs its shards (locally, on Ray or Dask, or one
    `--shard K/N` per array member), `status` and `retry` follow up.

    \b
    Example:
      seamless-catalog materialize --catalog demo --to data --dry-run \\
          --sql "select interaction_key from pairs where relationship = 'familiar' limit 2"
      seamless-catalog materialize --catalog demo --to data --source s3://bucket/seamless \\
          --sql "select file_id from files where split = 'dev'" --modalities wav,json
    """
    if ctx.invoked_subcommand is not None:
        return
    for value, name in ((catalog_dir, "--catalog"), (to, "--to")):
        if value is None:
            raise click.UsageError(f"Missing option '{name}'.", ctx)
    from .materialize import DEFAULT_SOURCE, materialize
    from .materialize.report import format_plan, format_summary

    def go() -> int:
        r = materialize(
            catalog_dir,
            sql=sql,
            selection=selection,
            to=to,
            source=source or DEFAULT_SOURCE,
            modalities=modalities,
            pairs=pairs,
            dry_run=dry_run,
            workers=workers,
            shard=shard,
            retry_failed=retry_failed,
            merge=merge,
        )
        click.echo(format_plan(r.plan) if dry_run else format_summary(r))
        return 0 if (dry_run or r.ok) else 1

    run(go)


@materialize_cmd.command("plan")
@catalog_option
@sql_option
@selection_option
@click.option(
    "--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path), help=to_help
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The plan file to write (Parquet).",
)  # fmt: skip
@source_option
@modalities_option
@pairs_option
@merge_option
def materialize_plan_cmd(
    catalog_dir: Path, sql: str | None, selection: Path | None, to: Path, out: Path,
    source: str | None, modalities: str, pairs: bool, merge: bool,
) -> None:  # fmt: skip
    """Write a plan file: one row per output file, with its source byte ranges, destination,
    expected size/sha256 and stable shard bucket. Nothing is transferred.

    \b
    Example:
      seamless-catalog materialize plan --catalog demo --to /shared/data --out plan.parquet \\
          --sql "select interaction_key from pairs where split = 'train'"
    """
    from .materialize import DEFAULT_SOURCE, make_plan
    from .materialize.planreport import format_planfile

    def go() -> int:
        pf = make_plan(
            catalog_dir, out, to=to, sql=sql, selection=selection,
            source=source or DEFAULT_SOURCE, modalities=modalities, pairs=pairs, merge=merge,
        )  # fmt: skip
        click.echo(format_planfile(pf))
        return 0

    run(go)


@materialize_cmd.command("run")
@plan_option
@click.option("--shard", help="K/N: run only the K-th of N shards (one per array member).")
@click.option("--shards", type=click.IntRange(min=1),
              help="How many shards to schedule [default: 1 local, 4 ray/dask].")  # fmt: skip
@_engine_options
@plan_to_option
def materialize_run_cmd(
    plan_path: Path, shard: str | None, shards: int | None, workers: int, engine: str,
    ray_address: str | None, dask_scheduler: str | None, to: Path | None,
) -> None:  # fmt: skip
    """Run a plan file: its shards, or only `--shard K/N` (SLURM/Kubernetes array members).
    Files already on disk and verified are skipped, so any engine resumes another's work.
    Exit status 1 when any file was not delivered.

    \b
    Example:
      seamless-catalog materialize run --plan plan.parquet
      seamless-catalog materialize run --plan plan.parquet --engine ray --shards 16
      seamless-catalog materialize run --plan plan.parquet --shard $((SLURM_ARRAY_TASK_ID+1))/8
    """
    from .materialize import run_plan

    run(lambda: _shards_ran(run_plan(
        plan_path, engine=engine, shards=shards, shard=shard, workers=workers, to=to,
        ray_address=ray_address, dask_scheduler=dask_scheduler,
    )))  # fmt: skip


def _shards_ran(done) -> int:
    """Print what the shards of a run did; exit status 1 when any file was not delivered."""
    from .materialize.planreport import format_run

    click.echo(format_run(done))
    return 0 if all(s.ok for s in done) else 1


@materialize_cmd.command("status")
@plan_option
@click.option("--shards", type=click.IntRange(min=1),
              help="Count by N shards [default: the N of the plan's last run].")  # fmt: skip
@plan_to_option
def materialize_status_cmd(plan_path: Path, shards: int | None, to: Path | None) -> None:
    """Per shard and in total: items done (on disk and verified), failed (by the latest
    receipt) and missing, with their bytes. Exit status 1 until every item is done.

    \b
    Example:
      seamless-catalog materialize status --plan plan.parquet
    """
    from .materialize import plan_status
    from .materialize.planreport import format_status

    def go() -> int:
        st = plan_status(plan_path, shards, to)
        click.echo(format_status(st))
        return 0 if st.complete else 1

    run(go)


@materialize_cmd.command("retry")
@plan_option
@click.option("--shards", type=click.IntRange(min=1),
              help="Shard by N [default: the N of the plan's last run].")  # fmt: skip
@_engine_options
@plan_to_option
def materialize_retry_cmd(
    plan_path: Path, shards: int | None, workers: int, engine: str, ray_address: str | None,
    dask_scheduler: str | None, to: Path | None,
) -> None:  # fmt: skip
    """Run again only the shards that have failed or missing items; their done items are
    skipped. Exit status 1 when any file is still not delivered.

    \b
    Example:
      seamless-catalog materialize retry --plan plan.parquet
    """
    from .materialize import retry_plan

    run(lambda: _shards_ran(retry_plan(
        plan_path, shards=shards, engine=engine, workers=workers, to=to,
        ray_address=ray_address, dask_scheduler=dask_scheduler,
    )))  # fmt: skip


@main.command("export")
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
def export_cmd(
    catalog_dir: Path, sql: str, fmt: str, to: Path, shard_size: str, source: str | None,
    media: Path | None, modalities: str, prefix: str, skip_missing: bool,
) -> None:  # fmt: skip
    """Write a selection as new WebDataset tar shards plus TO/index.json.

    Members keep the release's names and bytes ({file_id}.json/.mp4/.npz/.wav, adjacent per
    sample); both sides of a pair share a shard. Each shard appears under its name only once
    complete. Exit status 1 when a sample was left out (with --skip-missing).

    \b
    Example:
      seamless-catalog export --catalog demo --format webdataset --to shards --shard-size 1GB \\
          --sql "select interaction_key from pairs where relationship = 'familiar'"
    """
    from .access.export import export_webdataset
    from .catalog import Catalog

    def go() -> int:
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

    run(go)


main.add_command(dashboard)  # its module imports no Streamlit until the command runs


@main.command("publish")
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
def publish_cmd(
    catalog_dir: Path, repo_id: str, dry_run: bool, out: Path | None, revision: str | None,
    private: bool | None, message: str | None,
) -> None:  # fmt: skip
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
    from .publish import publish

    def go() -> int:
        r = publish(
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

    run(go)


if __name__ == "__main__":  # pragma: no cover
    main()
