"""Iterate over a selection's samples by byte-range reads: ordered, sharded, prefetched.

A selection of files gives one :class:`~.decode.Sample` per file. A selection of **windows**
(a result with ``file_id`` or ``interaction_key`` plus ``start_s``/``end_s``, as
``Catalog.clips`` takes: ``select/windows.py``) gives one :class:`~.clips.Clip` per window
and side, cut by range with the clips' own planner and cutters (``pad``/``before``/
``after``, ``features`` and ``exact`` as for clips): the window's float32 samples, the npz
frames of the requested features at the recorded rate, the overlapping words, segments, VAD
and annotations with times relative to the window's start, and the ``clip`` record. The rows
that give no window are in ``invalid``, row by row with the reason.

Order: by file_id (pairs: by interaction_key, then file_id); windows by file_id, start and
end (pairs: by interaction_key and the span asked for, the sides of one window next to each
other); or with ``shuffle`` the seeded order of :mod:`~seamless_catalog.select.order` (the
one ``sample`` uses), so one seed gives one order on every machine. Ranks take every
``world_size``-th unit of that order (a unit is a file or a window, or with
``pairs_together`` an interaction or the sides of one window): parts are disjoint, cover the
selection and differ in size by at most one unit. DataLoader workers split a rank's part
the same way, per sample. ``start`` skips the samples of this rank's order already
consumed; ``position`` tells where a stream is, to pass back as ``start``; with
``errors="skip"`` a sample that cannot be read (a file, or a window, with any of its
modalities missing) is listed in ``skipped`` as (file_id or window stem, reason) and counts
as consumed.

At most ``prefetch`` samples are in flight on a thread pool; they are yielded in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar

from ..config import Settings
from ..errors import CatalogError, UsageError
from ..layout import EXTENSIONS, FileRef
from ..select.order import seeded
from ..select.selection import select
from ..select.windows import InvalidWindow, Window, select_windows, selects_windows
from ..store.catalogdb import CatalogDB
from ..store.snapshots import default_source
from .clips import Clip, ClipSelection
from .decode import Sample, decode
from .raw import RawSample, SampleReader

T = TypeVar("T")

PLAN_CHUNK = 256  # files planned at once (the per-file layout costs one HEAD per object)


def deal(
    units: list[list[T]], keys: Sequence[str], *, shuffle: bool, seed: int, rank: int,
    world_size: int,
) -> list[T]:  # fmt: skip
    """This rank's share of ``units`` (each kept whole), in stream order: every
    ``world_size``-th unit, after the seeded order of ``keys`` when ``shuffle``."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise UsageError(f"rank {rank} of world_size {world_size}: need 0 <= rank < world_size")
    if shuffle:
        units = [units[i] for i in seeded(range(len(units)), seed, key=keys.__getitem__)]
    return [r for unit in units[rank::world_size] for r in unit]


def _units(items: list[T], sort: Callable[[T], Any], unit: Callable[[T], Any] | None,
           key: Callable[[T], str]) -> tuple[list[list[T]], list[str]]:  # fmt: skip
    """``items`` sorted, grouped into units (each item its own when ``unit`` is None), and
    each unit's shuffle key (its first item's)."""
    ordered = sorted(items, key=sort)
    units = [[r] for r in ordered] if unit is None else [list(g) for _, g in groupby(ordered, unit)]
    return units, [key(u[0]) for u in units]


def order_rows(
    rows: list[FileRef],
    *,
    shuffle: bool = False,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    pairs_together: bool = False,
) -> list[FileRef]:
    """This rank's files, in stream order (before ``start`` and worker splitting)."""
    if pairs_together:
        units, keys = _units(rows, lambda r: (r.interaction_key, r.file_id),
                             lambda r: r.interaction_key, lambda r: r.interaction_key)  # fmt: skip
    else:
        units, keys = _units(rows, lambda r: r.file_id, None, lambda r: r.file_id)
    return deal(units, keys, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size)


def _asked(w: Window) -> tuple[str, int, int]:
    """The window that was asked for on an interaction: the sides of one window share it
    (each side's own window may be clipped to its recording)."""
    r = w.record
    start, end = r["requested_start_s"], r["requested_end_s"]
    return w.interaction_key, round(start * 1000), round(end * 1000)


def order_windows(
    windows: Sequence[Window],
    *,
    shuffle: bool = False,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    pairs_together: bool = False,
) -> list[Window]:
    """This rank's windows, in stream order: units of one window (by file_id, start, end),
    or with ``pairs_together`` of the sides of one interaction window (by interaction_key
    and the span asked for, the sides by file_id), dealt as :func:`order_rows` deals files."""
    if pairs_together:
        units, keys = _units(list(windows), lambda w: (_asked(w), w.file_id), _asked,
                             lambda w: "{}_t{:07d}-{:07d}".format(*_asked(w)))  # fmt: skip
    else:
        units, keys = _units(list(windows), lambda w: (w.file_id, w.start_ms, w.end_ms), None,
                             lambda w: w.stem)  # fmt: skip
    return deal(units, keys, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size)


