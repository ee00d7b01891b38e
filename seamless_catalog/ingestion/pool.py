"""Local units parsed in worker processes, each task written straight to a staging folder.

Parsing JSON is CPU work that Python threads cannot share, so units whose bytes are on this
machine (``Unit.local``: a tree's archive folders, local tars) are parsed by worker
processes. A worker parses a *task* (consecutive units, up to a few tens of MB), writes its
rows as one staging batch into a temp folder the parent made, and sends back only a
summary; the parent makes the batch whole (:meth:`Staging.adopt`). Rows never cross the
process boundary.

Workers are plain ``python -c`` subprocesses fed pickled tasks on stdin, not
``multiprocessing`` children: nothing re-imports the caller's ``__main__`` (a script without
an ``if __name__ == "__main__"`` guard works), nothing inherits DuckDB's threads, and a
worker leaves as soon as its parent is gone (stdin closes, or its parent id changes after a
``kill -9``), so a killed ingest leaves no orphans behind.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import CatalogError, RemoteError
from .sink import RowSink
from .staging import write_tables
from .units import Unit

TASK_BYTES = 32 << 20  # input bytes per task, at most (tasks are smaller when units are few)
MIN_BYTES = 16 << 20  # below this, starting processes costs more than it saves


@dataclass(frozen=True)
class TaskResult:
    folder: Path  # the staged rows, under a temp name
    failed: tuple[str, ...]  # keys of units whose transfer failed (their rows dropped)
    n_rows: int


def parse_unit(run_id: str, unit: Unit) -> tuple[RowSink, bool]:
    """The rows of one unit, and whether its transfer failed (then only an issue is kept)."""
    sink = RowSink(run_id)
    sink.begin(unit)
    try:
        unit.parse(sink)
    except RemoteError as e:  # rows of a half-read unit are dropped, never kept
        sink = RowSink(run_id)
        sink.begin(unit)
        sink.issue(unit.key, f"{e} (not read; the next run tries again)")
        return sink, True
    except (CatalogError, OSError) as e:
        sink.issue(unit.key, str(e))
    return sink, False


def parse_task(run_id: str, units: list[Unit], folder: Path) -> TaskResult:
    """Worker side: parse ``units`` and write their rows into ``folder`` (a new temp dir)."""
    task, failed = RowSink(run_id), []
    for unit in units:
        sink, bad = parse_unit(run_id, unit)
        task.absorb(sink)
        if bad:
            failed.append(unit.key)
    write_tables(folder, task)
    return TaskResult(folder, tuple(failed), task.n_rows)


def tasks(units: list[Unit], workers: int) -> list[list[Unit]]:
    """Consecutive units in groups of about ``TASK_BYTES``, at least four per worker."""
    total = sum(u.size for u in units)
    target = max(1, min(TASK_BYTES, total // (4 * workers)))
    out: list[list[Unit]] = [[]]
    size = 0
    for u in units:
        if out[-1] and size + u.size > target:
            out.append([])
            size = 0
        out[-1].append(u)
        size += u.size
    return out if out[-1] else []


def worth_it(units: list[Unit], workers: int) -> bool:
    return workers > 1 and len(units) > 1 and sum(u.size for u in units) >= MIN_BYTES


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(parent: int) -> None:
    """Worker main loop: (run_id, units, folder) in on stdin, a result (or an error) out."""
    _watch_parent(parent)
    tasks_in = sys.stdin.buffer
    results_out = os.fdopen(os.dup(1), "wb")  # stdout is the results stream: anything else
    os.dup2(2, 1)  # printed to fd 1 (by Python or a C library) goes to stderr instead
    sys.stdout = sys.stderr
    while True:
        try:
            run_id, units, folder = pickle.load(tasks_in)
        except EOFError:
            return
        try:
            reply: object = parse_task(run_id, units, folder)
        except OSError as e:  # e.g. a full disk: raised as it is by the parent
            reply = e
        except BaseException:  # reported to the parent, which raises it
            reply = traceback.format_exc()
        pickle.dump(reply, results_out, protocol=pickle.HIGHEST_PROTOCOL)
        results_out.flush()


class WorkerDied(CatalogError, RuntimeError):
    pass


class _Worker:
    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[2])
        code = (
            f"import sys; sys.path[:0] = {[package_parent]!r}; "
            "from seamless_catalog.ingestion.pool import serve; "
            f"serve({os.getpid()})"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def call(self, run_id: str, units: list[Unit], folder: Path) -> TaskResult:
        try:
            pickle.dump((run_id, units, folder), self.proc.stdin, pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
            reply = pickle.load(self.proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError) as e:
            raise WorkerDied(
                f"an ingest worker process died (exit status {self.proc.wait()}): run the "
                "ingest again, it resumes from the batches already staged"
            ) from e
        if isinstance(reply, OSError):
            raise reply
        if isinstance(reply, str):
            raise WorkerDied(f"an ingest worker failed:\n{reply}")
        return reply

    def close(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                f.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_DONE = object()


def run_tasks(
    run_id: str, groups: list[list[Unit]], workers: int, make_folder
) -> Iterator[tuple[list[Unit], TaskResult]]:
    """(units, result) of each task as it finishes; ``workers`` processes, one task each
    at a time. ``make_folder()`` gives the (created) folder a task writes into."""
    todo: queue.SimpleQueue[list[Unit]] = queue.SimpleQueue()
    for g in groups:
        todo.put(g)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def drive(worker: _Worker) -> None:
        try:
            while not stop.is_set():
                try:
                    group = todo.get_nowait()
                except queue.Empty:
                    return
                results.put((group, worker.call(run_id, group, make_folder())))
        except BaseException as e:
            results.put((None, e))
        finally:
            results.put(_DONE)

    pool = [_Worker() for _ in range(min(workers, len(groups)))]
    threads = [threading.Thread(target=drive, args=(w,), daemon=True) for w in pool]
    for t in threads:
        t.start()
    try:
        running = len(threads)
        while running:
            item = results.get()
            if item is _DONE:
                running -= 1
                continue
            group, result = item
            if isinstance(result, BaseException):
                raise result
            yield group, result
    finally:
        stop.set()
        for w in pool:
            if any(t.is_alive() for t in threads):
                w.proc.kill()
            w.close()
        for t in threads:
            t.join()
