"""A small HuggingFace-Hub-compatible HTTP server for tests, plus the pytest fixtures that use it.

The real ``huggingface_hub`` client (``HfApi``, ``hf_hub_download``, ``HfFileSystem``,
``get_hf_file_metadata``) talks to it over 127.0.0.1. A local folder is the dataset repo: every
file under ``root`` is a repo file. Two stdlib ``ThreadingHTTPServer`` instances run:

* the *Hub* (``.endpoint``): repo info, paginated tree, paths-info and ``/resolve``;
* the *CDN* (``.cdn_endpoint``, another port, hence another origin): LFS files are answered by
  ``/resolve`` with a ``302`` to a signed URL there (``?Expires=...&Signature=...``), like the Hub.

What ``huggingface_hub`` 2.4.0 reads (from its source):

* ``GET /api/datasets/{repo_id}[/revision/{rev}]`` -> ``DatasetInfo``: ``id``, ``sha``, ``siblings``
  (``rfilename``; ``size``/``blobId``/``lfs{size,sha256,pointerSize}`` with ``?blobs=true``).
* ``GET /api/datasets/{repo_id}/tree/{rev}[/{path}]?recursive=&expand=``: a JSON list of
  ``{type, oid, size, path[, lfs{oid,size,pointerSize}][, lastCommit]}``; the next page is the
  ``Link: <url>; rel="next"`` header (absolute URL, cursor-based).
* ``POST /api/datasets/{repo_id}/paths-info/{rev}``: form body ``paths=...&paths=...&expand=...``.
* ``HEAD|GET /datasets/{repo_id}/resolve/{rev}/{path}``: ``X-Repo-Commit`` (required), ``ETag`` or
  ``X-Linked-Etag`` (required), ``X-Linked-Size`` or ``Content-Length``; a cross-origin redirect is
  *not* followed by the HEAD (metadata must sit on the 302 itself) and auth is not sent to it.
* errors: ``X-Error-Code`` ``RepoNotFound``/``RevisionNotFound``/``EntryNotFound``, JSON ``error``.

Faults (``server.faults``) and counters (``server.stats``) let tests provoke and observe failures.
``server.upload`` (``tests/hub_upload.py``) adds the write side: create repo, preupload, LFS and
commit, so that ``create_repo`` and ``upload_folder`` work too.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import hmac
import importlib
import io
import json
import os
import random
import socket
import struct
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

REPO_DATE = "2025-06-27T12:00:00.000Z"
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
CHUNK = 64 * 1024


# --------------------------------------------------------------------------- repo snapshot


@dataclass(frozen=True)
class RepoFile:
    """One file of the served repo, with the ids the Hub would report for it."""

    path: str
    disk_path: Path
    size: int
    oid: str  # git blob sha1 (of the LFS pointer for LFS files)
    sha256: str | None = None  # set for LFS files only
    pointer_size: int | None = None

    @property
    def is_lfs(self) -> bool:
        return self.sha256 is not None

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` of the file on disk."""
        with self.disk_path.open("rb") as fh:
            fh.seek(start)
            return fh.read((self.size if end is None else end) - start)


def _git_oid(kind: str, payload: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(payload)}\0".encode() + payload).hexdigest()


