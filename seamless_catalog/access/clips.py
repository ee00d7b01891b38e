"""Clips in Python, without writing files: the windows of a query, each cut by range.

``Catalog.clips(sql, ...)`` selects windows (``select/windows.py``: any result with
``file_id`` or ``interaction_key`` plus ``start_s``/``end_s``; ``pad``/``before``/``after``
widen them), plans each modality from the same plan as a whole file (``plan_clips`` over
``plan_files``), and cuts them one window at a time as they are iterated: the source's
bytes of the window only (see ``materialize/running/clipcut.py``). Each :class:`Clip` holds
the decoded :class:`~.decode.Sample` of its bytes (audio array, npz frames, the json clip's
words and ``clip`` record) and what each modality covers. Windows that select nothing are in
``invalid``, row by row with the reason. A clip that cannot be cut (a placeholder's empty
wav, a truncated mp4) raises :class:`SampleUnavailable`; with ``errors="skip"`` the window's
other clips are kept and ``Clip.missing`` says why.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..config import DEFAULT_SOURCE, Settings
from ..errors import SampleUnavailable, UsageError
from ..layout import EXTENSIONS, TRANSCRIPT, parse_features, parse_modalities, wanted_exts
from ..materialize.planning.clips import ClipTask, plan_clips
from ..materialize.running.clipcut import SpanCache, cut_item
from ..remote import open_store
from ..select.windows import InvalidWindow, Window, WindowSelection, select_windows
from ..store.catalogdb import CatalogDB
from .decode import Sample, decode


@dataclass
class Clip:
    """One window's clips: their bytes, decoded, and what each covers."""

    window: Window
    blobs: dict[str, bytes]  # ext -> the clip file's bytes
    sample: Sample | None  # the blobs decoded (audio, npz frames, json); None: decode=False
    covers: dict[str, dict] = field(default_factory=dict)  # ext -> what the clip holds
    fetched: int = 0  # bytes read from the source for this window
    requests: int = 0
    fetched_by: dict[str, int] = field(default_factory=dict)  # ext -> bytes read for it
    missing: dict[str, str] = field(default_factory=dict)  # ext -> why (errors="skip")

    @property
    def file_id(self) -> str:
        return self.window.file_id

    @property
    def interaction_key(self) -> str:
        return self.window.interaction_key

    @property
    def words(self) -> list[dict]:
        """The json clip's words (times relative to the clip), in order."""
        return clip_words(self._decoded().json)

    # what a Sample gives, for the window (times relative to its start)
    audio = property(lambda self: self._decoded().audio)  # float32, the window's samples
    sample_rate = property(lambda self: self._decoded().sample_rate)
    npz = property(lambda self: self._decoded().npz)  # the window's frames of each feature
    video = property(lambda self: self._decoded().video)  # the mp4 clip's bytes
    transcript = property(lambda self: self._decoded().transcript)  # overlapping segments
    vad = property(lambda self: self._decoded().vad)
    annotations = property(lambda self: self._decoded().annotations)

    @property
    def record(self) -> dict:
        """The json clip's ``clip`` record (source, window, frame rates used), else the
        window's own record (when json was not asked for)."""
        doc = self._decoded().json or {}
        return doc.get("clip") or self.window.record

    def _decoded(self) -> Sample:
        if self.sample is None:
            raise UsageError("this clip was not decoded (decode=False): read clip.blobs")
        return self.sample


def clip_words(doc: dict | None) -> list[dict]:
    """The words of a json clip (decoded), in order: what :attr:`Clip.words` gives, for a
    json clip read back from a file."""
    return [w for seg in (doc or {}).get(TRANSCRIPT) or [] for w in seg["words"]]


