"""What the destination already holds: verified files, resumable temp files, merged outputs'
sidecars (all under the target folder; the plan itself never looks here)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from ..planning.items import MERGED, Item

STATE_DIR = ".seamless-catalog"


def temp_prefix(dest: Path) -> str:
    return f".{dest.name}."


def temp_files(dest: Path, version: str = "") -> list[Path]:
    """Temp files an earlier run left for ``dest`` (``.{name}.{version}-{random}.part``), those
    of ``version`` only when given, largest first."""
    folder = dest.parent
    if not folder.is_dir():
        return []
    prefix = temp_prefix(dest) + (f"{version}-" if version else "")
    found = [p for p in folder.iterdir() if p.name.startswith(prefix) and p.suffix == ".part"]
    return sorted(found, key=lambda p: p.stat().st_size, reverse=True)


def sidecar(to: Path, item: Item) -> Path:
    """Where the facts of a merged output are kept (its size, sha256 and inputs)."""
    return to / STATE_DIR / "merged" / f"{item.dest}.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_present(to: Path, item: Item) -> None:
    """Mark ``item`` present when its file is on disk and verified; note resumable bytes."""
    dest = to / item.dest
    if item.kind in MERGED:
        try:
            facts = json.loads(sidecar(to, item).read_text())
            ok = (
                dest.stat().st_size == facts["size"]
                and facts["fingerprint"] == item.fingerprint
                and sha256_file(dest) == facts["sha256"]
            )
        except (OSError, ValueError, KeyError):
            ok = False
        if ok:
            item.state, item.size, item.sha256 = "present", facts["size"], facts["sha256"]
        return
    try:
        size = dest.stat().st_size
    except OSError:
        size = -1
    if size == item.size and (item.sha256 is None or sha256_file(dest) == item.sha256):
        item.state = "present"
        return
    temps = temp_files(dest, item.version)
    if temps and item.size is not None and temps[0].stat().st_size <= item.size:
        item.partial = temps[0].stat().st_size


def clear_stale_temps(to: Path, item: Item) -> None:
    """Remove temp files of ``item`` that will not be resumed."""
    temps = temp_files(to / item.dest)
    ours = temp_files(to / item.dest, item.version)
    keep = ours[0] if item.partial and ours else None
    for t in temps:
        if t != keep:
            with contextlib.suppress(FileNotFoundError):
                os.remove(t)
