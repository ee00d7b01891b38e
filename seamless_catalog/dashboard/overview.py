"""Overview: how much data there is, how it is spread, how people talk, what is missing."""

from __future__ import annotations

import polars as pl
import streamlit as st

from . import charts
from .state import Options, chart, data_for, table


def render(options: Options) -> None:
    data = data_for(options)
    summary = data.summary()
    st.header("Overview")
    _headline(data, summary)

    st.subheader("Hours and files")
    left, right = st.columns(2)
    with left:
        chart(charts.bars(summary, "label", "hours", "split", "Hours by label and split"))
        chart(charts.bars(summary, "vendor", "hours", "label", "Hours by vendor"))
    with right:
        chart(charts.bars(summary, "split", "n_files", "label", "Files by split and label"))
        chart(charts.bars(summary, "vendor", "n_files", "split", "Files by vendor"))
    left, right = st.columns(2)
    with left:
        by_type = data.interactions_by("interaction_type")
        chart(charts.bars(by_type, "interaction_type", "hours", None, "Hours by interaction type"))
    with right:
        by_rel = data.interactions_by("relationship")
        chart(
            charts.bars(
                by_rel, "relationship", "n_interactions", None, "Interactions by relationship"
            )
        )

    st.subheader("Distributions")
    files = data.file_facts()
    pairs = data.turn_taking()
    left, right = st.columns(2)
    with left:
        chart(charts.histogram(files, "duration_s", "File durations (s)", color_by="label"))
        chart(charts.histogram(pairs, "overlap_ratio", "Overlap / union of speech, per pair"))
        chart(
            charts.histogram(pairs, "fto_median_ms", "Median floor-transfer offset (ms), per pair")
        )
    with right:
        chart(charts.histogram(files, "speech_ratio", "Speech ratio per file", color_by="label"))
        chart(charts.histogram(pairs, "n_gaps", "Gaps (silent speaker changes) per pair"))
        traits = data.traits_long()
        if traits.height:
            chart(charts.traits(traits))
        else:
            st.info("No participant disclosed BFI-2 scores.")
    st.caption(
        "Turn-taking from VAD with Silero's 30 ms padding kept, IPUs bridged at 200 ms; "
        "gaps and overlaps after Heldner & Edlund (2010). See the turn_taking view's description."
    )

    st.subheader("Annotation coverage")
    coverage = data.annotation_coverage()
    if coverage.height:
        chart(
            charts.heat(
                coverage, "annotation_type", "label", "n_files", "Files per annotation type"
            )
        )
    else:
        st.info("No annotations were ingested.")

    st.subheader("Defects")
    defects = data.defects()
    chart(charts.bars(defects, "defect", "n_files", None, "Files with each defect"))
    issues = data.ingest_issues()
    if issues.height:
        st.markdown("**Ingest issues** (records quarantined or repaired)")
        table(issues)


def _headline(data, summary: pl.DataFrame) -> None:
    """The totals `seamless-catalog stats` prints, by the same definitions (stats.TOTALS_SQL)."""
    totals = data.totals()
    cols = st.columns(5)
    cols[0].metric("files", totals["files"])
    cols[1].metric("interactions", totals["interactions"])
    cols[2].metric("sessions", totals["sessions"])
    cols[3].metric("participants", totals["participants"], help="with at least one file")
    cols[4].metric("interaction hours", f"{totals['interaction_hours'] or 0:.1f}")
