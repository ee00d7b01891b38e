"""s3rver (npm ``s3rver@3.7.1``, a server we did not write) beside moto for the S3 path.

It checks signatures (credentials ``S3RVER``/``S3RVER``) and, unlike moto and S3, ignores
``If-Match`` on ``GetObject``: version pinning must not lean on the server honouring it.
``scripts/test_extras.sh`` installs it into ``.servers/`` at the repo root (``npm``); the binary
is found there, through ``$SEAMLESS_CATALOG_S3RVER``, or on ``PATH``; ``s3rver_binary()`` is None
(the tests skip, saying so) otherwise. Started on a free loopback port with bounded waits; the
fixture, ``s3rver``, is in ``tests.fakes.fixtures``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .process import ServerProcess, executable, free_port

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "S3RVER",
    "AWS_SECRET_ACCESS_KEY": "S3RVER",
    "AWS_DEFAULT_REGION": "us-east-1",
}
START_TIMEOUT_S = 20.0
MISSING = "s3rver is not installed (scripts/test_extras.sh runs npm install s3rver@3.7.1)"


def s3rver_binary() -> str | None:
    return executable(
        os.environ.get("SEAMLESS_CATALOG_S3RVER"),
        str(ROOT / ".servers" / "node_modules" / ".bin" / "s3rver"),
        "s3rver",
    )


class S3rver(ServerProcess):
    """One s3rver process over ``directory``, at ``.endpoint``; start()/stop() or ``with``."""

    name = "s3rver"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.port = free_port()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3rver:
        binary = s3rver_binary()
        if binary is None:
            raise RuntimeError(MISSING)
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"}
        argv = [binary, "-d", str(self.directory), "-a", "127.0.0.1", "-p", str(self.port), "-s"]
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.wait_listening((self.port,), START_TIMEOUT_S)
        return self
