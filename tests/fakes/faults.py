"""The fault framework the test servers share: armed faults and request counters.

``Faults`` is a thread-safe switchboard: each method arms one fault (a status code, a stall, a
reset or short body, an ignored or wrong range, an expired redirect) for the next requests that
match it. ``Stats`` records every request (``RequestRecord``) with its status and body bytes.
The HTTP plumbing (``tests.fakes.http``) consults both on every request.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """One armed fault: applies to the next ``remaining`` matching requests."""

    action: str
    remaining: int
    path: str | None = None
    kind: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, kind: str, subjects: tuple[str, ...]) -> bool:
        return (self.kind is None or self.kind == kind) and (
            self.path is None or self.path in subjects
        )


# The point in a response where each fault acts: before anything is sent, when a resolve answers
# with a redirect, or while a file body is being sent.
_STAGE = {
    "status": "request",
    "stall": "request",
    "expire_redirects": "redirect",
    "reset_after": "body",
    "short_body": "body",
    "ignore_range": "body",
    "wrong_content_range": "body",
    "stall_body": "body",
}


class Faults:
    """Thread-safe switchboard of faults. Each method arms one fault and returns it.

    Every fault hits the next ``times`` requests that match ``kind`` (``"api"``, ``"resolve"``,
    ``"cdn"``) and ``path`` (a repo file path such as ``"improvised/dev/0000/0000.tar"``, matching
    both its resolve and CDN requests, or an exact URL path such as ``"/api/datasets/a/b"``).
    Body faults only count requests that send a file body (GET of a file, not HEAD or redirects).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def _arm(self, action: str, times: int, path: str | None, kind: str | None, **params) -> Fault:
        fault = Fault(action, times, path, kind, params)
        with self._lock:
            self._armed.append(fault)
        return fault

    def status(
        self,
        code: int,
        *,
        retry_after: int | None = None,
        times: int = 1,
        path: str | None = None,
        kind: str | None = None,
    ) -> Fault:
        """Answer ``code`` (e.g. 429, 500, 503) with a JSON error, and ``Retry-After`` if given."""
        return self._arm("status", times, path, kind, code=code, retry_after=retry_after)

    def stall(
        self,
        seconds: float,
        *,
        after_bytes: int | None = None,
        times: int = 1,
        path: str | None = None,
        kind: str | None = None,
    ) -> Fault:
        """Wait ``seconds`` before answering, or after ``after_bytes`` body bytes if given."""
        action = "stall" if after_bytes is None else "stall_body"
        return self._arm(action, times, path, kind, seconds=seconds, after_bytes=after_bytes)

    def reset_after(
        self, k_bytes: int, *, times: int = 1, path: str | None = None, kind: str | None = None
    ) -> Fault:
        """Send full headers and ``k_bytes`` of body, then reset the TCP connection (RST)."""
        return self._arm("reset_after", times, path, kind, k_bytes=k_bytes)

    def short_body(
        self, missing: int = 1, *, times: int = 1, path: str | None = None, kind: str | None = None
    ) -> Fault:
        """Announce the full ``Content-Length``, send ``missing`` bytes fewer, then close (FIN)."""
        return self._arm("short_body", times, path, kind, missing=missing)

    def ignore_range(
        self, *, times: int = 1, path: str | None = None, kind: str | None = None
    ) -> Fault:
        """Answer a ranged GET with ``200`` and the whole file, as a Range-ignoring proxy does."""
        return self._arm("ignore_range", times, path, kind)

    def wrong_content_range(
        self, shift: int = 1, *, times: int = 1, path: str | None = None, kind: str | None = None
    ) -> Fault:
        """Answer ``206`` for the range moved ``shift`` bytes on (``Content-Range`` tells so)."""
        return self._arm("wrong_content_range", times, path, kind, shift=shift)

    def expire_redirects(
        self, *, times: int = 1, path: str | None = None, kind: str | None = "resolve"
    ) -> Fault:
        """Issue CDN redirects whose ``Expires=`` is already past: following them gives ``403``."""
        return self._arm("expire_redirects", times, path, kind)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._armed if f.remaining > 0]

    def take(self, stage: str, kind: str, subjects: tuple[str, ...]) -> list[Fault]:
        """Consume one use of every armed fault of ``stage`` matching this request."""
        hits = []
        with self._lock:
            for fault in self._armed:
                if _STAGE[fault.action] == stage and fault.matches(kind, subjects):
                    fault.remaining -= 1
                    hits.append(fault)
            self._armed = [f for f in self._armed if f.remaining > 0]
        return hits


@dataclass
class RequestRecord:
    """What one request asked for and what it got."""

    method: str
    kind: str  # "api", "resolve", "cdn" or "other"
    url_path: str
    file: str | None
    range: str | None
    authorized: bool
    status: int = 0
    body_bytes: int = 0


class Stats:
    """Request and byte counters, shared by both servers and safe across handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[RequestRecord] = []

    def reset(self) -> None:
        with self._lock:
            self.records = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.records)

    @property
    def total(self) -> int:
        return len(self.snapshot())

    @property
    def by_kind(self) -> Counter[str]:
        return Counter(r.kind for r in self.snapshot())

    @property
    def by_path(self) -> Counter[str]:
        """Requests per URL path (unquoted, without query)."""
        return Counter(r.url_path for r in self.snapshot())

    @property
    def by_file(self) -> Counter[str]:
        """Resolve and CDN requests per repo file path."""
        return Counter(r.file for r in self.snapshot() if r.file is not None)

    @property
    def bytes_sent(self) -> int:
        """Body bytes written to clients, all requests together."""
        return sum(r.body_bytes for r in self.snapshot())

    def bytes_by_kind(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for r in self.snapshot():
            out[r.kind] += r.body_bytes
        return out
