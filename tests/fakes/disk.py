"""Disks that fail for real: a small tmpfs (no space left) and a read-only folder, for the
tests of disk faults and of the CLI's errors."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    if not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)):
        pytest.skip("cannot mount a tmpfs here (needs root); the simulated cases still run")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only(path: Path):
    """``path`` read-only: a read-only bind mount as root (chmod binds nobody), else chmod."""
    if os.geteuid() == 0:
        if not _mount("--bind", str(path), str(path)):
            pytest.skip("cannot bind-mount here")
        if not _mount("-o", "remount,bind,ro", str(path)):
            subprocess.run(["umount", "-l", str(path)], check=False)
            pytest.skip("cannot remount read-only here")
        try:
            yield path
        finally:
            subprocess.run(["umount", "-l", str(path)], check=False)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(mode)
