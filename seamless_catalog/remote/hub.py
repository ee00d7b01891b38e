"""The HuggingFace Hub copy: ``hf://datasets/ORG/NAME[@REV][/subdir]``.

Listed once with ``HfApi.list_repo_tree(recursive=True)`` (paginated, retried by the
client). Each file is *resolved* once, by a ``HEAD`` on ``/resolve`` that does not follow
the redirect: the ``302`` carries the signed CDN URL, ``X-Linked-Size`` and
``X-Linked-Etag``. Reads are ranged GETs on that URL through :class:`HttpClient`; the
token goes to the Hub only, never to the CDN. A ``403`` from the CDN (the signed URL
expired) resolves again, once; a new ``X-Linked-Etag`` then means the file changed.

A refusal is read from ``X-Error-Code`` as ``huggingface_hub`` does (``RepoNotFound``,
``RevisionNotFound``, ``EntryNotFound``, ``GatedRepo``): the Hub answers ``401`` for a missing
repo as for a private or gated one, so "set HF_TOKEN" is said only where a token would help.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from ..config import HF_REPO, Settings
from ..errors import (
    CatalogError,
    ObjectChanged,
    RemoteAccessDenied,
    RemoteError,
    SourceNotFound,
    UsageError,
)
from .base import ObjectInfo, ReaderBackedStore
from .http import FixedTarget, HttpClient, HttpObject, HttpStatusError, Traffic

INVALID_TOKEN = "Invalid credentials in Authorization header"  # the Hub's X-Error-Message


@dataclass(frozen=True)
class HubPath:
    repo: str
    revision: str
    subdir: str  # "" or "improvised/dev"


def parse_hf_uri(uri: str) -> HubPath:
    """``hf://datasets/ORG/NAME[@REV][/subdir]``; ``hf://`` or ``hf://datasets`` alone mean the
    default repo."""
    rest = uri.removeprefix("hf://").strip("/")
    if rest in ("", "datasets"):
        return HubPath(HF_REPO, "main", "")
    parts = rest.split("/")
    if parts[0] != "datasets" or len(parts) < 3:
        raise UsageError(
            f"{uri}: expected hf://datasets/ORG/NAME[/subdir] (only dataset repos are supported)"
        )
    name, _, revision = parts[2].partition("@")
    return HubPath(f"{parts[1]}/{name}", revision or "main", "/".join(parts[3:]))


@dataclass(frozen=True)
class _Resolved:
    url: str  # where the bytes are (the CDN, or the resolve URL itself for small files)
    size: int
    etag: str | None  # X-Linked-Etag (LFS sha256) or ETag
    commit: str | None
    on_hub: bool  # the URL is the Hub's own (send the token)


class _HubTarget:
    """A resolved file; refreshed (one more resolve) when the signed URL is refused."""

    def __init__(self, store: HubStore, key: str, resolved: _Resolved) -> None:
        self.store, self.key, self.resolved = store, key, resolved

    def location(self) -> tuple[str, dict[str, str]]:
        r = self.resolved
        return r.url, self.store._auth() if r.on_hub else {}

    def refresh(self) -> bool:
        if self.resolved.on_hub:
            return False
        fresh = self.store._resolve(self.key, cached=False)
        if fresh is None:
            raise SourceNotFound(self.store._path(self.key), "it is gone from the repo")
        if fresh.etag != self.resolved.etag:
            raise ObjectChanged(self.store._path(self.key), self.resolved.etag, fresh.etag)
        self.resolved = fresh
        return True


class HubStore(ReaderBackedStore):
    """A dataset repo (or a folder of it) on the Hub, as an :class:`ObjectStore`."""

    remembers_resolutions = True  # one resolve per file: the Hub limits them per 5 minutes

    def __init__(self, uri: str, settings: Settings, client: HttpClient | None = None) -> None:
        self.uri = uri
        self.path = parse_hf_uri(uri)
        self.subdir = self.path.subdir
        self.endpoint = settings.hf_endpoint.rstrip("/")
        self.token = settings.hf_token
        self.client = client or HttpClient()
        self._resolved: dict[str, _Resolved] = {}
        self._lock = threading.Lock()
        self._resolving: dict[str, threading.Lock] = {}  # one resolve in flight per file

    @property
    def traffic(self) -> Traffic:
        return self.client.traffic

    def _path(self, key: str) -> str:
        return f"{self.subdir}/{key}" if self.subdir else key

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def resolve_url(self, key: str) -> str:
        p = self.path
        rev = quote(p.revision, safe="")
        return f"{self.endpoint}/datasets/{p.repo}/resolve/{rev}/{quote(self._path(key))}"

    # -- ObjectStore -----------------------------------------------------------------------
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError

        api = HfApi(endpoint=self.endpoint, token=self.token or False)
        folder = "/".join(x for x in (self.subdir, prefix.strip("/")) if x) or None
        try:
            entries = list(
                api.list_repo_tree(
                    self.path.repo,
                    path_in_repo=folder,
                    revision=self.path.revision,
                    recursive=True,
                    repo_type="dataset",
                )
            )
        except HfHubHTTPError as e:
            status = e.response.status_code if e.response is not None else 0
            headers = e.response.headers if e.response is not None else {}
            refusal = self.refusal(
                status, headers.get("X-Error-Code"), headers.get("X-Error-Message")
            )
            if refusal is not None:
                raise refusal from None
            if headers.get("X-Error-Code") == "EntryNotFound":
                raise SourceNotFound(self.uri, f"the repo has no folder {folder}") from None
            raise RemoteError(self.uri, f"listing failed (HTTP {status or '?'}: {e})") from None
        cut = len(self.subdir) + 1 if self.subdir else 0
        for e in sorted(entries, key=lambda e: e.path):
            if not hasattr(e, "size") or not hasattr(e, "blob_id"):
                continue  # a folder
            lfs = getattr(e, "lfs", None)
            sha = lfs.sha256 if lfs is not None else None
            yield ObjectInfo(e.path[cut:], e.size, etag=sha or e.blob_id, sha256=sha)

    def info(self, key: str) -> ObjectInfo | None:
        r = self._resolve(key)
        return None if r is None else ObjectInfo(key, r.size, etag=r.etag)

    def reader(self, key: str, info: ObjectInfo | None = None) -> HttpObject:
        r = self._resolve(key)
        if r is None:
            raise SourceNotFound(f"{self.uri}/{key}", "not in the repo")
        if info is not None and info.sha256 and r.etag and r.etag != info.sha256:
            raise ObjectChanged(self._path(key), info.sha256, r.etag)
        return HttpObject(self.client, _HubTarget(self, key, r), r.size)

    def fetch(self, key: str) -> bytes | None:
        """The whole object, or None when absent."""
        r = self._resolve(key)
        if r is None:
            return None
        return HttpObject(self.client, _HubTarget(self, key, r), r.size).read_at(0, r.size)

    # -- resolve ---------------------------------------------------------------------------
    def resolutions(self, keys: Iterable[str]) -> dict[str, _Resolved]:
        """What ``keys`` were resolved to so far (no request), for :meth:`adopt` in another
        process: the shards of one plan then resolve each file once in all."""
        with self._lock:
            return {k: self._resolved[k] for k in keys if k in self._resolved}

    def adopt(self, resolutions: Mapping[str, _Resolved]) -> None:
        """Use resolutions made by another store of the same repo (a refused URL still
        resolves again, once, and checks the ETag)."""
        with self._lock:
            self._resolved.update(resolutions)

    def _resolve(self, key: str, cached: bool = True) -> _Resolved | None:
        """One HEAD on /resolve per file, remembered (the Hub limits resolves per 5 min);
        threads reading one tar at once wait for a single resolve."""
        with self._lock:
            if cached and key in self._resolved:
                return self._resolved[key]
            gate = self._resolving.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if cached and key in self._resolved:  # another thread resolved it meanwhile
                    return self._resolved[key]
            return self._resolve_now(key)

    def refusal(self, status: int, code: str | None, message: str | None) -> CatalogError | None:
        """What the Hub's refusal means for the whole repo, or None (not a refusal of the repo:
        a missing file, or another error). Reads ``X-Error-Code`` as ``huggingface_hub``'s
        ``hf_raise_for_status`` does, and a bare 401 as it does: the repo is not found."""
        repo, rev = self.path.repo, self.path.revision
        page = f"{self.endpoint}/datasets/{repo}"
        if code == "GatedRepo":
            if status == 403 or self.token:
                return RemoteAccessDenied(
                    self.uri,
                    f"{repo} is gated and the account of HF_TOKEN has no access yet",
                    f"accept its terms (signed in as that account) at {page}; "
                    "if the authors review requests, wait for their approval, then run again",
                )
            return RemoteAccessDenied(
                self.uri,
                f"{repo} is gated: it needs an account that accepted its terms",
                f"accept its terms at {page} (signed in), then set HF_TOKEN to a token of "
                "that account (https://huggingface.co/settings/tokens)",
            )
        if code == "RevisionNotFound":
            return SourceNotFound(
                self.uri, f"{repo} has no revision {rev!r}: check the @REVISION of the URI"
            )
        if status == 401 and code is None and message == INVALID_TOKEN:
            return RemoteAccessDenied(
                self.uri,
                "the Hub does not accept HF_TOKEN (invalid credentials)",
                "set HF_TOKEN to a valid token, or unset it for a public repo",
            )
        if code == "RepoNotFound" or (status == 401 and code is None):
            hint = (
                "if it is private, check that the account of HF_TOKEN can read it"
                if self.token
                else "if it is private, set HF_TOKEN to a token that can read it"
            )
            return SourceNotFound(
                self.uri, f"no dataset repo {repo} on {self.endpoint}: check ORG/NAME; {hint}"
            )
        return None

    def _resolve_now(self, key: str) -> _Resolved | None:
        url = self.resolve_url(key)
        try:
            resp = self.client.head(FixedTarget(url, self._auth()))
        except HttpStatusError as e:
            refusal = self.refusal(e.status, e.error_code, e.error_message)
            if refusal is not None:
                raise refusal from None
            if e.status == 404:  # EntryNotFound (or no code): this file is not in the repo
                return None
            raise
        h = resp.headers
        if resp.status in (301, 302, 303, 307, 308):
            location = urljoin(url, h["Location"])
            size = h.get("X-Linked-Size") or h.get("Content-Length")
            on_hub = location.startswith(self.endpoint + "/")
        else:
            location, size, on_hub = url, h.get("Content-Length"), True
        etag = (h.get("X-Linked-Etag") or h.get("ETag") or "").removeprefix("W/").strip('"')
        if size is None:
            raise RemoteError(self.uri, f"resolve of {key} gave no size", "report this")
        r = _Resolved(location, int(size), etag or None, h.get("X-Repo-Commit"), on_hub)
        with self._lock:
            self._resolved[key] = r
        return r
