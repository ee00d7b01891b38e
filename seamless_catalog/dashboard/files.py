"""Files: one file's JSON, audio, NPZ arrays with shapes and a feature over time."""

from __future__ import annotations

import polars as pl
import streamlit as st

from . import charts
from .media import feature_frames, media_path, npz_inventory, read_json
from .state import Options, chart, data_for, table


def render(options: Options) -> None:
    data = data_for(options)
    st.header("Files")
    ids = data.file_ids(st.session_state.get("files_interaction"))
    if not ids:
        ids = data.file_ids()
    if not ids:
        st.info("The catalog lists no files.")
        return
    if st.session_state.get("files_file_id") not in ids:
        st.session_state.pop("files_file_id", None)
    file_id = st.selectbox("File", ids, key="files_file_id")
    row = data.file(file_id)
    modalities = ", ".join(row["modalities"] or []) or "none"
    st.caption(
        f"{row['label']}/{row['split']} · batch {row['batch_idx']} archive {row['archive_idx']} · "
        f"{row['duration_s'] or 0:.1f} s · modalities: {modalities}"
    )
    table(data.media_facts(file_id))
    if options.media is None:
        st.info("Start the dashboard with --media DIR to see the materialized files.")
    json_tab, audio_tab, npz_tab = st.tabs(["JSON", "Audio", "NPZ features"])
    with json_tab:
        path = media_path(options.media, row, "json")
        if path:
            st.json(read_json(path), expanded=1)
        else:
            st.caption("JSON not materialized.")
    with audio_tab:
        path = media_path(options.media, row, "wav")
        if path:
            st.audio(str(path), format="audio/wav")
        else:
            st.caption("Audio not materialized.")
    with npz_tab:
        _features(data, options, row)


def _features(data, options: Options, row: dict) -> None:
    path = media_path(options.media, row, "npz")
    if not path:
        st.caption("NPZ not materialized; the catalog's inventory of its arrays:")
        table(data.features(row["file_id"]))
        return
    inventory = npz_inventory(path)
    table(
        pl.DataFrame(
            inventory, schema={"key": pl.String, "dtype": pl.String, "shape": pl.List(pl.Int64)}
        )
    )
    plottable = [i["key"] for i in inventory if i["shape"] and i["dtype"] != "object"]
    if not plottable:
        return
    key = st.selectbox("Feature", plottable, key="files_feature")
    chart(charts.feature_lines(feature_frames(path, key), key))
    st.caption("Time = frame / 30 Hz; the first dimensions of the flattened frame, decimated.")
