"""S3 for tests: moto's ``ThreadedMotoServer`` on 127.0.0.1 (a free port), boto3 by endpoint URL.

``start_server`` runs one; ``upload_per_file(endpoint, root, groups)`` creates a fresh bucket and
uploads a folder in the per-file (CDN) layout to it. By default only the ``metadata`` and
``annotations`` groups are uploaded, which is what the per-file ingest reads: the generated media
(hundreds of MB) would only slow moto's in-memory store down. The fixtures (``s3_server``,
``s3_env``, ``make_s3_bucket``) are in ``tests.fakes.fixtures``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_names = itertools.count()


def start_server():
    """A started moto S3 server on 127.0.0.1 and its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def s3_client(endpoint: str):
    import boto3

    # a fresh session: boto3's default one keeps the first credentials it read (moto's), and
    # s3rver checks signatures made with its own
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")


def upload_per_file(
    endpoint: str,
    root: Path,
    groups: tuple[str, ...] = ("metadata", "annotations"),
    prefix: str = "",
) -> str:
    """Upload the per-file layout under ``root`` to a new bucket; return ``s3://BUCKET[/PREFIX]``."""
    client = s3_client(endpoint)
    bucket = f"seamless-{next(_names)}"
    client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if len(parts) > 3 and parts[2] in groups:
            key = f"{prefix}/{rel}" if prefix else rel
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
