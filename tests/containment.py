"""Containment: nothing outside the destination (or the catalog being written) changes.

``Contained`` records, before a scenario, a digest of a sentinel directory beside the
destination and the catalog, of everything else under the test's ``tmp_path``, of the source
release and the shared catalog (by size and mtime: they are large), and of an empty working
directory; ``check()`` asserts they are all as they were. Tests listed in ``CONTAINED`` get a
wide check automatically (see ``conftest.py``); tests of the fault matrix use it directly.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

# existing tests wrapped by conftest.py (anything may change under their own tmp_path)
CONTAINED = (
    "tests/integration/test_materialize.py::",
    "tests/integration/test_atomic.py::test_kill_9",
    "tests/integration/test_bad_inputs.py::",
    "tests/integration/test_cli.py::",
)


def tree_digest(root: Path, *, content: bool, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 (``content``) or size:mtime; symlinks by target, dirs too.

    One ``lstat`` per entry, and paths resolved only when there is something to skip: every
    contained test digests the release (a thousand files) twice."""
    out: dict[str, str] = {}
    if not root.exists():
        return out
    skip_resolved = {p.resolve() for p in skip}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if skip_resolved:
            dirnames[:] = [d for d in dirnames if (here / d).resolve() not in skip_resolved]
        for name in dirnames + filenames:
            p = here / name
            if skip_resolved and p.resolve() in skip_resolved:
                continue
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "-> " + os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = "dir"
            elif content:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


def make_sentinel(path: Path) -> Path:
    """A few files a stray write would most likely hit: same names as outputs, a receipt dir."""
    (path / "improvised" / "dev").mkdir(parents=True, exist_ok=True)
    (path / "keep.txt").write_text("sentinel\n")
    (path / "improvised" / "dev" / "V00_S0000_I00000000_P0000.wav").write_bytes(b"\0" * 64)
    (path / ".seamless-catalog").mkdir(exist_ok=True)
    (path / "manifest.json").write_text("{}")
    return path


class Contained:
    """Digests of everything outside ``allowed``; ``check()`` compares them with now."""

    def __init__(self, tmp: Path, allowed: list[Path], shared: list[Path], cwd: Path) -> None:
        self.tmp, self.allowed, self.shared, self.cwd = tmp, list(allowed), list(shared), cwd
        self.sentinel = make_sentinel(tmp / "sentinel")
        self.before = self._digest()

    def _digest(self) -> dict[str, dict[str, str]]:
        d = {"tmp": tree_digest(self.tmp, content=True, skip=tuple(self.allowed))}
        for p in self.shared:
            d[str(p)] = tree_digest(p, content=False)
        d["cwd"] = tree_digest(self.cwd, content=True)
        return d

    def check(self) -> None:
        after = self._digest()
        for where, was in self.before.items():
            now = after[where]
            added = sorted(set(now) - set(was))
            removed = sorted(set(was) - set(now))
            changed = sorted(k for k in set(was) & set(now) if was[k] != now[k])
            assert not (added or removed or changed), (
                f"outside the destination, under {where}: created {added[:5]}, "
                f"removed {removed[:5]}, changed {changed[:5]}"
            )
