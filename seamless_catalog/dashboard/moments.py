"""A moment of an interaction, played on Browse: its window on both sides, cut as clips.

A moment (a row of the ``moments`` view) becomes one window row keyed by its
``interaction_key``, so ``Catalog.clips`` gives both sides over the same span (widened by
``pad`` seconds of context, clipped to each recording) and cuts them by range from the
dashboard's source: the mp4 by stream copy, the wav's samples, the json clip's words from the
catalog. The row goes to ``Catalog.clips`` as a temp table of bound values (nothing pasted
into SQL). The clips are kept in a :class:`ClipCache` on disk, named as ``materialize``
names clips (``{folder}/{file_id}_t{start_ms:07d}-{end_ms:07d}.{ext}``), so choosing the
moment again reads them back instead of fetching. No Streamlit here: ``player.py`` draws.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..access.clips import Clip, clip_words
from ..errors import CatalogError, UsageError
from ..select.windows import InvalidWindow, Window
from ..store.snapshots import write_atomic
from .data import Data

MODALITIES = ("mp4", "wav", "json")  # what a moment plays: video, sound, words
MOMENT_TABLE = "_dashboard_moment"
ENTRY = "moment.json"  # per clip: what was cut, written after its files (its presence = done)


def default_cache_dir() -> Path:
    """Where clips are kept unless ``--clips DIR`` says: the system's temp folder."""
    return Path(tempfile.gettempdir()) / "seamless-catalog-clips"


