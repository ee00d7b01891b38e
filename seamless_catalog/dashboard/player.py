"""Browse's timeline with the interaction's moments, and the chosen moment played.

The moments (``Data.moments``) are drawn on the timeline, a row per side and one for the
pair, coloured by kind and filtered by the kinds chosen; choosing one fetches its window of
both sides as clips (``moments.fetch``: ``Catalog.clips`` from the dashboard's source, kept
in the clip cache) and plays them side by side from the window's start, in sync, with the
words each side says in the window.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from ..cli.format import human_bytes
from ..config import DEFAULT_SOURCE
from ..errors import CatalogError
from . import charts, moments
from .data import Data
from .state import Options, chart, sync_media

CHOICE = "moment_choice"
DEFAULT_PAD_S = 1.0


def render(data: Data, options: Options, key: str, names: dict[str, str]) -> None:
    """The timeline (segments, annotations, moments) and, once a moment is chosen, its clips."""
    segments, annotations = data.timeline(key), data.annotations(key)
    found = data.moments(key)
    shown, row, pad = found, None, DEFAULT_PAD_S
    if found.height:
        shown, row, pad = _pick(found, key, names)
    window = None if row is None else (max(row["start_s"] - pad, 0.0), row["end_s"] + pad)
    if segments.height or shown.height:
        chart(charts.timeline(segments, annotations, names, shown, window))
    else:
        st.info("No VAD or transcript was ingested for this interaction.")
    if not found.height:
        st.info(
            "No moments for this interaction: the moments view finds turn shifts, holds, "
            "backchannels, listening segments and IPUs in the VAD of both sides, and annotated "
            "moments in its annotations; none were ingested for it."
        )
    elif row is not None:
        play(data, options, key, row, pad, names)


def _pick(found: pl.DataFrame, key: str, names: dict[str, str]):
    """The kind filter, the context and the moment chosen: (moments shown, row, pad)."""
    counts = dict(found.group_by("kind").len().iter_rows())
    kinds = [k for k in charts.MOMENT_KINDS if k in counts]
    kinds += sorted(set(counts) - set(kinds))
    if st.session_state.get("_moments_of") != key:  # another interaction: start afresh
        st.session_state["_moments_of"] = key
        st.session_state.pop(CHOICE, None)
        st.session_state["moment_kinds"] = kinds
    st.markdown("**Moments**")
    cols = st.columns([4, 1, 4])
    wanted = cols[0].multiselect(
        "Moment kinds", kinds, format_func=lambda k: f"{k} ({counts[k]})", key="moment_kinds"
    )
    pad = cols[1].number_input("Context (s)", 0.0, 10.0, DEFAULT_PAD_S, 0.5, key="moment_pad")
    labels = moments.moment_choices(found, names)
    ids = [i for i, kind in zip(labels, found["kind"]) if kind in wanted]
    if st.session_state.get(CHOICE) not in ids:
        st.session_state.pop(CHOICE, None)
    choice = cols[2].selectbox(
        "Moment", ids, index=None, format_func=labels.get, key=CHOICE,
        placeholder=f"choose one of {len(ids)} moments to play it",
    )  # fmt: skip
    shown = found.filter(pl.col("kind").is_in(wanted))
    return shown, (moments.moment_row(found, choice) if choice else None), float(pad)


def play(data: Data, options: Options, key: str, row: dict, pad: float, names) -> None:
    """Fetch (or read back) the moment's clips of both sides and play them side by side."""
    cache = moments.ClipCache(options.clips or moments.default_cache_dir(),
                              options.source or DEFAULT_SOURCE)  # fmt: skip
    try:
        with st.spinner("Fetching the moment's window of both sides"):
            got = moments.fetch(data, cache, key, row["start_s"], row["end_s"],
                                kind=row["kind"], pad=pad, source=options.source)  # fmt: skip
    except (CatalogError, OSError) as e:
        st.error(moments.describe_error(e, options.source))
        return
    requests = sum(s.requests for s in got.sides)
    st.caption(
        "Clips read back from the clip cache (nothing fetched)."
        if got.cached
        else f"Clips cut by range: {human_bytes(got.fetched)} in {requests} requests "
        f"from {options.source or DEFAULT_SOURCE}; kept in {cache.root}."
    )
    for bad in got.invalid:
        st.warning(f"{bad.key}: {bad.reason}")
    with st.container(key="sync-moment"):
        for col, side in zip(st.columns(max(len(got.sides), 1)), got.sides):
            with col:
                _side(side, names)
    sync_media()
    st.caption("The clips start at the window's start and play together: play, pause or seek one.")


def _side(side: moments.SideClip, names: dict[str, str]) -> None:
    st.markdown(
        f"**{names.get(side.file_id, side.file_id)}** · {side.start_s:.2f}–{side.end_s:.2f} s "
        f"({side.duration:.2f} s)"
    )
    picture, rest = st.columns(2)  # portrait video: half the side's width is tall enough
    with picture:
        _media(side, "mp4", st.video, "video/mp4")
    with rest:
        _media(side, "wav", st.audio, "audio/wav")
        if side.words:
            st.markdown("> " + " ".join(w["word"] for w in side.words))
            st.caption(f"{len(side.words)} words in the window (transcript, from the catalog)")
        else:
            st.caption("No words in this window.")


def _media(side: moments.SideClip, ext: str, show, mime: str) -> None:
    if ext in side.paths:
        show(str(side.paths[ext]), format=mime)
    else:
        st.warning(f"No {ext} clip: {side.missing.get(ext, 'not cut')}")
