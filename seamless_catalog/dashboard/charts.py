"""Altair (Vega-Lite) charts of the dashboard: pure functions of Polars frames."""

from __future__ import annotations

import altair as alt
import polars as pl

from ..layout import LABELS, SPLITS

# One colour means one value of one dimension, on every chart of every page: label and split
# never share a colour, so a legend read once holds everywhere (a chart colouring by
# something else, e.g. BFI-2 traits or feature dimensions, uses Altair's own scheme).
PALETTES = {
    "label": dict(zip(LABELS, ["#4c78a8", "#f58518"])),
    "split": dict(zip(SPLITS, ["#9d755d", "#eeca3b", "#b279a2"])),
    "kind": {"VAD": "#72b7b2", "transcript": "#ff9da6"},  # the timeline's segment kinds
}
ANNOTATION_COLOR = "#54a24b"
UNKNOWN = "(unknown)"  # a NULL group, kept as a group of its own


def color(field: str) -> alt.Color:
    """The colour encoding of ``field``: its fixed palette when it has one."""
    palette = PALETTES.get(field)
    if palette is None:
        return alt.Color(f"{field}:N")
    scale = alt.Scale(domain=[*palette, UNKNOWN], range=[*palette.values(), "#bab0ac"])
    return alt.Color(f"{field}:N", scale=scale, title=field)


def _data(frame: pl.DataFrame) -> pl.DataFrame:
    """Frames go to Altair as they are: Streamlit ships them as Arrow (no row limit, no
    per-row JSON validation)."""
    return frame


def bars(frame: pl.DataFrame, x: str, y: str, color_by: str | None = None, title: str = ""):
    """A bar per ``x`` value, stacked by ``color``. A NULL group is a group of its own and a
    NULL measure counts 0, so that no ``x`` value vanishes (Vega-Lite drops a NULL sum)."""
    frame = frame.with_columns(pl.col(y).fill_null(0))
    if color_by:
        frame = frame.with_columns(pl.col(color_by).cast(pl.String).fill_null(UNKNOWN))
    enc = {
        "x": alt.X(f"{x}:N", title=x),
        "y": alt.Y(f"sum({y}):Q", title=y),
        "tooltip": [alt.Tooltip(f"{x}:N"), alt.Tooltip(f"sum({y}):Q", format=".3f")],
    }
    if color_by:
        enc["color"] = color(color_by)
    return alt.Chart(_data(frame), title=title).mark_bar().encode(**enc)


def histogram(frame: pl.DataFrame, column: str, title: str = "", bins: int = 30, color_by=None):
    frame = frame.filter(pl.col(column).is_not_null())
    enc = {
        "x": alt.X(f"{column}:Q", bin=alt.Bin(maxbins=bins), title=column),
        "y": alt.Y("count():Q", title="count"),
    }
    if color_by:
        enc["color"] = color(color_by)
    return (
        alt.Chart(_data(frame.select([column] + ([color_by] if color_by else []))), title=title)
        .mark_bar()
        .encode(**enc)
    )


def traits(frame: pl.DataFrame):
    """BFI-2 domain scores (1..5), one box per trait."""
    return (
        alt.Chart(_data(frame), title="BFI-2 traits of disclosed participants")
        .mark_boxplot()
        .encode(
            x=alt.X("trait:N"),
            y=alt.Y("score:Q", scale=alt.Scale(domain=[1, 5])),
            color=alt.Color("trait:N", legend=None),
        )
    )


def heat(frame: pl.DataFrame, x: str, y: str, value: str, title: str = ""):
    return (
        alt.Chart(_data(frame), title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:N"),
            y=alt.Y(f"{y}:N"),
            color=alt.Color(f"{value}:Q"),
            tooltip=[f"{x}:N", f"{y}:N", f"{value}:Q"],
        )
    )


def timeline(segments: pl.DataFrame, annotations: pl.DataFrame, names: dict[str, str]):
    """Both speakers' VAD and transcript segments on one time axis, annotations below."""
    seg = segments.with_columns(
        pl.col("file_id").replace_strict(names, default=pl.col("file_id")).alias("speaker"),
        pl.col("text").fill_null(""),
    )
    base = alt.Chart(_data(seg)).encode(
        x=alt.X("start_s:Q", title="time (s)"),
        x2="end_s:Q",
        y=alt.Y("speaker:N", title=None),
        yOffset=alt.YOffset("kind:N"),
        color=color("kind"),
        tooltip=["speaker:N", "kind:N", "start_s:Q", "end_s:Q", "text:N"],
    )
    layers = [base.mark_bar()]
    if annotations.height:
        ann = annotations.with_columns(
            pl.col("file_id").replace_strict(names, default=pl.col("file_id")).alias("speaker")
        )
        layers.append(
            alt.Chart(_data(ann))
            .mark_tick(thickness=2, size=14, color=ANNOTATION_COLOR)
            .encode(
                x="start_s:Q",
                y=alt.Y("speaker:N"),
                tooltip=["speaker:N", "annotation_type:N", "start_s:Q", "end_s:Q", "text:N"],
            )
        )
    return alt.layer(*layers).properties(height=160, title="VAD, transcript and annotations")


def feature_lines(columns: dict, key: str):
    frame = pl.DataFrame(columns).unpivot(index="time_s", variable_name="dim", value_name="value")
    return (
        alt.Chart(_data(frame), title=key)
        .mark_line()
        .encode(x=alt.X("time_s:Q", title="time (s)"), y="value:Q", color="dim:N")
    )
