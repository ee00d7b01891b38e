"""A small HuggingFace-Hub-compatible HTTP server for tests, served to the real client.

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
* errors: ``X-Error-Code`` ``RepoNotFound``/``RevisionNotFound``/``EntryNotFound``/``GatedRepo``,
  JSON ``error``. As on the real Hub, a missing (or private, unauthenticated) repo is ``401``
  ``RepoNotFound`` (``hf_raise_for_status`` only guesses that from a bare 401 on ``https://``
  URLs, so the code must be there); a gated repo is ``401 GatedRepo`` without a token and
  ``403 GatedRepo`` for an account that has not accepted its terms; a wrong token is ``401``
  ``Invalid credentials in Authorization header`` without a code. ``HEAD`` on the repo's API URL
  answers like ``GET`` without the body.

Faults (``server.faults``) and counters (``server.stats``) let tests provoke and observe failures.
``server.upload`` (``tests.fakes.upload``) adds the write side: create repo, preupload, LFS and
commit, so that ``create_repo`` and ``upload_folder`` work too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from .faults import Faults, Stats
from .http import Handler, HttpError, RoleServer, send_s3_error
from .repo import REPO_DATE, RepoFile, RepoSnapshot
from .upload import UploadApi


class HubServer:
    """Serve ``root`` as dataset ``repo_id`` at ``revision`` to the real ``huggingface_hub``.

    Args:
        root: folder whose files are the repo files (``.git/`` excluded).
        repo_id: ``namespace/name`` of the dataset repo.
        revision: branch name; the commit sha (``.sha``) is accepted as a revision too.
        token: if set, Hub requests need ``Authorization: Bearer <token>`` (CDN URLs are signed).
        gated: the repo is gated: ``token`` is an account that accepted its terms, the tokens in
            ``unaccepted_tokens`` are accounts that did not (``403 GatedRepo``).
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
        gated: bool = False,
        unaccepted_tokens: tuple[str, ...] = (),
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
        if gated and token is None:
            raise ValueError("a gated repo needs the token of an account that accepted its terms")
        self.repo_id, self.revision, self.token = repo_id, revision, token
        self.gated, self.unaccepted_tokens = gated, unaccepted_tokens
        self.page_size, self.expand_page_size = page_size, expand_page_size
        self.lfs_threshold, self.lfs_patterns = lfs_threshold, lfs_patterns
        self.redirect_ttl, self.clock = redirect_ttl, clock
        self.faults = Faults()
        self.stats = Stats()
        self._secret = os.urandom(16)
        self._stopping = threading.Event()
        self._servers: list[RoleServer] = []
        self._threads: list[threading.Thread] = []

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
            httpd = RoleServer(("127.0.0.1", 0))
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
        gate = f"Access to dataset {self.repo_id} is restricted"
        if header is None and self.gated:
            raise HttpError(
                401, "GatedRepo", f"{gate}. You must have access to it and be authenticated."
            )
        if header is None:
            raise HttpError(401, "RepoNotFound", "Repository not found")
        if self.gated and header.removeprefix("Bearer ") in self.unaccepted_tokens:
            raise HttpError(
                403,
                "GatedRepo",
                f"{gate} and you are not in the authorized list. "
                f"Visit https://huggingface.co/datasets/{self.repo_id} to ask for access.",
            )
        if header != f"Bearer {self.token}":
            raise HttpError(401, None, "Invalid credentials in Authorization header")

    def _check_repo(self, namespace: str, name: str, revision: str | None) -> None:
        if f"{unquote(namespace)}/{unquote(name)}" != self.repo_id:
            raise HttpError(401, "RepoNotFound", "Repository not found")
        if revision is not None and unquote(revision) not in (self.revision, self.sha):
            raise HttpError(404, "RevisionNotFound", f"Invalid rev id: {unquote(revision)}")

    def _serve_hub(self, h: Handler, parts: list[str], body: bytes) -> None:
        if parts[:2] == ["api", "datasets"] and len(parts) >= 4:
            ns, name, rest = parts[2], parts[3], parts[4:]
            if h.command in ("GET", "HEAD") and not rest:
                return self._repo_info(h, ns, name, None)
            if h.command in ("GET", "HEAD") and len(rest) == 2 and rest[0] == "revision":
                return self._repo_info(h, ns, name, rest[1])
            if h.command == "GET" and len(rest) >= 2 and rest[0] == "tree":
                return self._tree(h, ns, name, rest[1], unquote("/".join(rest[2:])))
            if h.command == "POST" and len(rest) == 2 and rest[0] == "paths-info":
                return self._paths_info(h, ns, name, rest[1], body)
        if parts[:2] == ["api", "models"] or parts[:2] == ["api", "spaces"]:
            raise HttpError(401, "RepoNotFound", "Repository not found")
        if h.record.kind == "resolve" and h.command in ("GET", "HEAD"):
            return self._resolve(h, parts[1], parts[2], parts[4], h.record.file or "")
        raise HttpError(404, None, "Sorry, we can't find the page you are looking for.")

    def _repo_info(self, h: Handler, ns: str, name: str, revision: str | None) -> None:
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
                "gated": "auto" if self.gated else False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": siblings,
                "usedStorage": sum(f.size for f in snap.files.values()),
            },
        )

    def _tree(self, h: Handler, ns: str, name: str, revision: str, path: str) -> None:
        self._check_repo(ns, name, revision)
        snap = self.snapshot
        path = path.strip("/")
        if not snap.is_folder(path):
            raise HttpError(
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

    def _paths_info(self, h: Handler, ns: str, name: str, revision: str, body: bytes) -> None:
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

    def _resolve(self, h: Handler, ns: str, name: str, revision: str, path: str) -> None:
        self._check_repo(ns, name, revision)
        snap = self.snapshot
        f = snap.files.get(path)
        if f is None:
            raise HttpError(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": snap.sha})
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

    def _serve_cdn(self, h: Handler, parts: list[str]) -> None:
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
            return send_s3_error(h, "AccessDenied", "Access denied")
        if self.clock() > expires:
            return send_s3_error(h, "AccessDenied", "Request has expired")
        name = quote(f.path.rsplit("/", 1)[-1])
        h.send_file(
            f,
            {
                "ETag": f'"{f.sha256}"',
                "Content-Disposition": f"inline; filename*=UTF-8''{name}; filename=\"{name}\"",
            },
        )


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HttpError(400, None, f"Invalid cursor: {cursor}") from exc
