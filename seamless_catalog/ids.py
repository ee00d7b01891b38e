"""Identifiers of the release: parse and validate file ids and derive the keys.

A file_id is one participant's recording of one interaction:
``V<vv>_S<ssss>_I<iiiiiiii>_P<pppp>[A]``. The participant keeps its letter
suffix (the upstream regex ``P(\\d+)`` drops it). Every key stays text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import InvalidId

FILE_ID_RE = re.compile(r"^(V\d{2})_S(\d{4})_I(\d{8})_P(\d{4}[A-Z]?)$")
LABELS = ("improvised", "naturalistic")
SPLITS = ("train", "dev", "test")
EXTENSIONS = ("json", "mp4", "npz", "wav")


class FileId(NamedTuple):
    file_id: str
    vendor: str  # "V00"
    session: str  # "0809"
    prompt_hash: str  # "00000582"
    participant: str  # "0947" or "0299A"

    @property
    def session_key(self) -> str:
        return f"{self.vendor}_S{self.session}"

    @property
    def interaction_key(self) -> str:
        return f"{self.vendor}_S{self.session}_I{self.prompt_hash}"


def parse_file_id(value: str) -> FileId:
    """Split a file_id into its parts; raise :class:`InvalidId` when it does not parse."""
    m = FILE_ID_RE.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidId(value)
    return FileId(value, *m.groups())


def is_file_id(value: str) -> bool:
    return isinstance(value, str) and FILE_ID_RE.match(value) is not None


def archive_path(label: str, split: str, batch_idx: int, archive_idx: int) -> str:
    """Relative path of a Hub tar: ``improvised/dev/0000/0003.tar``."""
    return f"{label}/{split}/{batch_idx:04d}/{archive_idx:04d}.tar"
