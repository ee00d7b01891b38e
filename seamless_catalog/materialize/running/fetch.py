"""Carry out a plan: a bounded pool of workers, one request or merged output per task, and
a committer that syncs and renames the files they write."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import CatalogError, disk_errors
from ...remote import ObjectStore
from ...store.snapshots import write_atomic
from ..planning.items import CLIP, MERGE_NPZ, Item, Plan, Request
from . import merge
from .local import clear_stale_temps, sidecar
from .receipts import Outcome
from .write import Committer, Splitter, write_bytes

if TYPE_CHECKING:
    from .clipcut import SpanCache


class Progress:
    """Bytes and files done, shown with tqdm (files/bytes/ETA) when enabled."""

    def __init__(self, total_bytes: int, total_files: int, enabled: bool) -> None:
        self._lock = threading.Lock()
        self.bytes = 0
        self.files = 0
        self.total_files = total_files
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc="materialize"
            )

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            if self.bar is not None:
                self.bar.update(n)

    def add_file(self) -> None:
        with self._lock:
            self.files += 1
            if self.bar is not None:
                self.bar.set_postfix_str(f"{self.files}/{self.total_files} files", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _outcome(item: Item, status: str, n: int, sha: str | None, reason: str = "") -> Outcome:
    key = item.parts[0].key if len(item.parts) == 1 else None
    return Outcome(
        item.file_id, item.ext, item.name, item.dest, item.source, key, n, item.size, sha,
        status, reason,
    )  # fmt: skip


def _describe(e: BaseException) -> str:
    return str(e) or type(e).__name__


def run_request(
    store: ObjectStore, to: Path, req: Request, progress: Progress, committer: Committer
) -> Callable[[], list[Outcome]]:
    """One ranged read, split into its items' files, each committed by ``committer`` while
    the read goes on. Returns a function that gives the request's outcomes once ``committer``
    is done (an item is delivered when its commit succeeded)."""
    for item in req.items:
        clear_stale_temps(to, item)
    splitter = Splitter(to, req, committer, lambda item: progress.add_file(), progress.add_bytes)
    error = None
    try:
        store.copy_range(req.key, req.offset, req.length, splitter, req.known)
        splitter.finish()
    except Exception as e:  # a failed read or write fails the items not yet written
        splitter.abort()
        error = _describe(e)

    def outcomes() -> list[Outcome]:
        done = []
        for item, commit in splitter.commits:
            try:
                done.append(_outcome(item, "delivered", 0, commit.result()))
            except Exception as e:  # VerifyError, DiskError: that item fails, others stand
                done.append(_outcome(item, "failed", 0, None, _describe(e)))
        if error is not None:
            handed = {item.dest for item, _ in splitter.commits}
            left = [i for i in req.items if i.dest not in handed]
            done += [_outcome(i, "failed", 0, None, error) for i in left]
        _share_bytes(done, req, splitter.received)
        return done

    return outcomes


def _share_bytes(outcomes: list[Outcome], req: Request, received: int) -> None:
    """Attribute the bytes of one read to its items (headers go to the next member)."""
    pos = req.offset
    left = received
    by_path = {o.path: o for o in outcomes}
    for item in req.items:
        part = item.parts[0]
        end = part.offset + part.length
        n = max(0, min(end - pos, left))
        left -= n
        pos = end
        if item.dest in by_path:
            by_path[item.dest].bytes = n


def merged_bytes(
    store: ObjectStore,
    item: Item,
    on_bytes: Callable[[int], None] = lambda n: None,
    fetched: list[int] | None = None,
) -> bytes:
    """Fetch every part of a merged output and build it (npz or json) in memory;
    ``fetched[0]`` counts the bytes read, also when this raises."""
    fetched = fetched if fetched is not None else [0]
    if item.kind == CLIP:  # cut by range: only the window's bytes are read
        from .clipcut import cut_item

        out = cut_item(store, item)
        fetched[0] += out.fetched
        on_bytes(out.fetched)
        return out.data
    blobs: dict[str, bytes] = {}
    for part in item.parts:
        buf = io.BytesIO()
        fetched[0] += store.copy_range(part.key, part.offset, part.length, buf, part.whole_object())
        on_bytes(part.length)
        blobs[part.name] = buf.getvalue()
    for key in item.absent:  # as in the tars: an absent transcript is an empty list
        if "/metadata/transcript/" in key:
            blobs["metadata:transcript"] = b""
    if item.kind == MERGE_NPZ:
        return merge.npz_bytes(blobs)
    return merge.json_bytes(item.file_id, blobs)


def run_merged(store: ObjectStore, to: Path, item: Item, progress: Progress) -> list[Outcome]:
    """Fetch every part of a merged output, build it, write it atomically with its facts."""
    clear_stale_temps(to, item)
    fetched = [0]
    try:
        data = merged_bytes(store, item, progress.add_bytes, fetched)
    except Exception as e:
        return [_outcome(item, "failed", fetched[0], None, _describe(e))]
    return [_deliver(to, item, data, fetched[0], progress)]


def run_clips(
    store: ObjectStore, to: Path, items: list[Item], progress: Progress, cache: SpanCache
) -> list[Outcome]:
    """Cut the clips of windows of one source together (clipcut.cut_items: one read of its
    header, moov or directory, shared ranges) and write each as :func:`run_merged` does."""
    from .clipcut import cut_items

    for item in items:
        clear_stale_temps(to, item)
    try:
        outs = cut_items(store, items, cache)
    except Exception as e:  # a failed read fails the group's clips
        return [_outcome(item, "failed", 0, None, _describe(e)) for item in items]
    done = []
    for item, out in zip(items, outs):
        if isinstance(out, Exception):
            done.append(_outcome(item, "failed", 0, None, _describe(out)))
            continue
        progress.add_bytes(out.fetched)
        done.append(_deliver(to, item, out.data, out.fetched, progress))
    return done


def _deliver(to: Path, item: Item, data: bytes, got: int, progress: Progress) -> Outcome:
    """Write a built output atomically, then its facts (size, sha256, fingerprint)."""
    try:
        sha = write_bytes(to, item, data)
    except Exception as e:
        return _outcome(item, "failed", got, None, _describe(e))
    item.size = len(data)
    facts = sidecar(to, item)
    record = {"size": len(data), "sha256": sha, "fingerprint": item.fingerprint}
    try:
        with disk_errors(facts.parent):
            facts.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(facts, json.dumps(record).encode())
    except CatalogError as e:  # the file is whole; without its facts the next run rebuilds it
        return _outcome(item, "failed", got, None, _describe(e))
    progress.add_file()
    reason = ("absent at the source: " + ", ".join(item.absent)) if item.absent else ""
    return _outcome(item, "delivered", got, sha, reason)


def execute(
    store: ObjectStore, to: Path, plan: Plan, workers: int, progress: Progress
) -> list[Outcome]:
    """Run every request and merged output of ``plan`` on ``workers`` threads, the commits
    of the files they write on a :class:`Committer` beside them. Returns (or raises) once
    every commit is done."""
    from .clipcut import SpanCache, groups

    workers = max(1, workers)
    with Committer(workers, 2 * workers) as committer, ThreadPoolExecutor(workers) as pool:
        reads = [pool.submit(run_request, store, to, r, progress, committer)
                 for r in plan.requests]  # fmt: skip
        merged = [pool.submit(run_merged, store, to, i, progress)
                  for i in plan.merged if i.kind != CLIP]  # fmt: skip
        cache = SpanCache()  # the windows of one source: grouped, and their metadata shared
        clips = [pool.submit(run_clips, store, to, g, progress, cache)
                 for g in groups([i for i in plan.merged if i.kind == CLIP])]  # fmt: skip
    # both pools are drained: every file is committed or failed
    outcomes = [o for f in reads for o in f.result()()]
    return outcomes + [o for f in merged + clips for o in f.result()]
