"""Altair (Vega-Lite) charts of the dashboard: pure functions of Polars frames."""

from __future__ import annotations

import altair as alt
import polars as pl

from ..layout import LABELS, SPLITS

# the moments view's kinds (sql/79_moments.sql), in the order the timeline lists them
MOMENT_KINDS = ("shift", "hold", "backchannel", "listening", "annotation", "ipu")
PAIR_LANE = "pair"  # the timeline row of moments of both sides (shifts, holds)

# One colour means one value of one dimension, on every chart of every page: label and split
# never share a colour, so a legend read once holds everywhere (a chart colouring by
# something else, e.g. BFI-2 traits or feature dimensions, uses Altair's own scheme).
PALETTES = {
    "label": dict(zip(LABELS, ["#4c78a8", "#f58518"])),
    "split": dict(zip(SPLITS, ["#9d755d", "#eeca3b", "#b279a2"])),
    "kind": {"VAD": "#72b7b2", "transcript": "#ff9da6"},  # the timeline's segment kinds
    # moment kinds: colours no other dimension uses
    "moment": dict(
        zip(MOMENT_KINDS, ["#e45756", "#17becf", "#bcbd22", "#8c6d31", "#1b9e77", "#6b6ecf"])
    ),
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


def timeline(
    segments: pl.DataFrame,
    annotations: pl.DataFrame,
    names: dict[str, str],
    moments: pl.DataFrame | None = None,
    chosen: tuple[float, float] | None = None,
):
    """Both speakers' VAD and transcript segments on one time axis, annotations below; with
    ``moments``, a row of moments per side (and one for the pair's), coloured by kind, and
    the ``chosen`` window (start_s, end_s) shaded across all rows."""
    seg = segments.with_columns(
        _speaker(names),
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
        ann = annotations.with_columns(_speaker(names))
        layers.append(
            alt.Chart(_data(ann))
            .mark_tick(thickness=2, size=14, color=ANNOTATION_COLOR)
            .encode(
                x="start_s:Q",
                y=alt.Y("speaker:N"),
                tooltip=["speaker:N", "annotation_type:N", "start_s:Q", "end_s:Q", "text:N"],
            )
        )
    lanes = 2
    if moments is not None and moments.height:
        lanes += moments.select(moment_lanes(names)).n_unique()
        layers.append(_moments_layer(moments, names))
    if chosen is not None:
        window = pl.DataFrame({"start_s": [chosen[0]], "end_s": [chosen[1]]})
        layers.append(
            alt.Chart(_data(window))
            .mark_rect(opacity=0.18, color="#000000")
            .encode(x="start_s:Q", x2="end_s:Q")
        )
    title = "VAD, transcript, annotations" + (" and moments" if lanes > 2 else "")
    chart = alt.layer(*layers).resolve_scale(color="independent")
    return chart.properties(height=60 + 45 * lanes, title=title)


def _speaker(names: dict[str, str]) -> pl.Expr:
    return pl.col("file_id").replace_strict(names, default=pl.col("file_id")).alias("speaker")


def moment_lanes(names: dict[str, str]) -> pl.Expr:
    """The timeline row of each moment: ``moments · <speaker>``, or ``moments · pair`` for a
    moment of both sides (file_id null)."""
    side = pl.col("file_id").replace_strict(names, default=pl.col("file_id"))
    return pl.concat_str(pl.lit("moments · "), side.fill_null(PAIR_LANE)).alias("speaker")


_BELOW = alt.Legend(orient="bottom", direction="horizontal")


def _moments_layer(moments: pl.DataFrame, names: dict[str, str]):
    frame = moments.select(
        "start_s", "end_s", moment_lanes(names), pl.col("kind").alias("moment"),
        pl.col("detail").fill_null(""), pl.col("vap"),
    )  # fmt: skip
    palette = PALETTES["moment"]
    scale = alt.Scale(domain=list(palette), range=list(palette.values()))
    return (
        alt.Chart(_data(frame))
        .mark_bar(opacity=0.85, stroke="#333333", strokeWidth=0.5)
        .encode(
            x="start_s:Q",
            x2="end_s:Q",
            y=alt.Y("speaker:N"),
            color=alt.Color("moment:N", scale=scale, title="moment", legend=_BELOW),
            tooltip=["speaker:N", "moment:N", "detail:N", "vap:N", "start_s:Q", "end_s:Q"],
        )
    )


def feature_lines(columns: dict, key: str):
    frame = pl.DataFrame(columns).unpivot(index="time_s", variable_name="dim", value_name="value")
    return (
        alt.Chart(_data(frame), title=key)
        .mark_line()
        .encode(x=alt.X("time_s:Q", title="time (s)"), y="value:Q", color="dim:N")
    )