@dataclass(frozen=True)
class SideClip:
    """One side's clip of a moment, as files in the cache."""

    file_id: str
    start_s: float  # the window on this recording (padded, clipped to its duration)
    end_s: float
    paths: dict[str, Path]  # ext -> the clip file
    words: list[dict]  # times relative to the clip start
    missing: dict[str, str] = field(default_factory=dict)  # ext -> why it could not be cut
    fetched: int = 0  # bytes read from the source when it was cut
    requests: int = 0

    @property
    def duration(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class MomentClips:
    sides: tuple[SideClip, ...]  # by file_id
    cached: bool  # every side read from the cache: nothing was fetched now
    invalid: tuple[InvalidWindow, ...] = ()  # sides that give no window, and why

    @property
    def fetched(self) -> int:
        """Bytes fetched from the source now (0 when served from the cache)."""
        return 0 if self.cached else sum(s.fetched for s in self.sides)


class ClipCache:
    """Clip files under ``root/<source digest>/`` (one folder per source: the same window
    from another source is another clip), each written atomically, its entry last."""

    def __init__(self, root: str | Path, source: str) -> None:
        digest = hashlib.sha256(source.encode()).hexdigest()[:16]
        self.root = Path(root) / digest

    def path(self, w: Window, ext: str) -> Path:
        return self.root / w.path(ext)

    def load(self, w: Window) -> SideClip | None:
        """The window's clip when the cache holds all of it, else None. What could not be
        cut (``missing``: a placeholder, a file the source lacks) is kept too: those are
        facts of the source, not failures of a fetch (those raise and keep nothing)."""
        try:
            entry = json.loads(self.path(w, ENTRY).read_text())
        except (OSError, ValueError):
            return None
        paths = {ext: self.path(w, ext) for ext in entry["exts"]}
        if not all(p.is_file() for p in paths.values()):
            return None
        return _side(w, paths, entry)

    def store(self, clip: Clip) -> SideClip:
        w = clip.window
        self.path(w, ENTRY).parent.mkdir(parents=True, exist_ok=True)
        for ext, data in clip.blobs.items():
            write_atomic(self.path(w, ext), data)
        entry = {"exts": sorted(clip.blobs), "missing": clip.missing,
                 "fetched": clip.fetched, "requests": clip.requests}  # fmt: skip
        write_atomic(self.path(w, ENTRY), json.dumps(entry).encode())
        return _side(w, {ext: self.path(w, ext) for ext in clip.blobs}, entry)


def _side(w: Window, paths: dict[str, Path], entry: dict[str, Any]) -> SideClip:
    words = clip_words(json.loads(paths["json"].read_bytes())) if "json" in paths else []
    return SideClip(w.file_id, w.start_s, w.end_s, paths, words, dict(entry["missing"]),
                    int(entry["fetched"]), int(entry["requests"]))  # fmt: skip


def fetch(
    data: Data,
    cache: ClipCache,
    interaction_key: str,
    start_s: float,
    end_s: float,
    *,
    kind: str | None = None,
    pad: float = 0.0,
    source: str | None = None,
    settings=None,
) -> MomentClips:
    """Both sides' clips of ``[start_s - pad, end_s + pad)``: from the cache when it holds
    every side, else cut through ``Catalog.clips`` (a side's modality that cannot be cut,
    such as a placeholder's empty wav, is left out and named in ``missing``)."""
    with data.lock:
        data.catalog.sql(
            f"create or replace temp table {MOMENT_TABLE} as select ?::varchar as "
            "interaction_key, ?::double as start_s, ?::double as end_s, ?::varchar as kind",
            [interaction_key, start_s, end_s, kind],
        )
        try:
            chosen = data.catalog.clips(f"select * from {MOMENT_TABLE}", pad=pad,
                                        modalities=MODALITIES, source=source,
                                        settings=settings, errors="skip")  # fmt: skip
            cached = [cache.load(w) for w in chosen.windows]
            if chosen.windows and all(cached):
                return MomentClips(tuple(cached), True, chosen.invalid)  # type: ignore[arg-type]
            if not chosen.windows:
                raise UsageError(_no_window(interaction_key, chosen.invalid))
            sides = tuple(cache.store(clip) for clip in chosen)
        finally:
            data.catalog.sql(f"drop table if exists {MOMENT_TABLE}")
    return MomentClips(sides, False, chosen.invalid)


def _no_window(key: str, invalid: tuple[InvalidWindow, ...]) -> str:
    reasons = "; ".join(f"{w.key}: {w.reason}" for w in invalid) or "no file of it is known"
    return f"no clip can be cut of this moment of {key}: {reasons}"


def describe_error(e: Exception, source: str | None) -> str:
    """A fetch failure as one line for the page: what went wrong, where from, what to do."""
    where = source or "the default source"
    if isinstance(e, CatalogError):
        return f"Fetching the clips from {where} failed: {e}"
    return (
        f"Fetching the clips from {where} failed ({type(e).__name__}: {e}). Check that the "
        "source is reachable, or start the dashboard with --source DIR|URI."
    )


def speaker_names(files: list[dict[str, Any]]) -> dict[str, str]:
    """``{file_id: "A: <participant>"}`` for an interaction's files in file_id order (as
    ``Data.interaction_files`` lists them): the names its timeline and moments use."""
    return {r["file_id"]: f"{who}: {r['participant']}" for r, who in zip(files, "AB")}


def moment_choices(moments: pl.DataFrame, names: dict[str, str]) -> dict[str, str]:
    """A label per moment of ``Data.moments`` (in its order), keyed ``m<row>``: the key stays
    the moment's while the page filters by kind. Labels give the time, kind, variant, VAP,
    and whose moment it is (``pair`` for shifts and holds)."""
    out = {}
    for i, m in enumerate(moments.iter_rows(named=True)):
        variant = [v for v in (m["detail"], "VAP" if m["vap"] else None) if v]
        who = names.get(m["file_id"], m["file_id"]) if m["file_id"] else "pair"
        kind = m["kind"] + (f" ({', '.join(variant)})" if variant else "")
        out[f"m{i}"] = f"{m['start_s']:.2f}–{m['end_s']:.2f} s · {kind} · {who}"
    return out


def moment_row(moments: pl.DataFrame, choice: str) -> dict[str, Any]:
    """The ``Data.moments`` row a :func:`moment_choices` key names."""
    return moments.row(int(choice[1:]), named=True)