def _file_digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
    digest = hashlib.new(algorithm, prefix)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RepoSnapshot:
    """Immutable view of ``root``: files, folders, their oids and the commit sha."""

    def __init__(self, root: Path, *, lfs_threshold: int, lfs_patterns: tuple[str, ...]) -> None:
        self.files: dict[str, RepoFile] = {}
        for disk_path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = disk_path.relative_to(root).as_posix()
            if rel.split("/", 1)[0] == ".git":
                continue
            size = disk_path.stat().st_size
            lfs = size >= lfs_threshold or any(fnmatch.fnmatch(rel, pat) for pat in lfs_patterns)
            if lfs:
                sha256 = _file_digest(disk_path, "sha256")
                pointer = LFS_POINTER.format(sha256=sha256, size=size).encode()
                self.files[rel] = RepoFile(
                    rel, disk_path, size, _git_oid("blob", pointer), sha256, len(pointer)
                )
            else:
                oid = _file_digest(disk_path, "sha1", f"blob {size}\0".encode())
                self.files[rel] = RepoFile(rel, disk_path, size, oid)
        self.by_sha256 = {f.sha256: f for f in self.files.values() if f.sha256}
        self.children: dict[str, list[str]] = {"": []}
        for rel in self.files:
            parts = rel.split("/")
            for depth in range(1, len(parts) + 1):
                parent, child = "/".join(parts[: depth - 1]), "/".join(parts[:depth])
                if child not in self.children.setdefault(parent, []):
                    self.children[parent].append(child)
                if depth < len(parts):
                    self.children.setdefault(child, [])
        self.folder_oids: dict[str, str] = {}
        self.sha = self._tree_oid("")

    def _tree_oid(self, folder: str) -> str:
        lines = []
        for child in sorted(self.children[folder]):
            oid = self.files[child].oid if child in self.files else self._tree_oid(child)
            lines.append(f"{child.rsplit('/', 1)[-1]} {oid}")
        self.folder_oids[folder] = _git_oid("tree", "\n".join(lines).encode())
        return self.folder_oids[folder]

    def is_folder(self, path: str) -> bool:
        return path in self.children

    def listing(self, folder: str, recursive: bool) -> list[str]:
        """Children of ``folder`` (folders first), or every descendant in path order."""
        if not recursive:
            kids = self.children[folder]
            return sorted(k for k in kids if k in self.children) + sorted(
                k for k in kids if k in self.files
            )
        out: list[str] = []
        for child in sorted(self.children[folder]):
            out.append(child)
            if child in self.children:
                out.extend(self.listing(child, recursive=True))
        return out

    def entry(self, path: str, expand: bool) -> dict[str, Any]:
        """The JSON object the Hub's tree and paths-info endpoints return for ``path``."""
        if path in self.files:
            f = self.files[path]
            out: dict[str, Any] = {"type": "file", "oid": f.oid, "size": f.size, "path": path}
            if f.is_lfs:
                out["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
        else:
            out = {"type": "directory", "oid": self.folder_oids[path], "size": 0, "path": path}
        if expand:
            out["lastCommit"] = {"id": self.sha, "title": "Upload dataset", "date": REPO_DATE}
        return out


# --------------------------------------------------------------------------- faults


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


# --------------------------------------------------------------------------- counters


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


# --------------------------------------------------------------------------- HTTP


class _ConnectionAborted(Exception):
    """Raised inside a handler after a fault tore the connection down on purpose."""


class _HttpError(Exception):
    """An error answer: JSON ``{"error": message}`` with ``X-Error-Code``/``X-Error-Message``."""

    def __init__(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """``(start, end_inclusive)`` for a single-range header; ``None`` to ignore; ``"416"``.

    Syntactically invalid or multi-range headers are ignored (RFC 9110 allows serving 200).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep or not (first.isdigit() or last.isdigit()):
        return None
    if first.isdigit() and last and not last.isdigit():
        return None
    if not first:  # suffix range: the last n bytes
        n = int(last)
        return "416" if n == 0 or size == 0 else (max(size - n, 0), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "416"
    return start, end


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _RoleServer

    # ---- plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (_ConnectionAborted, ConnectionError, TimeoutError):
            self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the socket may be gone after a fault
            super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _send_head(self, status: int, headers: dict[str, str], length: int) -> None:
        self.record.status = status
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _write(self, data: bytes) -> None:
        # Counted before sending so that a client never sees bytes the counters do not show yet.
        self.record.body_bytes += len(data)
        try:
            self.wfile.write(data)
        except OSError:
            self.record.body_bytes -= len(data)
            raise

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._send_head(status, headers or {}, len(body))
        if self.command != "HEAD":
            self._write(body)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        hdrs = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        self._send(status, json.dumps(obj).encode(), hdrs)

    def _send_error(self, err: _HttpError) -> None:
        headers = {"X-Error-Message": err.message, **err.headers}
        if err.code:
            headers["X-Error-Code"] = err.code
        self._send_json(err.status, {"error": err.message}, headers)

    # ---- dispatch

    def _dispatch(self) -> None:
        hub: HubServer = self.server.hub
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        raw_parts = split.path.split("/")[1:]
        url_path = unquote(split.path)
        kind, file = hub._classify(self.server.role, raw_parts)
        self.record = RequestRecord(
            method=self.command,
            kind=kind,
            url_path=url_path,
            file=file,
            range=self.headers.get("Range"),
            authorized="Authorization" in self.headers,
        )
        self.subjects = (url_path,) if file is None else (url_path, file)
        hub.stats.add(self.record)  # listed at once; status and byte count fill in as we answer
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            for fault in hub.faults.take("request", kind, self.subjects):
                if fault.action == "stall":
                    hub._stopping.wait(fault.params["seconds"])
                else:
                    code, retry_after = fault.params["code"], fault.params["retry_after"]
                    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
                    raise _HttpError(code, None, f"Injected fault: HTTP {code}", headers)
            upload = getattr(hub, "upload", None)  # the write side (tests/hub_upload.py)
            if upload is not None and upload.serve(self, raw_parts, body):
                pass  # (the per-file CdnServer shares this handler and has no write side)
            elif self.server.role == "cdn":
                hub._serve_cdn(self, raw_parts)
            else:
                hub._check_auth(self.headers.get("Authorization"))
                hub._serve_hub(self, raw_parts, body)
        except _HttpError as err:
            self._send_error(err)

    # ---- file bodies

    def send_file(self, f: RepoFile, headers: dict[str, str]) -> None:
        """Answer HEAD/GET for ``f`` honouring ``Range``, applying any body faults."""
        hub: HubServer = self.server.hub
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", **headers}
        if self.command == "HEAD":
            self._send_head(200, headers, f.size)
            return
        faults = {x.action: x for x in hub.faults.take("body", self.record.kind, self.subjects)}
        status, start, end = 200, 0, f.size - 1
        wanted = parse_range(self.record.range, f.size) if self.record.range else None
        if wanted == "416":
            msg = b"Requested Range Not Satisfiable"
            self._send(416, msg, {**headers, "Content-Range": f"bytes */{f.size}"})
            return
        if wanted is not None and "ignore_range" not in faults:
            status, (start, end) = 206, wanted
            if fault := faults.get("wrong_content_range"):
                shift = fault.params["shift"]
                start, end = min(start + shift, f.size - 1), min(end + shift, f.size - 1)
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{f.size}"
        length = end - start + 1
        self._send_head(status, headers, length)
        self._stream_body(f, start, length, faults)

    def _stream_body(self, f: RepoFile, start: int, length: int, faults: dict[str, Fault]) -> None:
        hub: HubServer = self.server.hub
        limit = length
        if fault := faults.get("reset_after"):
            limit = min(limit, fault.params["k_bytes"])
        if fault := faults.get("short_body"):
            limit = min(limit, max(length - fault.params["missing"], 0))
        stall = faults.get("stall_body")
        sent = 0
        with f.disk_path.open("rb") as fh:
            fh.seek(start)
            while sent < limit:
                step = min(CHUNK, limit - sent)
                if stall is not None and sent < stall.params["after_bytes"] <= sent + step:
                    step = stall.params["after_bytes"] - sent
                if step:
                    self._write(fh.read(step))
                    sent += step
                if stall is not None and sent == stall.params["after_bytes"]:
                    self.wfile.flush()
                    hub._stopping.wait(stall.params["seconds"])
                    stall = None
        if sent < length:
            self._abort(graceful="reset_after" not in faults)

    def _abort(self, graceful: bool) -> None:
        """End the connection mid-body: FIN if ``graceful``, else an RST."""
        self.close_connection = True
        if not graceful:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        raise _ConnectionAborted


class _RoleServer(ThreadingHTTPServer):
    """One listening socket ("hub" or "cdn") that can also drop its keep-alive connections."""

    daemon_threads = True
    hub: HubServer
    role: str

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        with self._live_lock:
            self._live.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[override]
        with self._live_lock:
            self._live.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections, so no client reaches a stopped server's handler."""
        with self._live_lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- the server


class HubServer:
    """Serve ``root`` as dataset ``repo_id`` at ``revision`` to the real ``huggingface_hub``.

    Args:
        root: folder whose files are the repo files (``.git/`` excluded).
        repo_id: ``namespace/name`` of the dataset repo.
        revision: branch name; the commit sha (``.sha``) is accepted as a revision too.
        token: if set, Hub requests need ``Authorization: Bearer <token>`` (CDN URLs are signed).
        page_size / expand_page_size: tree entries per page (the Hub uses 1000 / 50).
        lfs_threshold / lfs_patterns: files at least this large or matching a pattern are LFS:
            they carry ``lfs`` metadata and ``/resolve`` redirects them to the CDN with a ``302``.
        redirect_ttl: seconds a signed CDN URL stays valid.
        clock: time source for ``Expires=`` (tests may pass a fake one to expire URLs).

    Use as a context manager, or ``start()`` / ``stop()``. ``refresh()`` rescans ``root``.
    """

    def __init__(
        self,
        root: Path,
        repo_id: str = "facebook/seamless-interaction",
        revision: str = "main",
        *,
        token: str | None = None,
        page_size: int = 1000,
        expand_page_size: int = 50,
        lfs_threshold: int = 10 * 1024 * 1024,
        lfs_patterns: tuple[str, ...] = ("*.tar",),
        redirect_ttl: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if repo_id.count("/") != 1:
            raise ValueError(f"repo_id must be 'namespace/name', got {repo_id!r}")
        self.root = Path(root)
        self.repo_id, self.revision, self.token = repo_id, revision, token
        self.page_size, self.expand_page_size = page_size, expand_page_size
        self.lfs_threshold, self.lfs_patterns = lfs_threshold, lfs_patterns
        self.redirect_ttl, self.clock = redirect_ttl, clock
        self.faults = Faults()
        self.stats = Stats()
        self._secret = os.urandom(16)
        self._stopping = threading.Event()
        self._servers: list[_RoleServer] = []
        self._threads: list[threading.Thread] = []
        from tests.hub_upload import UploadApi  # imports this module: import it once loaded

        self.upload = UploadApi(self)
        self.refresh()

    # ---- lifecycle

    def refresh(self) -> None:
        """Rescan ``root`` (a new commit sha if anything changed)."""
        self.snapshot = RepoSnapshot(
            self.root, lfs_threshold=self.lfs_threshold, lfs_patterns=self.lfs_patterns
        )

    @property
    def sha(self) -> str:
        return self.snapshot.sha

    def start(self) -> HubServer:
        if self._servers:
            return self
        self._stopping.clear()
        for role in ("hub", "cdn"):
            httpd = _RoleServer(("127.0.0.1", 0))
            httpd.hub, httpd.role = self, role
            thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
            )
            thread.start()
            self._servers.append(httpd)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers
        for httpd in self._servers:
            httpd.shutdown()
            httpd.server_close()
            httpd.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _origin(self, index: int) -> str:
        if not self._servers:
            raise RuntimeError("HubServer is not started")
        host, port = self._servers[index].server_address[:2]
        return f"http://{host}:{port}"

    @property
    def endpoint(self) -> str:
        """Base URL of the Hub, to pass as ``endpoint=`` to the client."""
        return self._origin(0)

    @property
    def cdn_endpoint(self) -> str:
        return self._origin(1)

    def resolve_url(self, path: str, revision: str | None = None) -> str:
        rev = quote(revision or self.revision, safe="")
        return f"{self.endpoint}/datasets/{self.repo_id}/resolve/{rev}/{quote(path)}"

    def reset_counters(self) -> None:
        self.stats.reset()

    # ---- routing helpers (called from handler threads)

    def _classify(self, role: str, parts: list[str]) -> tuple[str, str | None]:
        if role == "cdn":
            f = self.snapshot.by_sha256.get(parts[-1]) if parts else None
            return "cdn", f.path if f else None
        if parts[:1] == ["api"]:
            return "api", None
        if len(parts) > 5 and parts[0] == "datasets" and parts[3] == "resolve":
            return "resolve", unquote("/".join(parts[5:]))
        return "other", None

    def _check_auth(self, header: str | None) -> None:
        if self.token is None:
            return
        if header is None:
            raise _HttpError(401, "RepoNotFound", "Repository not found")
        if header != f"Bearer {self.token}":
            raise _HttpError(401, None, "Invalid credentials in Authorization header")

    def _check_repo(self, namespace: str, name: str, revision: str | None) -> None:
        if f"{unquote(namespace)}/{unquote(name)}" != self.repo_id:
            raise _HttpError(404, "RepoNotFound", "Repository not found")
        if revision is not None and unquote(revision) not in (self.revision, self.sha):
            raise _HttpError(404, "RevisionNotFound", f"Invalid rev id: {unquote(revision)}")

    def _serve_hub(self, h: _Handler, parts: list[str], body: bytes) -> None:
        if parts[:2] == ["api", "datasets"] and len(parts) >= 4:
            ns, name, rest = parts[2], parts[3], parts[4:]
            if h.command == "GET" and not rest:
                return self._repo_info(h, ns, name, None)
            if h.command == "GET" and len(rest) == 2 and rest[0] == "revision":
                return self._repo_info(h, ns, name, rest[1])
            if h.command == "GET" and len(rest) >= 2 and rest[0] == "tree":
                return self._tree(h, ns, name, rest[1], unquote("/".join(rest[2:])))
            if h.command == "POST" and len(rest) == 2 and rest[0] == "paths-info":
                return self._paths_info(h, ns, name, rest[1], body)
        if parts[:2] == ["api", "models"] or parts[:2] == ["api", "spaces"]:
            raise _HttpError(404, "RepoNotFound", "Repository not found")
        if h.record.kind == "resolve" and h.command in ("GET", "HEAD"):
            return self._resolve(h, parts[1], parts[2], parts[4], h.record.file or "")
        raise _HttpError(404, None, "Sorry, we can't find the page you are looking for.")

    def _repo_info(self, h: _Handler, ns: str, name: str, revision: str | None) -> None:
        self._check_repo(ns, name, revision)
        snap = self.snapshot
        blobs = h.query.get("blobs", "").lower() == "true"
        siblings = []
        for f in snap.files.values():
            sibling: dict[str, Any] = {"rfilename": f.path}
            if blobs:
                sibling.update(size=f.size, blobId=f.oid)
                if f.is_lfs:
                    sibling["lfs"] = {
                        "size": f.size,
                        "sha256": f.sha256,
                        "pointerSize": f.pointer_size,
                    }
            siblings.append(sibling)
        h._send_json(
            200,
            {
                "_id": snap.sha[:24],
                "id": self.repo_id,
                "author": self.repo_id.split("/")[0],
                "sha": snap.sha,
                "lastModified": REPO_DATE,
                "createdAt": REPO_DATE,
                "private": self.token is not None,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": siblings,
                "usedStorage": sum(f.size for f in snap.files.values()),
            },
        )

    def _tree(self, h: _Handler, ns: str, name: str, revision: str, path: str) -> None:
        self._check_repo(ns, name, revision)
        snap = self.snapshot
        path = path.strip("/")
        if not snap.is_folder(path):
            raise _HttpError(
                404, "EntryNotFound", f"{path} does not exist", {"X-Repo-Commit": snap.sha}
            )
        expand = h.query.get("expand", "").lower() == "true"
        recursive = h.query.get("recursive", "").lower() == "true"
        limit = self.expand_page_size if expand else self.page_size
        limit = min(int(h.query.get("limit", limit)), limit)
        entries = snap.listing(path, recursive)
        offset = _decode_cursor(h.query.get("cursor"))
        page = entries[offset : offset + limit]
        headers = {}
        if offset + limit < len(entries):
            query = {k: v for k, v in h.query.items() if k != "cursor"}
            query["cursor"] = _encode_cursor(offset + limit)
            next_url = f"{self.endpoint}{urlsplit(h.path).path}?{urlencode(query)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        h._send_json(200, [snap.entry(p, expand) for p in page], headers)

    def _paths_info(self, h: _Handler, ns: str, name: str, revision: str, body: bytes) -> None:
        self._check_repo(ns, name, revision)
        if "json" in (h.headers.get("Content-Type") or ""):
            payload = json.loads(body or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode(), keep_blank_values=True)
            paths, expand = form.get("paths", []), form.get("expand", [""])[-1].lower() == "true"
        snap = self.snapshot
        found = [p.strip("/") for p in paths if p.strip("/") in snap.files or snap.is_folder(p)]
        h._send_json(200, [snap.entry(p, expand) for p in found if p])

    def _resolve(self, h: _Handler, ns: str, name: str, revision: str, path: str) -> None:
        self._check_repo(ns, name, revision)
        snap = self.snapshot
        f = snap.files.get(path)
        if f is None:
            raise _HttpError(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": snap.sha})
        headers = {"X-Repo-Commit": snap.sha, "ETag": f'"{f.oid}"'}
        if not f.is_lfs:
            return h.send_file(f, headers)
        expired = bool(self.faults.take("redirect", "resolve", h.subjects))
        location = self._signed_cdn_url(f, expired)
        headers.update(
            {
                "Location": location,
                "X-Linked-Size": str(f.size),
                "X-Linked-Etag": f'"{f.sha256}"',
                "Content-Type": "text/plain; charset=utf-8",
            }
        )
        h._send(302, f"Found. Redirecting to {location}".encode(), headers)

    def _signature(self, url_path: str, expires: int) -> str:
        msg = f"{url_path}?Expires={expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def _signed_cdn_url(self, f: RepoFile, expired: bool) -> str:
        assert f.sha256 is not None
        url_path = f"/repos/{f.sha256[:2]}/{f.sha256[2:4]}/{f.sha256}"
        expires = int(self.clock()) + (-1 if expired else int(self.redirect_ttl))
        query = urlencode(
            {
                "Expires": expires,
                "Signature": self._signature(url_path, expires),
                "Key-Pair-Id": "K",
            }
        )
        return f"{self.cdn_endpoint}{url_path}?{query}"

    def _serve_cdn(self, h: _Handler, parts: list[str]) -> None:
        url_path = urlsplit(h.path).path
        try:
            expires = int(h.query.get("Expires", ""))
        except ValueError:
            expires = -1
        sig_ok = hmac.compare_digest(
            h.query.get("Signature", ""), self._signature(url_path, expires)
        )
        f = self.snapshot.by_sha256.get(parts[-1]) if parts else None
        if h.command not in ("GET", "HEAD") or not sig_ok or f is None:
            return _send_s3_error(h, "AccessDenied", "Access denied")
        if self.clock() > expires:
            return _send_s3_error(h, "AccessDenied", "Request has expired")
        name = quote(f.path.rsplit("/", 1)[-1])
        h.send_file(
            f,
            {
                "ETag": f'"{f.sha256}"',
                "Content-Disposition": f"inline; filename*=UTF-8''{name}; filename=\"{name}\"",
            },
        )


def _send_s3_error(h: _Handler, code: str, message: str) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    h._send(403, body.encode(), {"Content-Type": "application/xml"})


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _HttpError(400, None, f"Invalid cursor: {cursor}") from exc


# --------------------------------------------------------------------------- test data


SAMPLE_IDS = (
    "V00_S0809_I00000582_P0947",
    "V00_S0809_I00000582_P0948",
    "V00_S0644_I00000125_P0299A",
    "V01_S0101_I00000007_P0012",
    "V01_S0101_I00000007_P0013",
)


def _sample_members(rng: random.Random, file_id: str) -> list[tuple[str, bytes]]:
    doc = {"id": file_id, "metadata:transcript": [], "metadata:vad": []}
    return [
        (f"{file_id}.json", json.dumps(doc, indent=4).encode()),
        (f"{file_id}.mp4", rng.randbytes(rng.randint(2_000, 6_000))),
        (f"{file_id}.npz", rng.randbytes(rng.randint(2_000, 6_000))),
        (f"{file_id}.wav", rng.randbytes(rng.randint(2_000, 6_000))),
    ]


def write_tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    """A plain (uncompressed) tar, members in the given order, fixed mtime for determinism."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_750_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))


def write_hub_repo(root: Path, *, seed: int = 42, n_extras: int = 30) -> list[str]:
    """Write a miniature ``facebook/seamless-interaction`` repo under ``root``; return its paths.

    Three WebDataset tars (archive 0001 is a gap, as on the Hub), a README, ``.gitattributes``
    marking tars as LFS, and ``n_extras`` small JSON files so tree listings span several pages.
    """
    rng = random.Random(seed)
    tars = {
        "improvised/dev/0000/0000.tar": SAMPLE_IDS[:2],
        "improvised/dev/0000/0002.tar": SAMPLE_IDS[2:3],
        "naturalistic/test/0001/0000.tar": SAMPLE_IDS[3:],
    }
    for rel, ids in tars.items():
        write_tar(root / rel, [m for fid in ids for m in _sample_members(rng, fid)])
    (root / "README.md").write_text("# Seamless Interaction (test copy)\n")
    (root / ".gitattributes").write_text("*.tar filter=lfs diff=lfs merge=lfs -text\n")
    for i in range(n_extras):
        extra = root / "extras" / "meta" / f"{i:03d}.json"
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text(json.dumps({"i": i, "pad": rng.randbytes(rng.randint(10, 200)).hex()}))
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- pytest fixtures

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def no_external_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to resolve or connect to a non-loopback address."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in _LOOPBACK:
            raise OSError(f"network access to {host!r} is disabled in tests")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in _LOOPBACK:
            raise OSError(f"network access to {address!r} is disabled in tests")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def hf_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_external_network: None) -> Path:
    """Point ``huggingface_hub`` at a temporary home, online, without telemetry, token or Xet.

    ``huggingface_hub.constants`` reads the environment once at import, so the module attributes
    are patched as well as the variables. ``HF_ENDPOINT`` cannot be changed after import: always
    pass ``endpoint=`` explicitly. Returns the temporary ``HF_HOME``.
    """
    from huggingface_hub import constants

    home = tmp_path / "hf_home"
    home.mkdir()
    paths = {
        "HF_HOME": home,
        "HF_HUB_CACHE": home / "hub",
        "HF_ASSETS_CACHE": home / "assets",
        "HF_XET_CACHE": home / "xet",
        "HF_TOKEN_PATH": home / "token",
        "HF_STORED_TOKENS_PATH": home / "stored_tokens",
    }
    flags = {"HF_HUB_OFFLINE": False, "HF_HUB_DISABLE_TELEMETRY": True, "HF_HUB_DISABLE_XET": True}
    for name, path in paths.items():
        monkeypatch.setenv(name, str(path))
        monkeypatch.setattr(constants, name, str(path))
    for name, flag in flags.items():
        monkeypatch.setenv(name, "1" if flag else "0")
        monkeypatch.setattr(constants, name, flag)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def hf_backoff_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make ``huggingface_hub`` retry waits instant; return the list of requested sleeps."""
    sleeps: list[float] = []
    fake_time = SimpleNamespace(sleep=sleeps.append, time=time.time, monotonic=time.monotonic)
    for module in ("huggingface_hub.utils._http", "huggingface_hub.file_download"):
        monkeypatch.setattr(importlib.import_module(module), "time", fake_time)
    return sleeps


@pytest.fixture(scope="session")
def hub_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A miniature dataset repo folder (see ``write_hub_repo``), built once per session."""
    root = tmp_path_factory.mktemp("hub_repo")
    write_hub_repo(root)
    return root


@pytest.fixture
def make_hub_server(hub_repo: Path, hf_isolated: Path) -> Iterator[Callable[..., HubServer]]:
    """Factory of started servers: ``make_hub_server(root=hub_repo, **HubServer kwargs)``.

    Every server made is stopped at teardown (its connections closed: the client's pool drops them).
    """
    servers: list[HubServer] = []

    def make(root: Path | None = None, **kwargs: Any) -> HubServer:
        server = HubServer(hub_repo if root is None else root, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def hub_server(make_hub_server: Callable[..., HubServer]) -> HubServer:
    """A started ``HubServer`` over ``hub_repo``, 10 tree entries per page (5 with expand)."""
    return make_hub_server(page_size=10, expand_page_size=5)
