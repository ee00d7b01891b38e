"""A server we did not write, run as a child process on 127.0.0.1: a free port, a bounded wait
until it listens (its output quoted when it dies first), and a stop that always reaps it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time


def executable(*candidates: str | None) -> str | None:
    """The first candidate path that is an executable file; a bare name is looked up on PATH.
    ``None`` candidates (an unset environment variable) are passed over."""
    for candidate in candidates:
        path = shutil.which(candidate) if candidate and os.sep not in candidate else candidate
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """Subclasses start ``self.proc`` in ``start()`` and call :meth:`wait_listening`."""

    name = "server"
    proc: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        raise NotImplementedError

    def output(self) -> str:
        """What the process said before it died (its stderr pipe, unless it logs elsewhere)."""
        return self.proc.stderr.read().decode() if self.proc and self.proc.stderr else ""

    def wait_listening(self, ports: tuple[int, ...], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for port in ports:
            while True:
                if self.proc.poll() is not None:
                    code, said = self.proc.returncode, self.output()[-2000:]
                    raise RuntimeError(f"{self.name} exited with {code}: {said}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(
                            f"{self.name} did not listen on {port} in time"
                        ) from None
                    time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
