"""S3 for tests: moto's ``ThreadedMotoServer`` on 127.0.0.1 (a free port), boto3 by endpoint URL.

``s3_server`` is the running server (one per session); ``make_s3_bucket(root, groups)`` creates a
fresh bucket and uploads a folder in the per-file (CDN) layout to it. By default only the
``metadata`` and ``annotations`` groups are uploaded, which is what the per-file ingest reads:
the generated media (hundreds of MB) would only slow moto's in-memory store down.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_names = itertools.count()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch, no_external_network: None) -> str:
    """Fake credentials in the environment (boto3 reads them); returns the endpoint URL."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    return s3_server


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def make_s3_bucket(s3_env: str) -> Callable[..., str]:
    """``make_s3_bucket(root, groups=("metadata", "annotations"), prefix="")`` uploads the
    per-file layout under ``root`` to a new bucket; returns ``s3://BUCKET[/PREFIX]``."""

    def make(
        root: Path, groups: tuple[str, ...] = ("metadata", "annotations"), prefix: str = ""
    ) -> str:
        client = s3_client(s3_env)
        bucket = f"seamless-{next(_names)}"
        client.create_bucket(Bucket=bucket)
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            parts = rel.split("/")
            if len(parts) > 3 and parts[2] in groups:
                key = f"{prefix}/{rel}" if prefix else rel
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"

    return make
