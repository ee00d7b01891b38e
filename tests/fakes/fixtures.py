"""The pytest fixtures of the fakes, registered once by ``tests/conftest.py``.

Isolation (``no_external_network``, ``hf_isolated``, ``hf_backoff_sleeps``), the Hub
(``hub_repo``, ``make_hub_server``, ``hub_server``), the per-file CDN (``make_cdn_server``) and
S3 (``s3_server``, ``s3_env``, ``make_s3_bucket``), nginx as the CDN (``nginx_certificate``,
``make_nginx``) s3rver beside moto (``s3rver``) and olah as a Hub
mirror (``olah_hub``).
"""

from __future__ import annotations

import importlib
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from . import nginx, olah, s3
from .cdn import CdnServer
from .hub import HubServer
from .repo import write_hub_repo
from .s3rver import CREDENTIALS as S3RVER_CREDENTIALS
from .s3rver import MISSING, S3rver, s3rver_binary

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def no_external_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to resolve or connect to a non-loopback address."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in _LOOPBACK:
            raise OSError(f"network access to {host!r} is disabled in tests")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in _LOOPBACK:
            raise OSError(f"network access to {address!r} is disabled in tests")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def hf_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_external_network: None) -> Path:
    """Point ``huggingface_hub`` at a temporary home, online, without telemetry, token or Xet.

    ``huggingface_hub.constants`` reads the environment once at import, so the module attributes
    are patched as well as the variables. ``HF_ENDPOINT`` cannot be changed after import: always
    pass ``endpoint=`` explicitly. Returns the temporary ``HF_HOME``.
    """
    from huggingface_hub import constants

    home = tmp_path / "hf_home"
    home.mkdir()
    paths = {
        "HF_HOME": home,
        "HF_HUB_CACHE": home / "hub",
        "HF_ASSETS_CACHE": home / "assets",
        "HF_XET_CACHE": home / "xet",
        "HF_TOKEN_PATH": home / "token",
        "HF_STORED_TOKENS_PATH": home / "stored_tokens",
    }
    flags = {"HF_HUB_OFFLINE": False, "HF_HUB_DISABLE_TELEMETRY": True, "HF_HUB_DISABLE_XET": True}
    for name, path in paths.items():
        monkeypatch.setenv(name, str(path))
        monkeypatch.setattr(constants, name, str(path))
    for name, flag in flags.items():
        monkeypatch.setenv(name, "1" if flag else "0")
        monkeypatch.setattr(constants, name, flag)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def hf_backoff_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make ``huggingface_hub`` retry waits instant; return the list of requested sleeps."""
    sleeps: list[float] = []
    fake_time = SimpleNamespace(sleep=sleeps.append, time=time.time, monotonic=time.monotonic)
    for module in ("huggingface_hub.utils._http", "huggingface_hub.file_download"):
        monkeypatch.setattr(importlib.import_module(module), "time", fake_time)
    return sleeps


@pytest.fixture(scope="session")
def hub_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A miniature dataset repo folder (see ``write_hub_repo``), built once per session."""
    root = tmp_path_factory.mktemp("hub_repo")
    write_hub_repo(root)
    return root


@pytest.fixture
def make_hub_server(hub_repo: Path, hf_isolated: Path) -> Iterator[Callable[..., HubServer]]:
    """Factory of started servers: ``make_hub_server(root=hub_repo, **HubServer kwargs)``.

    Every server made is stopped at teardown (its connections closed: the client's pool drops them).
    """
    servers: list[HubServer] = []

    def make(root: Path | None = None, **kwargs: Any) -> HubServer:
        server = HubServer(hub_repo if root is None else root, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def hub_server(make_hub_server: Callable[..., HubServer]) -> HubServer:
    """A started ``HubServer`` over ``hub_repo``, 10 tree entries per page (5 with expand)."""
    return make_hub_server(page_size=10, expand_page_size=5)


@pytest.fixture
def make_cdn_server(no_external_network: None) -> Iterator[Callable[[Path], CdnServer]]:
    """Factory of started servers over a folder: ``make_cdn_server(root)``."""
    servers: list[CdnServer] = []

    def make(root: Path) -> CdnServer:
        server = CdnServer(root).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server on 127.0.0.1."""
    server, endpoint = s3.start_server()
    yield endpoint
    server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch, no_external_network: None) -> str:
    """Fake credentials in the environment (boto3 reads them); returns the endpoint URL."""
    for name, value in s3.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    return s3_server


@pytest.fixture
def make_s3_bucket(s3_env: str) -> Callable[..., str]:
    """``make_s3_bucket(root, groups=("metadata", "annotations"), prefix="")`` uploads the
    per-file layout under ``root`` to a new bucket; returns ``s3://BUCKET[/PREFIX]``."""

    def make(
        root: Path, groups: tuple[str, ...] = ("metadata", "annotations"), prefix: str = ""
    ) -> str:
        return s3.upload_per_file(s3_env, root, groups, prefix)

    return make


@pytest.fixture(scope="session")
def nginx_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed (cert.pem, key.pem) for 127.0.0.1, made once; skips without nginx."""
    reason = nginx.nginx_available()
    if reason:
        pytest.skip(reason)
    return nginx.make_certificate(tmp_path_factory.mktemp("nginx_tls"))


@pytest.fixture
def make_nginx(
    nginx_certificate: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    no_external_network: None,
) -> Iterator[Callable[[Path], nginx.NginxServer]]:
    """Factory of started nginx servers over a folder: ``make_nginx(root)`` (HTTP and HTTPS).

    ``SSL_CERT_FILE`` names the test certificate, so clients in this process and in
    subprocesses trust ``.https``; every server is stopped at teardown.
    """
    cert, key = nginx_certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    servers: list[nginx.NginxServer] = []

    def make(root: Path) -> nginx.NginxServer:
        server = nginx.NginxServer(root, tmp_path_factory.mktemp("nginx"), cert, key).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def s3rver_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3rver]:
    if s3rver_binary() is None:
        pytest.skip(MISSING)
    with S3rver(tmp_path_factory.mktemp("s3rver")) as server:
        yield server


@pytest.fixture
def s3rver(
    s3rver_server: S3rver, monkeypatch: pytest.MonkeyPatch, no_external_network: None
) -> str:
    """The endpoint URL of an s3rver on 127.0.0.1, its credentials in the environment."""
    for name, value in S3RVER_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    return s3rver_server.endpoint


@pytest.fixture(scope="session")
def olah_hub(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[olah.Olah]:
    """olah serving the release's Hub tree as facebook/seamless-interaction (offline)."""
    reason = olah.olah_missing()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("olah")
    with olah.Olah(release / "hf", state, "facebook/seamless-interaction") as server:
        yield server
