"""Which store serves a URI: ``hf://`` (Hub), ``s3://`` (S3), ``http(s)://`` (CDN), or a folder.

The remote stores are imported when first used (huggingface_hub and boto3 load slowly)."""

from __future__ import annotations

from ..config import Settings
from ..errors import UsageError
from .base import ObjectStore
from .local import LocalStore


def open_store(uri: str, settings: Settings) -> ObjectStore:
    """``hf://datasets/ORG/NAME[/sub]``, ``s3://BUCKET/PREFIX``, ``https://HOST/PREFIX`` or a
    local folder."""
    if uri.startswith("hf://"):
        from .hub import HubStore

        return HubStore(uri, settings)
    if uri.startswith("s3://"):
        from .s3 import S3Store

        return S3Store(uri, settings)
    if uri.startswith(("https://", "http://")):
        from .https import HttpsStore

        return HttpsStore(uri, settings)
    if "://" in uri:
        raise UsageError(
            f"{uri}: not a supported URI (hf://, s3://, https://, http://, or a folder)"
        )
    return LocalStore(uri)
