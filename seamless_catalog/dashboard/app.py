"""The dashboard's Streamlit entry: ``streamlit run app.py -- --catalog DIR [--media DIR]``."""

from __future__ import annotations

import sys

import streamlit as st

from seamless_catalog.dashboard import browse, download, files, overview, sqlpage
from seamless_catalog.dashboard.state import PAGES, parse_options
from seamless_catalog.errors import CatalogError

RENDER = {
    "Overview": overview.render,
    "Browse": browse.render,
    "Files": files.render,
    "SQL": sqlpage.render,
    "Download": download.render,
}


def main() -> None:
    st.set_page_config(page_title="Seamless catalog", layout="wide")
    options = parse_options(sys.argv[1:])
    wanted = st.query_params.get("page")
    if "page" not in st.session_state and wanted in PAGES:
        st.session_state["page"] = wanted
    with st.sidebar:
        st.title("Seamless catalog")
        page = st.radio("Page", PAGES, key="page")
        st.caption(f"catalog: `{options.catalog}`")
        st.caption(f"media: `{options.media or 'none (--media DIR)'}`")
    try:
        RENDER[page](options)
    except CatalogError as e:
        st.error(str(e))


if __name__ == "__main__":  # Streamlit runs this file as __main__; an import runs nothing
    main()
