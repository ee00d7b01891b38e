"""Every exception the package raises on purpose, under one base.

Each message says what went wrong and what to do about it. The CLI maps these
to exit codes and one-line messages in ``cli.py``; set ``SEAMLESS_CATALOG_DEBUG=1``
to see the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator


class CatalogError(Exception):
    """Base of all seamless_catalog errors. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(CatalogError, ValueError):
    """The caller asked for something that cannot be done as asked."""

    exit_code = 2


class CatalogNotFound(CatalogError, FileNotFoundError):
    def __init__(self, path: object) -> None:
        super().__init__(
            f"no catalog at {path}: run `seamless-catalog ingest --catalog {path}` "
            "(or `seamless-catalog quickstart --catalog DIR`) to create one"
        )


class SourceNotFound(CatalogError, FileNotFoundError):
    def __init__(self, source: object, hint: str = "check the path or URL") -> None:
        super().__init__(f"source not found: {source}: {hint}")


class SourceFormatError(CatalogError, ValueError):
    """A source as a whole cannot be read (wrong header, not a tar...)."""

    def __init__(self, source: object, reason: str) -> None:
        super().__init__(f"cannot read {source}: {reason}")
        self.source = source
        self.reason = reason


class BadRecord(CatalogError, ValueError):
    """One record of a source (a CSV row, a JSON element) is not what the release holds.

    Never raised out of an ingest: the parser quarantines the record in ``ingest_issues``
    with its file, line and this message, and keeps everything valid."""


class InvalidId(BadRecord):
    def __init__(self, value: object, what: str = "file_id") -> None:
        super().__init__(
            f"{what} {value!r} does not parse: expected V<vv>_S<ssss>_I<iiiiiiii>_P<pppp>[A-Z]"
        )


class ViewDefinitionError(CatalogError):
    """A file in sql/ failed to load; the message names the file and line."""


class QueryError(CatalogError):
    """User SQL failed; the message carries DuckDB's explanation."""


class UnsafeQuery(QueryError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"refused: {reason}: only SELECT (or EXPLAIN of a SELECT) statements run here, one "
            "at a time, and they only read the catalog; open catalog.duckdb in DuckDB to do more"
        )


class NotPortable(CatalogError, ValueError):
    """A table file breaks the portable profile (``seamless_catalog.store.portable``)."""

    def __init__(self, path: object, problems: list[str]) -> None:
        super().__init__(
            f"{path} is not portable ({'; '.join(problems)}): it was not written by this "
            "version of seamless-catalog; rebuild the catalog in a new folder with "
            "`seamless-catalog ingest`"
        )
        self.problems = problems


class CatalogLocked(CatalogError):
    def __init__(self, path: object) -> None:
        super().__init__(
            f"another ingest is writing {path}: wait for it to finish "
            "(if none is running, the lock is stale and is taken over automatically)"
        )


class MediaFormatError(CatalogError, ValueError):
    """One media file (wav, mp4, npz) is not what its name says or cannot be parsed.

    Raised by ``probes``; the ingest quarantines the record and keeps going.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(
            f"not a readable {kind} file: {reason} "
            f"(check that the file is complete and really {kind} data; re-download it if not)"
        )
        self.kind = kind
        self.reason = reason


class RemoteError(CatalogError, OSError):
    """A transfer from a remote store failed after its retries (network, server, rate limit).

    The ingest keeps going and retries the unit on the next run; nothing half-read is kept.
    """

    def __init__(self, what: object, reason: str, hint: str = "") -> None:
        hint = hint or "check the network and the endpoint, then run the command again"
        super().__init__(f"{what}: {reason}: {hint}")
        self.what = what
        self.reason = reason


class RemoteUnavailable(RemoteError):
    """Retries (or the client's retry budget) ran out, or the server asked to wait too long."""


class RemoteUntrusted(RemoteError):
    """The server's TLS certificate is not trusted: retrying cannot help."""

    def __init__(self, what: object, reason: str) -> None:
        super().__init__(
            what,
            f"TLS certificate not trusted ({reason})",
            "if the server is yours, set SSL_CERT_FILE to the file of the CA that signed it",
        )


class RemoteAccessDenied(RemoteError):
    """The server refuses us this repository (gated, or a token it does not accept): retrying
    without doing what the message says cannot help."""


class RemoteIntegrityError(RemoteError):
    """The server answered with bytes other than those asked for (a wrong ``Content-Range``,
    a body of the wrong length, a ``Range`` it would not honour). Nothing was kept."""

    def __init__(self, what: object, reason: str) -> None:
        super().__init__(
            what, reason, "the server or a proxy on the way mangles ranged reads; try again later"
        )


class ObjectChanged(RemoteIntegrityError):
    """The object's version (ETag) changed between two requests: its parts were not spliced."""

    def __init__(self, what: object, before: str | None, after: str | None) -> None:
        RemoteError.__init__(
            self,
            what,
            f"changed while being read (ETag {before or 'unknown'} -> {after or 'unknown'})",
            "the source was updated; run the command again to read the new version",
        )
        self.before = before
        self.after = after


class RangeNotSupported(RemoteIntegrityError):
    """The server answers ranged reads with the whole object (it ignores ``Range``) and the
    object is too large to read whole: it will not honour Range on another try either."""

    def __init__(self, what: object, reason: str) -> None:
        RemoteError.__init__(
            self,
            what,
            f"the server does not support ranged reads ({reason})",
            "serve the files from a server that honours Range (or use a local copy); "
            "running again will not help",
        )


class SampleUnavailable(CatalogError):
    """A selected sample (or one of its modalities) could not be read from where it was asked."""

    def __init__(self, file_id: str, reason: str, hint: str = "") -> None:
        hint = hint or "check --source (or the materialized folder) and run again"
        super().__init__(f"{file_id}: {reason}: {hint}")
        self.file_id = file_id
        self.reason = reason


class DiskError(CatalogError, OSError):
    """A local file could not be written (no space left, read-only, permission denied).

    Whatever the failed step had written is removed; the catalog (or the files already
    delivered) are as they were before it."""

    HINTS = {
        "ENOSPC": "free some space on that disk (or choose another folder), then run the "
        "command again",
        "EDQUOT": "free some of your disk quota (or choose another folder), then run again",
        "EROFS": "that file system is read-only: choose a writable folder",
        "EACCES": "check the permissions of that folder (or choose another one)",
        "EPERM": "check the permissions of that folder (or choose another one)",
    }

    def __init__(self, path: object, reason: str, code: str = "") -> None:
        hint = self.HINTS.get(code, "check that folder and run the command again")
        super().__init__(f"cannot write {path}: {reason}: {hint}")
        self.path = path
        self.reason = reason
        self.code = code

    @classmethod
    def from_exception(cls, path: object, e: BaseException) -> DiskError | None:
        """The DiskError an OSError (or a DuckDB I/O error naming one) stands for, else None."""
        if isinstance(e, DiskError):
            return e
        if isinstance(e, OSError) and e.errno is not None:
            code = errno.errorcode.get(e.errno, "")
            where = e.filename if e.filename is not None else path
            return cls(where, e.strerror or str(e), code)
        text = str(e)
        for code in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM"):
            if os.strerror(getattr(errno, code)) in text:
                return cls(path, text.split("\n")[0], code)
        return None


@contextlib.contextmanager
def disk_errors(path: object) -> Iterator[None]:
    """Turn an OSError of a local write into a :class:`DiskError` that names ``path``."""
    try:
        yield
    except OSError as e:
        disk = None if isinstance(e, CatalogError) else DiskError.from_exception(path, e)
        if disk is None:
            raise
        raise disk from e