class _Files:
    """The samples of whole files: planned per chunk on the caller's thread, read on a pool."""

    def __init__(self, reader: SampleReader, decode: bool) -> None:
        self.reader, self.decode = reader, decode

    def plan(self, rows: list[FileRef]) -> list:
        plans = self.reader.plan(rows)
        return [plans[r.file_id] for r in rows]

    def fetch(self, row: FileRef, fp) -> RawSample | Sample:
        raw = self.reader.fetch(row, fp)
        if not self.decode:
            return raw
        s = decode(raw.row, raw.blobs, raw.paths)
        s.sources = raw.sources
        return s

    @staticmethod
    def name(row: FileRef) -> str:
        return row.file_id


class _Windows:
    """The clips of windows, through :class:`~.clips.ClipSelection` (its planner, cutters and
    npz span cache): a window that cannot be cut whole raises, as a file would."""

    def __init__(self, clips: ClipSelection, decode: bool) -> None:
        self.clips, self.decode = clips, decode

    def plan(self, windows: list[Window]) -> list:
        return self.clips.plan(windows)

    def fetch(self, w: Window, tasks) -> Clip:
        return self.clips.cut(w, tasks, self.decode)

    @staticmethod
    def name(w: Window) -> str:
        return w.stem


WINDOW_OPTIONS = ("pad", "before", "after", "features", "exact")  # for window selections only


class SampleStream:
    """An iterable of :class:`Sample` (:class:`RawSample` with ``decode=False``), or for a
    window selection of :class:`~.clips.Clip` (undecoded: ``Clip.sample`` None)."""

    def __init__(
        self,
        cat: CatalogDB,
        sql: str,
        *,
        modalities: str | tuple[str, ...] = EXTENSIONS,
        source: str | None = None,
        media: str | Path | None = None,
        shuffle: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pairs_together: bool = False,
        start: int = 0,
        prefetch: int = 4,
        worker: tuple[int, int] = (0, 1),
        errors: str = "raise",
        decode: bool = True,
        settings: Settings | None = None,
        pad: float = 0.0,
        before: float | None = None,
        after: float | None = None,
        features: str | tuple[str, ...] | None = None,
        exact: bool = False,
    ) -> None:
        if prefetch < 1 or start < 0:
            raise UsageError(f"prefetch {prefetch} and start {start}: need >= 1 and >= 0")
        if errors not in ("raise", "skip"):
            raise UsageError(f"errors={errors!r}: choose 'raise' or 'skip'")
        deal_options = {"shuffle": shuffle, "seed": seed, "rank": rank,
                        "world_size": world_size, "pairs_together": pairs_together}  # fmt: skip
        self.invalid: tuple[InvalidWindow, ...] = ()  # window rows that give no window
        self.windowed = selects_windows(cat, sql, None)
        if self.windowed:
            if media is not None:
                raise UsageError(
                    "media= reads whole materialized files; windows are cut from source= "
                    "(a materialized folder works as source=, or give its clips' paths)"
                )
            chosen = select_windows(cat, sql=sql, pad=pad, before=before, after=after)
            self.invalid = chosen.invalid
            clips = ClipSelection(cat, chosen, modalities, features,
                                  source or default_source(cat.root), settings, exact)  # fmt: skip
            self.reader: _Files | _Windows = _Windows(clips, decode)
            self.order: list = order_windows(chosen.windows, **deal_options)
        else:
            asked = {"pad": pad != 0.0, "before": before is not None,
                     "after": after is not None, "features": features is not None,
                     "exact": exact}  # fmt: skip
            if any(asked.values()):
                given = ", ".join(k for k in WINDOW_OPTIONS if asked[k])
                raise UsageError(f"{given}: for windows; select start_s and end_s too")
            reader = SampleReader(cat, modalities, source, media, settings, read_video=not decode)
            self.reader = _Files(reader, decode)
            self.order = order_rows(list(select(cat, sql=sql).files), **deal_options)
        self.start = start
        self.worker_id, self.num_workers = worker
        self.prefetch = prefetch
        self.errors = errors
        self.decode = decode
        self.position = start  # samples of this rank's order consumed (or skipped)
        self.skipped: list[tuple[str, str]] = []  # (file_id or window stem, reason): "skip"

    def __len__(self) -> int:
        return len(self._todo())

    def _todo(self) -> list[tuple[int, FileRef | Window]]:
        rest = list(enumerate(self.order))[self.start :]
        return rest[self.worker_id :: self.num_workers]

    def __iter__(self) -> Iterator[Sample | RawSample | Clip]:
        todo = self._todo()
        with ThreadPoolExecutor(self.prefetch, thread_name_prefix="seamless-stream") as pool:
            window: deque[tuple[int, Any, Future]] = deque()
            for i in range(0, len(todo), PLAN_CHUNK):
                chunk = todo[i : i + PLAN_CHUNK]
                plans = self.reader.plan([r for _, r in chunk])
                for (pos, row), plan in zip(chunk, plans):
                    while len(window) >= self.prefetch:
                        yield from self._settle(window.popleft())
                    window.append((pos, row, pool.submit(self.reader.fetch, row, plan)))
            while window:
                yield from self._settle(window.popleft())

    def _settle(self, entry: tuple[int, Any, Future]) -> Iterator[Sample | RawSample | Clip]:
        pos, row, future = entry
        try:
            sample = future.result()
        except CatalogError as e:
            if self.errors == "raise":
                raise
            self.skipped.append((self.reader.name(row), str(e)))
            self.position = pos + 1
            return
        self.position = pos + 1
        yield sample
