"""Which remote store serves a URI: ``hf://`` (Hub), ``s3://`` (S3), ``http(s)://`` (CDN)."""

from __future__ import annotations

from ..config import Settings
from ..errors import UsageError
from .base import ObjectStore


def open_remote(uri: str, settings: Settings) -> ObjectStore:
    if uri.startswith("hf://"):
        from .hub import HubStore

        return HubStore(uri, settings)
    if uri.startswith("s3://"):
        from .s3 import S3Store

        return S3Store(uri, settings)
    if uri.startswith(("https://", "http://")):
        from .https import HttpsStore

        return HttpsStore(uri, settings)
    raise UsageError(f"{uri}: not a remote URI (hf://, s3://, https:// or http://)")
