"""Where release files are read from: the Hub's tars, the per-file CDN/S3 copy, a local mirror.

Every place is an :class:`ObjectStore`: objects named by a key relative to the
source root (``improvised/dev/0000/0003.tar``, ``improvised/dev/audio/{file_id}.wav``),
read whole or by byte range with retries, resume and version checks done inside.
"""

from __future__ import annotations

from .base import ObjectInfo, ObjectStore
from .dispatch import open_store

__all__ = ["ObjectInfo", "ObjectStore", "open_store"]
