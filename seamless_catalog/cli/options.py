"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path

import click

from ..layout import EXTENSIONS
from . import output

catalog_option = click.option(
    "--catalog",
    "catalog_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalog directory.",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(output.FORMATS), default="table", show_default=True
)
output_option = click.option(
    "-o", "--output", "output_path", help="Write to this file instead of stdout."
)
source_option = click.option(
    "--source",
    default=None,
    help="hf://datasets/ORG/NAME, s3://BUCKET/PREFIX, https://HOST/PREFIX or a local "
    "folder: a tree, tars or a per-file copy [default: the catalog's recorded source "
    "(quickstart: its sample), else hf://datasets/facebook/seamless-interaction].",
)
modalities_option = click.option(
    "--modalities",
    default=",".join(EXTENSIONS),
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
TO_HELP = "Target folder ({label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext})."
plan_option = click.option(
    "--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="A plan file written by `materialize plan`.",
)  # fmt: skip
plan_to_option = click.option(
    "--to", "to", type=click.Path(file_okay=False, path_type=Path),
    help="The plan's destination as mounted here [default: the one in the plan].",
)  # fmt: skip
_ENGINE_OPTIONS = [
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


def engine_options(fn):
    for option in reversed(_ENGINE_OPTIONS):
        fn = option(fn)
    return fn


_CLIP_OPTIONS = [
    click.option("--windows/--whole-files", "windows", default=None,
                 help="Clips of the windows (rows with start_s and end_s) or whole files "
                 "[default: clips when the selection has start_s and end_s]."),
    click.option("--pad", type=float, default=0.0, show_default=True,
                 help="Widen every window by S seconds on both sides (clipped to the file)."),
    click.option("--before", type=float, help="Seconds added before each window [default: --pad]."),
    click.option("--after", type=float, help="Seconds added after each window [default: --pad]."),
    click.option("--features",
                 help="npz clips: groups or keys, e.g. smplh,movement:emotion_valence."),
    click.option("--exact", is_flag=True,
                 help="mp4 clips: re-encode so the first frame is start_s (PyAV, [video] extra); "
                 "default: stream copy from the keyframe before, hidden by an edit list."),
]  # fmt: skip


def clip_options(fn):
    for option in reversed(_CLIP_OPTIONS):
        fn = option(fn)
    return fn


def clip_settings(windows, pad, before, after, features, exact):
    """The clip options as the library takes them."""
    from ..materialize import ClipOptions

    return ClipOptions(windows, pad, before, after, features, exact)
