"""Browse: label -> split -> batch -> interaction; both participants side by side."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import streamlit as st

from ..errors import CatalogError
from . import fetching, player
from .data import BFI2_TRAITS, Data
from .download import run_with_bar
from .media import media_path
from .moments import speaker_names
from .state import Options, data_for, sync_media, table

KEYS = ("browse_label", "browse_split", "browse_batch", "browse_interaction")


def render(options: Options) -> None:
    data = data_for(options)
    st.header("Browse")
    _from_query_params(data)
    key = _pick(data)
    if key:
        show_interaction(data, options, key)


def _from_query_params(data: Data) -> None:
    """``?interaction=KEY`` opens that interaction once."""
    key = st.query_params.get("interaction")
    if key and st.session_state.get("_browse_qp") != key:
        st.session_state["_browse_qp"] = key
        _select(data, key)


def _select(data: Data, key: str) -> None:
    row = data.frame(
        "select label, split, batch_idx from files where interaction_key = ? limit 1", [key]
    )
    if row.height:
        label, split, batch = row.row(0)
        st.session_state.update(
            browse_label=label, browse_split=split, browse_batch=batch, browse_interaction=key
        )


def _random_pick(data: Data) -> None:
    seed = int(st.session_state.get("browse_seed", 0))
    keys = data.column("select interaction_key from pairs order by 1") or data.column(
        "select interaction_key from interactions order by 1"
    )
    if keys:
        _select(data, random.Random(seed).choice(keys))
    st.session_state["browse_seed"] = seed + 1


def _pick(data: Data) -> str | None:
    cols = st.columns([2, 2, 1, 4, 1, 2])
    labels = data.labels()
    if not labels:
        st.info("The catalog lists no files.")
        return None
    label = cols[0].selectbox("Label", labels, key="browse_label")
    split = cols[1].selectbox("Split", data.splits(label), key="browse_split")
    batch = cols[2].selectbox("Batch", data.batches(label, split), key="browse_batch")
    keys = data.interaction_keys(label, split, batch) if batch is not None else []
    key = cols[3].selectbox("Interaction", keys, key="browse_interaction")
    cols[4].number_input("Seed", min_value=0, step=1, key="browse_seed")
    cols[5].button("Random pair", key="browse_random", on_click=_random_pick, args=(data,))
    return key


def show_interaction(data: Data, options: Options, key: str) -> None:
    info = data.interaction(key) or {}
    files = data.interaction_files(key)
    st.subheader(key)
    st.caption(
        f"{info.get('interaction_type') or 'unknown type'} · relationship: "
        f"{info.get('relationship') or 'unknown'}"
        + (f" ({info['relationship_detail']})" if info.get("relationship_detail") else "")
        + f" · {files.height} file(s) · {info.get('duration_s') or 0:.1f} s"
    )
    rows = files.to_dicts()
    missing = [r["file_id"] for r in rows if not media_path(options.media, r, "mp4")]
    sides = st.columns(max(len(rows), 1))
    for side, row, who in zip(sides, rows, "AB"):
        with side:
            _participant(options, row, info, who)
    if rows and not missing:
        sync_media()
        st.caption("Playback is synchronized: play, pause or seek either video.")
    elif rows:
        _materialize_button(options, key, [r["file_id"] for r in rows])

    names = speaker_names(rows)
    player.render(data, options, key, names)
    _pair_stats(data, key)
    annotations = data.annotations(key)
    st.markdown("**Annotations**")
    if annotations.height:
        speaker = pl.col("file_id").replace_strict(names, default=pl.col("file_id"))
        table(annotations.select(speaker.alias("speaker"), pl.exclude("file_id")))
    else:
        st.caption("none")
    st.session_state["files_interaction"] = key


def _participant(options: Options, row: dict[str, Any], info: dict, who: str) -> None:
    st.markdown(f"**{who}: participant {row['participant']}** · `{row['file_id']}`")
    video = media_path(options.media, row, "mp4")
    if video:
        st.video(str(video))
    else:
        st.info("Video not materialized" + ("" if options.media else " (start with --media DIR)"))
    ipc = info.get("ipc_a" if who == "A" else "ipc_b")
    prompt = info.get(f"participant_{who.lower()}_prompt_text")
    if ipc:
        st.markdown(f"*{ipc}*")
    if prompt:
        st.markdown(prompt)
    if row.get("bfi2_disclosed"):
        scores = pl.DataFrame({"trait": BFI2_TRAITS, "score": [row[t] for t in BFI2_TRAITS]})
        table(scores)
    else:
        st.caption("BFI-2 undisclosed")


def _materialize_button(options: Options, key: str, file_ids: list[str]) -> None:
    if options.media is None:
        st.caption("Start the dashboard with --media DIR to materialize and play this pair.")
        return
    if not st.button(f"Materialize this pair into {options.media}", key="browse_materialize"):
        return
    job = fetching.Job(to=options.media, source=options.source, file_ids=tuple(file_ids))
    bar = st.progress(0.0, text="planning")
    try:
        root = data_for(options).root
        result = run_with_bar(root, job, fetching.plan(root, job), bar)
    except CatalogError as e:
        st.error(str(e))
        return
    if result.ok:
        st.success(f"{result.count('delivered')} file(s) delivered; receipt {result.receipt}")
        st.rerun()
    st.error("; ".join(f"{o.path or o.file_id}: {o.reason}" for o in result.failures))


def _pair_stats(data: Data, key: str) -> None:
    stats = data.pair_stats(key)
    if not stats or stats.get("speech_a_s") is None:
        return
    cols = st.columns(6)
    cols[0].metric("speech A (s)", f"{stats['speech_a_s']:.1f}")
    cols[1].metric("speech B (s)", f"{stats['speech_b_s']:.1f}")
    cols[2].metric("overlap (s)", f"{stats['overlap_s']:.1f}")
    cols[3].metric("gaps / pauses", f"{stats['n_gaps']} / {stats['n_pauses']}")
    fto = stats.get("fto_median_ms")
    cols[4].metric("median FTO (ms)", "n/a" if fto is None else f"{fto:.0f}")
    cols[5].metric("transitions / min", f"{stats['transitions_per_min'] or 0:.1f}")
