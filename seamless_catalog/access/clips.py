"""Clips in Python, without writing files: the windows of a query, each cut by range.

``Catalog.clips(sql, ...)`` selects windows (``select/windows.py``: any result with
``file_id`` or ``interaction_key`` plus ``start_s``/``end_s``; ``pad``/``before``/``after``
widen them), plans each modality from the same plan as a whole file (``plan_clips`` over
``plan_files``), and cuts them in batches of windows as they are iterated: the source's
bytes of the windows only, the windows of one source in a batch cut together (one read of
its header, moov or npz directory; see ``materialize/running/clipcut.py``). Each :class:`Clip` holds
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
from ..materialize.running.clipcut import SpanCache, cut_items, groups
from ..remote import open_store
from ..select.windows import InvalidWindow, Window, WindowSelection, select_windows
from ..store.catalogdb import CatalogDB
from .decode import Sample, decode

BATCH_PER_WORKER = 4  # windows cut together per worker (their clips are held until yielded)


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
        self._cache = SpanCache()  # headers, moovs, directories, npz prefixes: read once

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
        planned = dict(zip(map(id, windows), self.plan(windows)))
        # windows go in batches; in a batch the clips of one source are cut together on the
        # pool (one read of its header/moov/directory, shared ranges, one inflate), and the
        # next batch is cut while this one is consumed
        size = BATCH_PER_WORKER * self.workers
        batches = [windows[i : i + size] for i in range(0, len(windows), size)]
        try:
            with ThreadPoolExecutor(self.workers) as pool:
                ahead: deque = deque()
                for batch in batches:
                    ahead.append(self._submit(pool, batch, planned))
                    if len(ahead) >= 2:
                        yield from self._collect(*ahead.popleft())
                while ahead:
                    yield from self._collect(*ahead.popleft())
        finally:  # what was read for this pass is not kept beyond it
            self._cache = SpanCache()

    def cut(self, w: Window, tasks: list[ClipTask], decoded: bool = True) -> Clip:
        """One window's clips, cut by range (thread-safe: ``stream`` cuts on its pool);
        ``decoded=False`` leaves them as bytes (``Clip.sample`` is None)."""
        items = [t.item for t in tasks]
        done = {id(item): out for g in groups(items)
                for item, out in zip(g, cut_items(self._store, g, self._cache))}  # fmt: skip
        return self._clip(w, [(t, done[id(t.item)]) for t in tasks], decoded)

    def _submit(self, pool: ThreadPoolExecutor, batch, planned) -> tuple:
        tasks = [t for w in batch for t in planned[id(w)]]
        futures = [(g, pool.submit(cut_items, self._store, g, self._cache))
                   for g in groups([t.item for t in tasks])]  # fmt: skip
        return batch, tasks, futures

    def _collect(self, batch, tasks: list[ClipTask], futures) -> Iterator[Clip]:
        done = {id(item): out for g, f in futures for item, out in zip(g, f.result())}
        for w in batch:
            yield self._clip(w, [(t, done[id(t.item)]) for t in tasks if t.window is w])

    def _clip(self, w: Window, cut: list, decoded: bool = True) -> Clip:
        blobs, covers, by_ext, requests, missing = {}, {}, {}, 0, {}
        for task, out in cut:
            if isinstance(out, SampleUnavailable):  # e.g. a placeholder's empty wav
                if self.errors == "raise":
                    raise out
                missing[task.ext] = out.reason
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
