"""HTTP plumbing of the test servers: one request handler, listening sockets, ranges, errors.

A ``RoleServer`` is one listening socket with a ``role`` (``"hub"`` or ``"cdn"``) and an
application object in ``.hub`` that the shared ``Handler`` calls back into: the Hub
(``tests.fakes.hub.HubServer``) or the per-file CDN (``tests.fakes.cdn.CdnServer``). That object
provides ``faults`` and ``stats`` (``tests.fakes.faults``), ``_stopping`` (an ``Event`` that wakes
stalled handlers), ``_classify(role, parts)`` and ``_serve_cdn(handler, parts)``; the Hub also
``_check_auth``, ``_serve_hub`` and ``upload`` (the write side, ``tests.fakes.upload``). The
handler applies request and body faults, honours ``Range`` and counts every body byte it sends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .faults import Fault, RequestRecord

if TYPE_CHECKING:
    from .hub import HubServer
    from .repo import RepoFile

CHUNK = 64 * 1024


class _ConnectionAborted(Exception):
    """Raised inside a handler after a fault tore the connection down on purpose."""


class HttpError(Exception):
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RoleServer

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

    def _send_error(self, err: HttpError) -> None:
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
                    raise HttpError(code, None, f"Injected fault: HTTP {code}", headers)
            upload = getattr(hub, "upload", None)  # the write side (tests.fakes.upload)
            if upload is not None and upload.serve(self, raw_parts, body):
                pass  # (the per-file CdnServer shares this handler and has no write side)
            elif self.server.role == "cdn":
                hub._serve_cdn(self, raw_parts)
            else:
                hub._check_auth(self.headers.get("Authorization"))
                hub._serve_hub(self, raw_parts, body)
        except HttpError as err:
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


class RoleServer(ThreadingHTTPServer):
    """One listening socket ("hub" or "cdn") that can also drop its keep-alive connections."""

    daemon_threads = True
    hub: HubServer
    role: str

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
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


def send_s3_error(h: Handler, code: str, message: str) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    h._send(403, body.encode(), {"Content-Type": "application/xml"})
