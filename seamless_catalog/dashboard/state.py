"""What every page shares: the options the app was started with and the cached data access."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from ..store.snapshots import default_source
from .data import Data

PAGES = ("Overview", "Browse", "Files", "SQL", "Download")


@dataclass(frozen=True)
class Options:
    catalog: Path
    media: Path | None = None  # materialized media in the upstream layout
    source: str | None = None  # where the materialize buttons fetch from
    clips: Path | None = None  # the moments' clip cache (None: moments.default_cache_dir())


def parse_options(argv: Sequence[str]) -> Options:
    """Options after ``streamlit run app.py --``: ``--catalog DIR [--media DIR] [--source URI]
    [--clips DIR]``."""
    parser = argparse.ArgumentParser(prog="seamless-catalog dashboard", add_help=False)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--media")
    parser.add_argument("--source")
    parser.add_argument("--clips")
    ns, _ = parser.parse_known_args(list(argv))
    catalog = Path(ns.catalog)
    source = ns.source or default_source(catalog)  # quickstart's catalog: its own sample
    return Options(
        catalog, Path(ns.media) if ns.media else None, source, Path(ns.clips) if ns.clips else None
    )


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


# Plays, pauses and seeks media together (inline, or from a component's same-origin iframe,
# where window.parent is the app's document): the <video>/<audio> elements inside one
# container keyed ``sync-<name>`` form a group; those outside any such container another.
SYNC_JS = """
<script>
// once per window: inline, a second copy of the script (a rerun, a second player) adds nothing
if (!window.__seamlessSync) { window.__seamlessSync = true; (() => {
  const doc = window.parent.document;
  const all = () => Array.from(doc.querySelectorAll("video, audio"));
  function group(el) {
    const box = el.closest('[class*="st-key-sync-"]');
    return box ? Array.from(box.classList).find(c => c.startsWith("st-key-sync-")) : "";
  }
  function link() {
    all().forEach(v => {
      if (v.dataset.synced) return;
      v.dataset.synced = "1";
      const others = () => all().filter(o => o !== v && group(o) === group(v));
      v.addEventListener("play", () => others().forEach(o => { if (o.paused) o.play(); }));
      v.addEventListener("pause", () => others().forEach(o => { if (!o.paused) o.pause(); }));
      v.addEventListener("seeked", () => others().forEach(o => {
        if (Math.abs(o.currentTime - v.currentTime) > 0.2) o.currentTime = v.currentTime;
      }));
    });
  }
  link();
  new MutationObserver(link).observe(doc.body, {childList: true, subtree: true});
})(); }
</script>
"""


def sync_media() -> None:
    """Link the page's players (SYNC_JS). Newer Streamlit runs scripts inline (st.html);
    older ones in a same-origin iframe."""
    if "unsafe_allow_javascript" in inspect.signature(st.html).parameters:
        st.html(SYNC_JS, unsafe_allow_javascript=True)
    else:
        components.html(SYNC_JS, height=0)
