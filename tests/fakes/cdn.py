"""A static HTTP server over a folder that behaves like the dataset's CDN.

Missing objects answer ``403`` (an S3-style XML ``AccessDenied``), as the real CDN does;
there is no listing. ``ETag`` is derived from each file's size and mtime, so rewriting a
file changes it. The request handling, the counters (``.stats``) and the switchable faults
(``.faults``: status codes, resets, short bodies, ignored ranges, wrong ``Content-Range``,
stalls) are the Hub test server's own (``tests.fakes.http``, ``tests.fakes.faults``), reused
rather than copied. Fault ``kind`` is ``"cdn"``; fault ``path`` is an object key such as
``improvised/dev/metadata/vad/V00_S0100_I00000011_P0100.jsonl``. Its fixture,
``make_cdn_server``, is in ``tests.fakes.fixtures``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import quote, unquote

from .faults import Faults, Stats
from .http import RoleServer, send_s3_error
from .repo import RepoFile


class CdnServer:
    """Serve ``root`` at ``.endpoint`` (``http://127.0.0.1:PORT``); start()/stop() or ``with``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.faults = Faults()
        self.stats = Stats()
        self._stopping = threading.Event()
        self._server: RoleServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> CdnServer:
        if self._server is None:
            self._stopping.clear()
            httpd = RoleServer(("127.0.0.1", 0))
            httpd.hub, httpd.role = self, "cdn"  # the shared handler calls back into us
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
            )
            self._thread.start()
            self._server = httpd
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            assert self._thread is not None
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> CdnServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("CdnServer is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, key: str) -> str:
        return f"{self.endpoint}/{quote(key)}"

    def reset_counters(self) -> None:
        self.stats.reset()

    # ---- what the shared handler calls

    def _file(self, parts: list[str]) -> RepoFile | None:
        key = unquote("/".join(parts))
        if not key or ".." in key.split("/"):
            return None
        path = self.root / key
        if not path.is_file():
            return None
        st = path.stat()
        return RepoFile(key, path, st.st_size, f"{st.st_size:x}-{st.st_mtime_ns:x}")

    def _classify(self, role: str, parts: list[str]) -> tuple[str, str | None]:
        return "cdn", unquote("/".join(parts)) or None

    def _serve_cdn(self, h, parts: list[str]) -> None:
        f = self._file(parts)
        if h.command not in ("GET", "HEAD") or f is None:
            return send_s3_error(h, "AccessDenied", "Access Denied")
        h.send_file(f, {"ETag": f'"{f.oid}"'})
