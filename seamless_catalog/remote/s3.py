"""The per-file copy on S3 (or any S3-compatible store): ``s3://BUCKET/PREFIX``.

boto3 reads the usual AWS variables and files; ``AWS_ENDPOINT_URL`` (from Settings) points
it elsewhere. Without credentials requests go unsigned (public buckets). Reads are ranged
``GetObject`` calls pinned with ``IfMatch`` to the first version seen, and each response's
``ETag`` and ``Content-Range`` are checked against that version too (s3rver ignores ``IfMatch``),
so two versions are never spliced; a body cut short is resumed from where it stopped. 403/404
mean absent.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import BinaryIO

from ..config import Settings
from ..errors import (
    ObjectChanged,
    RemoteError,
    RemoteIntegrityError,
    RemoteUnavailable,
    SourceNotFound,
    UsageError,
)
from .base import ObjectInfo, ReaderBackedStore
from .http import CHUNK, TOTAL, RetryPolicy, Traffic, sleep

ABSENT = {"403", "404", "NoSuchKey", "AccessDenied", "NotFound", "Forbidden"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(f"{uri}: expected s3://BUCKET[/PREFIX]")
    return bucket, prefix.strip("/")


def _client(settings: Settings):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    session = boto3.session.Session()
    config = Config(
        retries={"max_attempts": 6, "mode": "standard"},
        max_pool_connections=16,
        connect_timeout=10,
        read_timeout=60,
    )
    if session.get_credentials() is None:
        config = config.merge(Config(signature_version=UNSIGNED))
    return session.client("s3", endpoint_url=settings.aws_endpoint_url, config=config)


def _code(e: Exception) -> str:
    err = getattr(e, "response", {}).get("Error", {})
    return str(
        err.get("Code")
        or getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )


class S3Store(ReaderBackedStore):
    def __init__(self, uri: str, settings: Settings, client=None) -> None:
        self.uri = uri
        self.bucket, self.prefix = parse_s3_uri(uri)
        self.s3 = client or _client(settings)
        self.traffic = Traffic()
        self.policy = RetryPolicy()
        self._lock = threading.Lock()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _count(self, requests: int = 0, nbytes: int = 0, retries: int = 0) -> None:
        self.traffic.add(requests, nbytes, retries)
        TOTAL.add(requests, nbytes, retries)

    def _call(self, op: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        self._count(requests=1)
        try:
            return getattr(self.s3, op)(Bucket=self.bucket, **kwargs)
        except ClientError as e:
            code = _code(e)
            if code in ABSENT:
                raise FileNotFoundError(code) from None
            if code in ("412", "PreconditionFailed"):
                pinned = str(kwargs.get("IfMatch", "")).strip('"') or None
                where = f"s3://{self.bucket}/{kwargs.get('Key')}"
                raise ObjectChanged(where, pinned, self._current_etag(kwargs["Key"])) from None
            raise RemoteError(f"s3://{self.bucket}/{kwargs.get('Key', '')}", str(e)) from None
        except BotoCoreError as e:
            raise RemoteUnavailable(f"s3://{self.bucket}/{kwargs.get('Key', '')}", str(e)) from None

    def _current_etag(self, key: str) -> str | None:
        """The object's ETag now (for an error message: which version replaced ours)."""
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')
        except Exception:  # noqa: BLE001 - only a message is at stake; say "unknown"
            return None

    # -- ObjectStore -----------------------------------------------------------------------
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self._key(prefix.strip("/")) if prefix else self.prefix
        token = None
        cut = len(self.prefix) + 1 if self.prefix else 0
        while True:
            kwargs = {"Prefix": f"{base}/" if base else ""}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", **kwargs)
            for o in page.get("Contents", []):
                yield ObjectInfo(o["Key"][cut:], o["Size"], etag=o.get("ETag", "").strip('"'))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def info(self, key: str) -> ObjectInfo | None:
        try:
            h = self._call("head_object", Key=self._key(key))
        except FileNotFoundError:
            return None
        return ObjectInfo(key, h["ContentLength"], etag=h.get("ETag", "").strip('"') or None)

    def reader(self, key: str, info: ObjectInfo | None = None) -> _S3Object:
        info = info or self.info(key)
        if info is None:
            raise SourceNotFound(f"{self.uri}/{key}", "absent (HTTP 403/404)")
        return _S3Object(self, key, info.size, info.etag)

    def fetch(self, key: str) -> bytes | None:
        """The whole object in one GET, or None when absent (403/404)."""
        try:
            resp = self._call("get_object", Key=self._key(key))
        except FileNotFoundError:
            return None
        size, etag = resp["ContentLength"], resp.get("ETag", "").strip('"') or None
        buf = bytearray()
        self._drain(resp["Body"], size, buf.extend)
        if len(buf) < size:
            _S3Object(self, key, size, etag).fetch_into(len(buf), size - len(buf), buf.extend)
        return bytes(buf)

    def _drain(self, body, want: int, write) -> int:
        """Copy up to ``want`` bytes of a streaming body; stops quietly where it breaks."""
        from botocore.exceptions import BotoCoreError

        got = 0
        try:
            while got < want:
                chunk = body.read(min(CHUNK, want - got))
                if not chunk:
                    break
                self._count(nbytes=len(chunk))
                write(chunk)
                got += len(chunk)
        except (BotoCoreError, OSError, ValueError):
            pass
        finally:
            body.close()
        return got


