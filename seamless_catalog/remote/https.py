"""The per-file HTTPS copy (the public CDN by default): objects are ``{base}/{key}``.

The CDN does not list, and answers a missing object with 403 (or 404): both mean absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from ..config import Settings
from ..errors import SourceNotFound, UsageError
from .base import ObjectInfo, ReaderBackedStore
from .http import FixedTarget, HttpClient, HttpObject, HttpStatusError, Traffic

ABSENT = (403, 404)


class HttpsStore(ReaderBackedStore):
    def __init__(
        self, base_url: str | None, settings: Settings, client: HttpClient | None = None
    ) -> None:
        self.base = (base_url or settings.cdn_base_url).rstrip("/")
        self.uri = self.base
        self.client = client or HttpClient()

    @property
    def traffic(self) -> Traffic:
        return self.client.traffic

    def url(self, key: str) -> str:
        return f"{self.base}/{quote(key)}"

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        raise UsageError(
            f"{self.base} cannot be listed (the CDN has listing disabled): the filelist drives "
            "what is fetched; pass --filelist, or list a local or s3:// copy instead"
        )

    def info(self, key: str) -> ObjectInfo | None:
        try:
            resp = self.client.head(FixedTarget(self.url(key)))
        except HttpStatusError as e:
            if e.status in ABSENT:
                return None
            raise
        etag = (resp.headers.get("ETag") or "").removeprefix("W/").strip('"') or None
        return ObjectInfo(key, int(resp.headers.get("Content-Length", 0)), etag=etag)

    def reader(self, key: str, info: ObjectInfo | None = None) -> HttpObject:
        info = info or self.info(key)
        if info is None:
            raise SourceNotFound(self.url(key), "absent (HTTP 403/404)")
        return HttpObject(self.client, FixedTarget(self.url(key)), info.size, info.etag)

    def fetch(self, key: str) -> bytes | None:
        """The whole object in one GET (no HEAD first), or None when absent (403/404)."""
        try:
            return self.client.get(FixedTarget(self.url(key)))
        except HttpStatusError as e:
            if e.status in ABSENT:
                return None
            raise
