"""Iterate over a selection's samples by byte-range reads: ordered, sharded, prefetched.

Order: by file_id (pairs: by interaction_key, then file_id), or with ``shuffle`` the seeded
order of :mod:`~seamless_catalog.select.order` (the one ``sample`` uses), so one seed gives
one order on every machine. Ranks take every ``world_size``-th unit of that order (a unit
is a file, or an interaction with ``pairs_together``): parts are disjoint, cover the
selection and differ in size by at most one unit. DataLoader workers split a rank's part
the same way, per sample. ``start`` skips the samples of this rank's order already
consumed; ``position`` tells where a stream is, to pass back as ``start``.

At most ``prefetch`` samples are in flight on a thread pool; they are yielded in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import groupby
from pathlib import Path

from ..config import Settings
from ..errors import CatalogError, UsageError
from ..layout import EXTENSIONS, FileRef
from ..select.order import seeded
from ..select.selection import select
from ..store.catalogdb import CatalogDB
from .decode import Sample, decode
from .raw import RawSample, SampleReader

PLAN_CHUNK = 256  # files planned at once (the per-file layout costs one HEAD per object)


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
    if world_size < 1 or not 0 <= rank < world_size:
        raise UsageError(f"rank {rank} of world_size {world_size}: need 0 <= rank < world_size")
    if pairs_together:
        ordered = sorted(rows, key=lambda r: (r.interaction_key, r.file_id))
        units = [list(g) for _, g in groupby(ordered, key=lambda r: r.interaction_key)]
        key = [u[0].interaction_key for u in units]
    else:
        units = [[r] for r in sorted(rows, key=lambda r: r.file_id)]
        key = [u[0].file_id for u in units]
    if shuffle:
        units = [units[i] for i in seeded(range(len(units)), seed, key=key.__getitem__)]
    return [r for unit in units[rank::world_size] for r in unit]


class SampleStream:
    """An iterable of :class:`Sample` (or :class:`RawSample` with ``decode=False``)."""

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
    ) -> None:
        if prefetch < 1 or start < 0:
            raise UsageError(f"prefetch {prefetch} and start {start}: need >= 1 and >= 0")
        if errors not in ("raise", "skip"):
            raise UsageError(f"errors={errors!r}: choose 'raise' or 'skip'")
        self.reader = SampleReader(cat, modalities, source, media, settings, read_video=not decode)
        chosen = select(cat, sql=sql)
        self.order = order_rows(
            list(chosen.files), shuffle=shuffle, seed=seed, rank=rank,
            world_size=world_size, pairs_together=pairs_together,
        )  # fmt: skip
        self.start = start
        self.worker_id, self.num_workers = worker
        self.prefetch = prefetch
        self.errors = errors
        self.decode = decode
        self.position = start  # samples of this rank's order consumed (or skipped)
        self.skipped: list[tuple[str, str]] = []  # (file_id, reason) with errors="skip"

    def __len__(self) -> int:
        return len(self._todo())

    def _todo(self) -> list[tuple[int, FileRef]]:
        rest = list(enumerate(self.order))[self.start :]
        return rest[self.worker_id :: self.num_workers]

    def _fetch(self, row: FileRef, fp) -> RawSample | Sample:
        raw = self.reader.fetch(row, fp)
        if not self.decode:
            return raw
        s = decode(raw.row, raw.blobs, raw.paths)
        s.sources = raw.sources
        return s

    def __iter__(self) -> Iterator[Sample | RawSample]:
        todo = self._todo()
        with ThreadPoolExecutor(self.prefetch, thread_name_prefix="seamless-stream") as pool:
            window: deque[tuple[int, FileRef, Future]] = deque()
            for i in range(0, len(todo), PLAN_CHUNK):
                chunk = todo[i : i + PLAN_CHUNK]
                plans = self.reader.plan([r for _, r in chunk])
                for pos, row in chunk:
                    while len(window) >= self.prefetch:
                        yield from self._settle(window.popleft())
                    window.append((pos, row, pool.submit(self._fetch, row, plans[row.file_id])))
            while window:
                yield from self._settle(window.popleft())

    def _settle(self, entry: tuple[int, FileRef, Future]) -> Iterator[Sample | RawSample]:
        pos, row, future = entry
        try:
            sample = future.result()
        except CatalogError as e:
            if self.errors == "raise":
                raise
            self.skipped.append((row.file_id, str(e)))
            self.position = pos + 1
            return
        self.position = pos + 1
        yield sample