class _S3Object:
    def __init__(self, store: S3Store, key: str, size: int, etag: str | None) -> None:
        self.store, self.key, self.size, self.etag = store, key, size, etag

    def fetch_into(self, offset: int, length: int, write) -> None:
        s = self.store
        done, failures = 0, 0
        while done < length:
            lo, hi = offset + done, offset + length - 1
            kwargs = {"Key": s._key(self.key), "Range": f"bytes={lo}-{hi}"}
            if self.etag:
                kwargs["IfMatch"] = f'"{self.etag}"'
            try:
                resp = s._call("get_object", **kwargs)
            except FileNotFoundError:
                raise SourceNotFound(f"{s.uri}/{self.key}", "it disappeared") from None
            self._check_version(resp, lo, hi)
            got = s._drain(resp["Body"], hi - lo + 1, write)
            done += got
            if done < length:
                if failures + 1 >= s.policy.attempts:
                    raise RemoteUnavailable(f"{s.uri}/{self.key}", "body kept breaking")
                s._count(retries=1)
                sleep(s.policy.backoff(failures))
                failures = 0 if got else failures + 1

    def _check_version(self, resp, lo: int, hi: int) -> None:
        """Every response is checked against the pinned version (ETag and size), not only by
        the server: some (s3rver) ignore ``If-Match`` and would splice two versions."""
        etag = (resp.get("ETag") or "").strip('"') or None
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", resp.get("ContentRange") or "")
        total = int(m.group(3)) if m else None
        if (self.etag and etag and etag != self.etag) or (total is not None and total != self.size):
            resp["Body"].close()
            where = f"{self.store.uri}/{self.key}"
            before, after = self.etag or f"{self.size} bytes", etag or f"{total} bytes"
            raise ObjectChanged(where, before, after)
        if not m or (int(m.group(1)), int(m.group(2))) != (lo, hi):
            resp["Body"].close()
            raise RemoteIntegrityError(
                f"{self.store.uri}/{self.key}",
                f"asked bytes {lo}-{hi}, got Content-Range {resp.get('ContentRange')!r}",
            )
        self.etag = self.etag or etag

    def read_at(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        buf = bytearray()
        if n:
            self.fetch_into(offset, n, buf.extend)
        return bytes(buf)

    def copy_range(self, offset: int, length: int, out: BinaryIO) -> int:
        self.fetch_into(offset, length, out.write)
        return length

    def close(self) -> None:
        pass
