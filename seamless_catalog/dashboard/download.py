"""Download: a selection by filters or SQL, its plan, a run with a progress bar, the receipt."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from ..cli.format import human_bytes, plan_headline
from ..errors import CatalogError
from ..layout import EXTENSIONS
from ..store.catalogdb import check_read_only
from . import fetching
from .state import Options, data_for, table


def render(options: Options) -> None:
    data = data_for(options)
    st.header("Download")
    mode = st.radio("Select by", ["Filters", "SQL"], horizontal=True, key="dl_mode")
    try:
        job = _job(data, options, mode)
    except CatalogError as e:
        st.error(str(e))
        return
    if job is None:
        return
    if st.button("Plan", key="dl_plan"):
        try:
            st.session_state["dl_planned"] = (job, fetching.plan(data.root, job))
        except CatalogError as e:
            st.error(str(e))
    planned = st.session_state.get("dl_planned")
    if not planned or planned[0] != job:
        st.caption("Plan the selection to see what it costs.")
        return
    _show_plan(planned[1])
    if st.button("Download", key="dl_run", type="primary", disabled=not planned[1].plan.todo):
        _run(data.root, job, planned[1])


def _job(data, options: Options, mode: str) -> fetching.Job | None:
    default_to = str(options.media) if options.media else ""
    if mode == "Filters":
        opts = data.filter_options()
        cols = st.columns(4)
        filters = {
            name: cols[i].multiselect(name, values, key=f"dl_{name}")
            for i, (name, values) in enumerate(opts.items())
        }
        cols = st.columns(3)
        pairs_only = cols[0].checkbox("Pairs only", value=True, key="dl_pairs_only")
        n = cols[1].number_input("Interactions (0 = all)", min_value=0, value=2, key="dl_n")
        seed = cols[2].number_input("Seed", min_value=0, value=0, key="dl_seed")
        ids = data.filtered_file_ids(filters, pairs_only, int(n) or None, int(seed))
        st.caption(
            f"{len(ids)} samples (file ids) selected; each gives one file per modality chosen"
        )
        sql = None
    else:
        sql = st.text_area(
            "SQL with a file_id, interaction_key or session_key column",
            "select interaction_key from pairs where label = 'improvised' limit 1",
            key="dl_sql",
        )
        sql = check_read_only(sql)
        ids = []
    cols = st.columns([2, 3, 3])
    modalities = cols[0].multiselect(
        "Modalities", EXTENSIONS, default=list(EXTENSIONS), key="dl_modalities"
    )
    to = cols[1].text_input("Into folder", default_to, key="dl_to")
    source = cols[2].text_input("From", options.source, key="dl_source")
    if not to or not modalities or (sql is None and not ids):
        st.caption("Choose files, modalities and a target folder.")
        return None
    return fetching.Job(
        to=Path(to),
        source=source,
        sql=sql,
        file_ids=tuple(ids),
        modalities=tuple(modalities),
    )


def _show_plan(result) -> None:
    plan = result.plan
    st.markdown(f"**{plan_headline(plan)}**")  # the totals first, in human units
    if result.unknown:
        st.warning(f"not in the catalog: {', '.join(result.unknown)}")
    cols = st.columns(5)
    cols[0].metric("samples to fetch", len({i.file_id for i in plan.todo}))
    cols[1].metric("files to fetch", len(plan.todo), help="one per sample and modality")
    cols[2].metric("files already present", sum(1 for i in plan.items if i.state == "present"))
    cols[3].metric("to download", human_bytes(plan.bytes_to_fetch))
    cols[4].metric("requests", plan.n_requests)
    failed = [i for i in plan.items if i.state == "failed"]
    if failed:
        st.warning(
            f"{len(failed)} file(s) cannot be had: "
            + "; ".join(f"{i.dest}: {i.reason}" for i in failed[:5])
        )
    items = pl.DataFrame(
        [{"path": i.dest, "state": i.state, "bytes": i.needed, "kind": i.kind} for i in plan.items],
        schema={"path": pl.String, "state": pl.String, "bytes": pl.Int64, "kind": pl.String},
    )
    table(items)


def run_with_bar(root: Path, job: fetching.Job, planned, bar):
    """Run a planned materialization, advancing the Streamlit progress ``bar`` per file on
    disk; at the end the bar shows what was delivered, and what failed beside it."""
    result = fetching.run(
        root,
        job,
        planned,
        lambda done, total: bar.progress(done / max(total, 1), text=f"{done}/{total} files"),
    )
    total = len(planned.plan.todo)
    delivered, failed = result.count("delivered"), result.count("failed")
    bar.progress(
        delivered / max(total, 1), text=f"{delivered} of {total} files delivered, {failed} failed"
    )
    return result


def _run(root: Path, job: fetching.Job, planned) -> None:
    bar = st.progress(0.0, text="starting")
    try:
        result = run_with_bar(root, job, planned, bar)
    except CatalogError as e:
        st.error(str(e))
        return
    st.session_state.pop("dl_planned", None)
    line = (
        f"{result.count('delivered')} delivered, {result.count('skipped')} skipped, "
        f"{result.count('failed')} failed; {human_bytes(result.bytes_fetched)} fetched"
    )
    (st.success if result.ok else st.error)(line)
    st.markdown(f"Receipt: `{result.receipt}`")
    table(pl.DataFrame([vars(o) for o in result.outcomes]))
