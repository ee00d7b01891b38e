"""olah (PyPI, a self-hosted Hub mirror we did not write) serving a local git repo, offline.

What it does differently from the Hub and from our Hub server: resolve ``HEAD`` answers ``200``
(no ``302``, no ``X-Linked-*``), ``Range`` is ignored (``200`` with the whole file), and a
missing file is ``401 RepoNotFound``. The repo is a git repository under
``mirrors-path/datasets/ORG/NAME`` (files committed as plain blobs), the config file says
``[accessibility] offline = true`` so nothing is asked of huggingface.co.

olah pins many packages of its own (fastapi, pydantic, GitPython...), so it lives in its own
virtualenv: ``scripts/test_extras.sh`` installs it into ``.servers/olah/``; the binary is found
there, through ``$SEAMLESS_CATALOG_OLAH``, or on ``PATH``. The fixture, ``olah_hub``, is in
``tests.fakes.fixtures``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .process import ServerProcess, executable, free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
MISSING = "olah is not installed (scripts/test_extras.sh installs it into .servers/olah/)"


def olah_binary() -> str | None:
    return executable(
        os.environ.get("SEAMLESS_CATALOG_OLAH"),
        str(ROOT / ".servers" / "olah" / "bin" / "olah-cli"),
        "olah-cli",
    )


def olah_missing() -> str | None:
    if olah_binary() is None:
        return MISSING
    if shutil.which("git") is None:
        return "git is not installed (olah serves git repositories)"
    return None


def git_repo(source: Path, dest: Path) -> Path:
    """``source``'s files committed into a new git repository at ``dest``."""
    shutil.copytree(source, dest)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "release"]):
        subprocess.run(["git", *argv], cwd=dest, env=env, check=True, timeout=60)
    return dest


class Olah(ServerProcess):
    """olah over the dataset repo ``repo_id`` made from ``source``, at ``.endpoint``."""

    name = "olah"

    def __init__(self, source: Path, state: Path, repo_id: str) -> None:
        self.state = Path(state)
        self.port = free_port()
        git_repo(source, self.state / "mirrors" / "datasets" / repo_id)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return (self.state / "olah.log").read_text(errors="replace")

    def start(self) -> Olah:
        (self.state / "repos").mkdir(parents=True, exist_ok=True)
        conf = self.state / "olah.toml"
        conf.write_text(
            "[basic]\n"
            'host = "127.0.0.1"\n'
            f"port = {self.port}\n"
            f'repos-path = "{self.state / "repos"}"\n'
            f'mirrors-path = ["{self.state / "mirrors"}"]\n'
            'hf-scheme = "http"\n'
            'hf-netloc = "127.0.0.1:9"\n'  # never asked (offline); the discard port if it were
            'hf-lfs-netloc = "127.0.0.1:9"\n'
            "[accessibility]\n"
            "offline = true\n"
        )
        log = (self.state / "olah.log").open("wb")
        self.proc = subprocess.Popen(
            [olah_binary() or "olah-cli", "-c", str(conf)],
            cwd=self.state,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_listening((self.port,), START_TIMEOUT_S)
        return self