class ClipSelection:
    """The clips of a window selection, cut as they are iterated (in window order)."""

    def __init__(
        self,
        cat: CatalogDB,
        selection: WindowSelection,
        modalities: str | tuple[str, ...] = EXTENSIONS,
        features: str | tuple[str, ...] | None = None,
        source: str | None = None,
        settings: Settings | None = None,
        exact: bool = False,
        workers: int = 4,
        errors: str = "raise",
    ) -> None:
        if errors not in ("raise", "skip"):
            raise UsageError(f"errors={errors!r}: give 'raise' or 'skip'")
        self.cat = cat
        self.workers = max(1, workers)
        self.errors = errors
        self.selection = selection
        self.modalities = modalities
        self.features = parse_features(features)
        self.source = source or DEFAULT_SOURCE
        self.settings = settings or config.from_env()
        self.exact = exact
        self._store = None
        self._cache = SpanCache()  # the npz members of a recording, read once for its windows

    @property
    def windows(self) -> tuple[Window, ...]:
        return self.selection.windows

    @property
    def invalid(self) -> tuple[InvalidWindow, ...]:
        return self.selection.invalid

    def __len__(self) -> int:
        return len(self.selection)

    def _open(self):
        if self._store is None:
            self._store = open_store(self.source, self.settings)
        return self._store

    def tasks(self, windows: list[Window] | None = None) -> list[ClipTask]:
        """The clips to cut for ``windows`` (default: all of the selection's), in order."""
        windows = self.windows if windows is None else windows
        media = wanted_exts(parse_modalities(self.modalities)) != ("json",)
        store = self._open() if media else None
        return plan_clips(self.cat, store, windows, self.modalities, self.features,
                          self.exact)  # fmt: skip

    def plan(self, windows: list[Window]) -> list[list[ClipTask]]:
        """Each window's tasks, aligned with ``windows`` (queries the catalog: run it on the
        thread that owns the connection; :meth:`cut` may then run on a pool)."""
        by_window: dict[int, list[ClipTask]] = {}
        for task in self.tasks(windows):
            by_window.setdefault(id(task.window), []).append(task)
        return [by_window.get(id(w), []) for w in windows]

    def __iter__(self) -> Iterator[Clip]:
        windows = list(self.windows)
        # windows are cut on a pool (the store's reads are thread-safe), yielded in order,
        # at most 2 x workers ahead of the consumer
        with ThreadPoolExecutor(self.workers) as pool:
            ahead: deque = deque()
            for w, tasks in zip(windows, self.plan(windows)):
                ahead.append(pool.submit(self.cut, w, tasks))
                if len(ahead) >= 2 * self.workers:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def cut(self, w: Window, tasks: list[ClipTask], decoded: bool = True) -> Clip:
        """One window's clips, cut by range (thread-safe); ``decoded=False`` leaves them as
        bytes (``Clip.sample`` is None)."""
        blobs, covers, by_ext, requests, missing = {}, {}, {}, 0, {}
        for task in tasks:
            try:
                out = cut_item(self._store, task.item, self._cache)
            except SampleUnavailable as e:  # e.g. a placeholder's empty wav
                if self.errors == "raise":
                    raise
                missing[task.ext] = e.reason
                continue
            blobs[task.ext], covers[task.ext] = out.data, out.covers
            by_ext[task.ext], requests = out.fetched, requests + out.requests
        sample = decode(w.ref, blobs, {}) if decoded else None
        return Clip(w, blobs, sample, covers, sum(by_ext.values()), requests, by_ext, missing)


def clips(
    cat: CatalogDB,
    sql: str | None = None,
    *,
    selection: str | Path | None = None,
    pad: float = 0.0,
    before: float | None = None,
    after: float | None = None,
    shard: tuple[int, int] | None = None,
    modalities: str | tuple[str, ...] = EXTENSIONS,
    features: str | tuple[str, ...] | None = None,
    source: str | None = None,
    settings: Settings | None = None,
    exact: bool = False,
    workers: int = 4,
    errors: str = "raise",
) -> ClipSelection:
    """The clips of the windows ``sql`` (or a ``selection`` file) selects; see the module."""
    chosen = select_windows(cat, sql=sql, selection=selection, pad=pad, before=before,
                            after=after, shard=shard)  # fmt: skip
    return ClipSelection(
        cat, chosen, modalities, features, source, settings, exact, workers, errors
    )
