"""Read a small source file (a CSV) from a local path or an http(s) URL."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from ..errors import SourceNotFound

_TIMEOUT_S = 60


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def join(base: str, name: str) -> str:
    """``base`` is a folder path or a URL prefix; returns the child location."""
    return f"{base.rstrip('/')}/{name}" if is_url(base) else str(Path(base) / name)


def exists(location: str) -> bool:
    return is_url(location) or Path(location).is_file()


OFFLINE_DEFAULTS = (
    "a new catalog reads the official filelist and assets there unless told otherwise; "
    "offline, give local copies: --filelist FILE --assets DIR (the seamless_interaction "
    "repository's assets/ folder holds them)"
)


def read_bytes(location: str, offline_hint: str = "") -> bytes:
    """The bytes at a path or URL; ``offline_hint`` says what to do when a download fails
    (the default locations name the options that replace them)."""
    if not is_url(location):
        try:
            return Path(location).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise SourceNotFound(location, "check the path") from None
    try:
        with urllib.request.urlopen(location, timeout=_TIMEOUT_S) as resp:  # noqa: S310
            return resp.read()
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise SourceNotFound(
            location,
            f"download failed ({e}); {offline_hint or 'when offline, pass a local copy instead'}",
        ) from None
