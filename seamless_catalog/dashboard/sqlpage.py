"""SQL: a query box over the views, the result, and CSV/Parquet downloads of it."""

from __future__ import annotations

import io

import polars as pl
import streamlit as st

from ..errors import CatalogError
from .state import Options, data_for, table

DEFAULT_QUERY = "select * from dataset_summary"
MAX_ROWS = 100_000


def render(options: Options) -> None:
    data = data_for(options)
    st.header("SQL")
    with st.expander("Views"):
        for name, description in data.views():
            st.markdown(f"**{name}**: {description}")
    query = st.text_area(
        "Query (one SELECT or EXPLAIN)", DEFAULT_QUERY, key="sql_query", height=140
    )
    if st.button("Run", key="sql_run", type="primary"):
        try:
            st.session_state["sql_result"] = data.user_query(query, limit=MAX_ROWS)
            st.session_state.pop("sql_error", None)
        except CatalogError as e:
            st.session_state["sql_error"] = str(e)
            st.session_state.pop("sql_result", None)
    if "sql_error" in st.session_state:
        st.error(st.session_state["sql_error"])
    result = st.session_state.get("sql_result")
    if result is not None:
        _show(result)


def _show(result: pl.DataFrame) -> None:
    note = f" (first {MAX_ROWS:,})" if result.height == MAX_ROWS else ""
    st.caption(f"{result.height:,} rows{note} × {result.width} columns")
    table(result)
    left, right = st.columns(2)
    left.download_button("CSV", _csv(result), "result.csv", "text/csv", key="sql_csv")
    right.download_button(
        "Parquet", _parquet(result), "result.parquet", "application/octet-stream", key="sql_pq"
    )


def _csv(frame: pl.DataFrame) -> bytes:
    flat = frame.with_columns(
        pl.col(n).cast(pl.List(pl.String)).list.join("|")
        for n, t in frame.schema.items()
        if isinstance(t, pl.List)
    )
    return flat.write_csv().encode()


def _parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()
