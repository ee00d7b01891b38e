"""One HTTP client for ranged reads: pooled, retried, resumed and checked.

:class:`HttpClient` wraps a bounded ``urllib3`` pool. ``request`` retries connection
errors, timeouts, 429 (waiting at least what ``Retry-After``/``RateLimit`` ask) and 5xx
with capped exponential backoff and full jitter, within a per-call limit and a
client-wide retry budget. ``fetch`` reads a byte range into a callback and guarantees
the bytes are the ones asked for: a body cut short (reset, FIN, timeout) is resumed
from where it stopped, a ``200`` to a ranged GET is sliced, a ``Content-Range`` other
than the one asked for is refused, and a change of ``ETag`` between requests raises
:class:`~seamless_catalog.errors.ObjectChanged` instead of splicing two versions.

:class:`HttpObject` is a :class:`~seamless_catalog.formats.readers.RangeReader` over one
object, for stores whose objects are plain URLs (the HTTPS copy, the Hub's CDN).
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from ..errors import (
    ObjectChanged,
    RangeNotSupported,
    RemoteError,
    RemoteIntegrityError,
    RemoteUnavailable,
    RemoteUntrusted,
)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_SLICE_SKIP = 64 * 1024 * 1024  # a Range-ignoring server: discard at most this much
MAX_WHOLE = 64 * 1024 * 1024  # ...and an object up to this size is read whole, once
CHUNK = 256 * 1024


def sleep(seconds: float) -> None:
    """Backoff waits go through here (tests replace it)."""
    time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries per request (or per range, counting resumes without progress)
    base_s: float = 0.5
    cap_s: float = 30.0  # longest backoff between two tries
    max_wait_s: float = 300.0  # a server asking to wait longer than this is an error
    budget: int = 50  # retries allowed per client, plus...
    budget_ratio: float = 0.1  # ...this share of its requests

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


class Traffic:
    """Requests, body bytes and retries; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.retries = 0

    def add(self, requests: int = 0, nbytes: int = 0, retries: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.bytes += nbytes
            self.retries += retries


TOTAL = Traffic()  # every client in the process together (for progress bars)


class HttpStatusError(RemoteError):
    """A final answer other than success (403, 404, 416...); ``status`` says which, and
    ``error_code``/``error_message`` what the Hub's ``X-Error-Code``/``X-Error-Message`` said."""

    def __init__(self, url: str, status: int, body: bytes = b"", headers=None) -> None:
        text = body[:200].decode("utf-8", "replace").strip()
        super().__init__(_redact(url), f"HTTP {status}" + (f" ({text})" if text else ""))
        self.status = status
        self.error_code = (headers or {}).get("X-Error-Code")
        self.error_message = (headers or {}).get("X-Error-Message")


class _Transient(Exception):
    """A failure worth another try; ``wait`` is the least the server asked us to wait."""

    def __init__(self, reason: str, wait: float = 0.0, got: int = 0) -> None:
        super().__init__(reason)
        self.wait = wait
        self.got = got  # body bytes delivered before the failure


class Target(Protocol):
    """Where an object is fetched from; a signed URL may be refreshed once it expires."""

    def location(self) -> tuple[str, dict[str, str]]:
        """URL and extra headers for the next request."""
        ...

    def refresh(self) -> bool:
        """Called on a 401/403; True when a new location is worth a try."""
        ...


@dataclass
class FixedTarget:
    url: str
    headers: dict[str, str] | None = None

    def location(self) -> tuple[str, dict[str, str]]:
        return self.url, dict(self.headers or {})

    def refresh(self) -> bool:
        return False


class HttpClient:
    def __init__(
        self,
        *,
        pool_size: int = 16,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.pool = urllib3.PoolManager(
            num_pools=8, maxsize=pool_size, block=True, retries=False, timeout=None
        )
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.policy = policy or RetryPolicy()
        self.traffic = Traffic()
        self._lock = threading.Lock()

    # -- accounting ------------------------------------------------------------------------
    def _count(self, requests: int = 0, nbytes: int = 0, retries: int = 0) -> None:
        self.traffic.add(requests, nbytes, retries)
        TOTAL.add(requests, nbytes, retries)

    def _retry_wait(self, url: str, attempt: int, err: _Transient) -> None:
        """Sleep before try ``attempt + 1`` or raise when out of tries or budget."""
        p = self.policy
        t = self.traffic
        if attempt + 1 >= p.attempts:
            raise RemoteUnavailable(_redact(url), f"gave up after {attempt + 1} tries: {err}")
        with self._lock:
            if t.retries >= p.budget + p.budget_ratio * t.requests:
                raise RemoteUnavailable(
                    _redact(url), f"retry budget of this run spent ({t.retries} retries): {err}"
                )
        if err.wait > p.max_wait_s:
            raise RemoteUnavailable(
                _redact(url), f"server asks to wait {err.wait:.0f} s: {err}", "try again later"
            )
        self._count(retries=1)
        sleep(max(err.wait, p.backoff(attempt)))

    # -- one request, retried until it has a final status ----------------------------------
    def _send(self, method: str, url: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        self._count(requests=1)
        try:
            resp = self.pool.request(
                method,
                url,
                headers={"Accept-Encoding": "identity", **headers},
                preload_content=False,
                decode_content=False,
                redirect=False,
                retries=False,
                timeout=self.timeout,
            )
        except (Urllib3Error, OSError) as e:
            if "CERTIFICATE_VERIFY_FAILED" in str(e):  # will fail the same way every time
                raise RemoteUntrusted(_redact(url), "certificate verify failed") from None
            raise _Transient(f"{type(e).__name__}: {e}") from None
        if resp.status in RETRY_STATUS:
            wait = retry_after(resp.headers) if resp.status in (429, 503) else 0.0
            _discard(resp)
            raise _Transient(f"HTTP {resp.status}", wait)
        return resp

    def request(
        self, method: str, target: Target, headers: dict[str, str] | None = None
    ) -> urllib3.BaseHTTPResponse:
        """A response with status < 400 (body unread); 4xx raise :class:`HttpStatusError`.

        5xx, 429, resets and timeouts are retried; a 401/403 asks ``target`` to refresh once.
        """
        refreshed = False
        attempt = 0
        while True:
            url, extra = target.location()
            try:
                resp = self._send(method, url, {**extra, **(headers or {})})
            except _Transient as e:
                self._retry_wait(url, attempt, e)
                attempt += 1
                continue
            if resp.status < 400:
                return resp
            body = _discard(resp, keep=True)
            if resp.status in (401, 403) and not refreshed and target.refresh():
                refreshed = True
                continue
            raise HttpStatusError(url, resp.status, body, resp.headers)

    def head(self, target: Target) -> urllib3.BaseHTTPResponse:
        resp = self.request("HEAD", target)
        _discard(resp)
        return resp

    # -- a byte range, resumed and checked -------------------------------------------------
    def fetch(
        self,
        target: Target,
        start: int,
        length: int,
        write: Callable[[bytes], object],
        *,
        size: int | None = None,
        etag: str | None = None,
        whole: Callable[[bytes], object] | None = None,
    ) -> str | None:
        """Write bytes ``[start, start + length)`` to ``write``; returns the ETag seen.

        ``size`` is the object's length when known; ``etag`` its version (the first response's
        ETag is adopted otherwise), so the parts of one range always come from one version.
        When the server ignores Range and sends a whole object of at most ``MAX_WHOLE`` bytes,
        the object is read to its end and handed to ``whole`` (the caller keeps it: a server
        that ignores Range once ignores it for every member).
        """
        done = 0
        failures = 0  # consecutive tries that delivered nothing
        while done < length:
            lo, hi = start + done, start + length - 1
            resp = self.request("GET", target, {"Range": f"bytes={lo}-{hi}"})
            url = target.location()[0]
            try:
                got_etag = _etag(resp.headers)
                if etag and got_etag and got_etag != etag:
                    raise ObjectChanged(_redact(url), etag, got_etag)
                etag = etag or got_etag
                if resp.status == 200 and whole is not None and size and size <= MAX_WHOLE:
                    data = self._whole(resp, size)
                    whole(data)
                    write(data[lo : hi + 1])
                    return etag
                skip = self._check_range(url, resp, lo, hi, size)
                got = self._stream(resp, skip, hi - lo + 1, write)
                if got < hi - lo + 1:  # the server closed early without an error
                    raise _Transient(f"short body: {got} of {hi - lo + 1} bytes", got=got)
            except _Transient as e:
                done += e.got
                failures = 0 if e.got else failures
                self._retry_wait(url, failures, e)
                failures += 1
                continue
            finally:
                _discard(resp)
            done += got
        return etag

    def get(self, target: Target) -> bytes:
        """A whole object in one GET; a body cut short is completed by ranged GETs, pinned to
        the first response's ETag. 4xx raise :class:`HttpStatusError` (403/404: absent)."""
        failures = 0
        while True:
            resp = self.request("GET", target)
            url = target.location()[0]
            declared = resp.headers.get("Content-Length", "")
            size = int(declared) if declared.isdigit() else None
            etag = _etag(resp.headers)
            buf = bytearray()
            try:
                self._stream(resp, 0, size if size is not None else 1 << 62, buf.extend)
            except _Transient as e:
                if size is None:  # no length to resume against: start again
                    self._retry_wait(url, failures, e)
                    failures += 1
                    continue
            finally:
                _discard(resp)
            if size is not None and len(buf) < size:
                self.fetch(target, len(buf), size - len(buf), buf.extend, size=size, etag=etag)
            return bytes(buf)

    def _check_range(
        self, url: str, resp: urllib3.BaseHTTPResponse, lo: int, hi: int, size: int | None
    ) -> int:
        """Bytes to skip at the start of the body (non-zero when Range was ignored)."""
        if resp.status == 206:
            m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.headers.get("Content-Range", ""))
            total = m and m.group(3)
            if (
                not m
                or (int(m.group(1)), int(m.group(2))) != (lo, hi)
                or (size is not None and total != "*" and int(total) != size)
            ):
                raise _Transient(
                    f"asked bytes {lo}-{hi}, got Content-Range "
                    f"{resp.headers.get('Content-Range')!r}"
                )
            return 0
        if resp.status == 200:  # Range ignored: the whole object follows
            declared = resp.headers.get("Content-Length")
            if size is not None and declared is not None and int(declared) != size:
                raise _Transient(f"Range ignored, {declared} bytes sent of a {size}-byte object")
            if lo > MAX_SLICE_SKIP:
                raise RangeNotSupported(
                    _redact(url), f"it ignores Range: 200 with the whole object to bytes={lo}-{hi}"
                )
            return lo
        raise RemoteIntegrityError(_redact(url), f"unexpected HTTP {resp.status} to a ranged GET")

    def _whole(self, resp: urllib3.BaseHTTPResponse, size: int) -> bytes:
        """The whole body of a 200 to a ranged GET, checked against the known size."""
        declared = resp.headers.get("Content-Length")
        if declared is not None and int(declared) != size:
            raise _Transient(f"Range ignored, {declared} bytes sent of a {size}-byte object")
        buf = bytearray()
        try:
            got = self._stream(resp, 0, size, buf.extend)
        except _Transient as e:
            raise _Transient(str(e)) from None  # nothing was written: resume from the start
        if got < size:
            raise _Transient(f"Range ignored and the body ended after {got} of {size} bytes")
        return bytes(buf)

    def _stream(
        self,
        resp: urllib3.BaseHTTPResponse,
        skip: int,
        want: int,
        write: Callable[[bytes], object],
    ) -> int:
        got = 0
        try:
            while got < want:
                chunk = resp.read1(min(CHUNK, want - got + skip))  # what arrived, kept on errors
                if not chunk:
                    break
                self._count(nbytes=len(chunk))
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip = chunk[cut:], skip - cut
                chunk = chunk[: want - got]
                if chunk:
                    write(chunk)
                    got += len(chunk)
        except (Urllib3Error, OSError) as e:
            raise _Transient(f"body broke after {got} bytes: {e}", got=got) from None
        if skip:
            raise _Transient("Range ignored and the body ended early")
        return got


def _discard(resp: urllib3.BaseHTTPResponse, keep: bool = False) -> bytes:
    """Finish with a response: a short rest is drained so the connection is reused, a long
    one closes it. The start of the body is returned when ``keep`` (error messages)."""
    body = b""
    try:
        if keep:
            body = resp.read(4096)
        remaining = getattr(resp, "length_remaining", None)
        if remaining is not None and remaining <= 64 * 1024:
            resp.drain_conn()
        else:
            resp.close()
    except (Urllib3Error, OSError):
        resp.close()
    finally:
        resp.release_conn()
    return body


def _etag(headers) -> str | None:
    value = headers.get("ETag")
    if not value:
        return None
    return value.removeprefix("W/").strip('"')


def retry_after(headers) -> float:
    """Seconds the server asks to wait: ``Retry-After`` (seconds or date), ``RateLimit-Reset``
    or the reset (``t=``/``reset=``) of a ``RateLimit`` header; 0 when none."""
    value = headers.get("Retry-After")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    reset = headers.get("RateLimit-Reset") or headers.get("X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        n = float(reset)
        return n if n < 10**9 else max(0.0, n - time.time())  # delta, or an epoch time
    m = re.search(r"(?:\bt|reset)=(\d+)", headers.get("RateLimit", ""))
    return float(m.group(1)) if m else 0.0


def _redact(url: str) -> str:
    """A URL without its query (signed URLs carry credentials there)."""
    return url.split("?", 1)[0]


class HttpObject:
    """Random access to one remote object of known size: one request per read.

    The first response's ETag (or the one given) pins the version: later reads that see
    another raise :class:`~seamless_catalog.errors.ObjectChanged`. When the server ignores
    Range, a small object is read whole once and later reads are served from it.
    """

    def __init__(
        self, client: HttpClient, target: Target, size: int, etag: str | None = None
    ) -> None:
        self.client = client
        self.target = target
        self.size = size
        self.etag = etag
        self._whole: bytes | None = None

    def _keep(self, data: bytes) -> None:
        self._whole = data

    def _read(self, offset: int, n: int, write: Callable[[bytes], object]) -> None:
        if self._whole is not None:
            write(self._whole[offset : offset + n])
            return
        self.etag = self.client.fetch(
            self.target, offset, n, write, size=self.size, etag=self.etag, whole=self._keep
        )

    def read_at(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0:
            raise ValueError(f"read_at needs offset >= 0 and n >= 0, got {offset}, {n}")
        n = max(0, min(n, self.size - offset))
        if not n:
            return b""
        buf = bytearray()
        self._read(offset, n, buf.extend)
        return bytes(buf)

    def copy_range(self, offset: int, length: int, out: BinaryIO) -> int:
        if offset + length > self.size:
            raise RemoteIntegrityError(
                _redact(self.target.location()[0]),
                f"bytes {offset}-{offset + length - 1} asked of a {self.size}-byte object",
            )
        written = 0

        def write(chunk: bytes) -> None:
            nonlocal written
            out.write(chunk)
            written += len(chunk)

        self._read(offset, length, write)
        return written

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"HttpObject({_redact(self.target.location()[0])!r}, size={self.size})"
