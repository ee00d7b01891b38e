"""What every page shares: the options the app was started with and the cached data access."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ..store.snapshots import default_source
from .data import Data

PAGES = ("Overview", "Browse", "Files", "SQL", "Download")


@dataclass(frozen=True)
class Options:
    catalog: Path
    media: Path | None = None  # materialized media in the upstream layout
    source: str | None = None  # where the materialize buttons fetch from


def parse_options(argv: Sequence[str]) -> Options:
    """Options after ``streamlit run app.py --``: ``--catalog DIR [--media DIR] [--source URI]``."""
    parser = argparse.ArgumentParser(prog="seamless-catalog dashboard", add_help=False)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--media")
    parser.add_argument("--source")
    ns, _ = parser.parse_known_args(list(argv))
    catalog = Path(ns.catalog)
    source = ns.source or default_source(catalog)  # quickstart's catalog: its own sample
    return Options(catalog, Path(ns.media) if ns.media else None, source)


@st.cache_resource(show_spinner=False)
def open_data(catalog: str, snapshot_key: float) -> Data:
    """One read-only catalog per directory and manifest version (a new ingest reopens it)."""
    return Data(catalog)


def data_for(options: Options) -> Data:
    manifest = options.catalog / "manifest.json"
    mtime = manifest.stat().st_mtime if manifest.exists() else 0.0
    return open_data(str(options.catalog), mtime)


def chart(spec) -> None:
    st.altair_chart(spec, width="stretch")


def table(frame, **kwargs) -> None:
    st.dataframe(frame, width="stretch", hide_index=True, **kwargs)
