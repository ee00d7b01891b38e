"""Every exception the package raises on purpose, under one base.

Each message says what went wrong and what to do about it. The CLI maps these
to exit codes and one-line messages in ``cli/boundary.py``; set ``SEAMLESS_CATALOG_DEBUG=1``
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


class MissingDependency(UsageError, ImportError):
    """A feature needs a package that is not installed; the message says how to install it."""

    def __init__(self, feature: str, module: str, install: str) -> None:
        super().__init__(f"{feature} needs {module}, which is not installed: {install}")
        self.feature = feature
        self.module = module


class ExtraMissing(MissingDependency):
    """An optional part of the package is needed and its extra is not installed."""

    def __init__(self, what: str, extra: str, module: str) -> None:
        super().__init__(what, module, f"pip install 'seamless-catalog[{extra}]'")
        self.extra = extra


class CatalogNotFound(CatalogError, FileNotFoundError):
    """The folder given as ``--catalog`` holds no catalog: a usage error (exit status 2)."""

    exit_code = 2

    def __init__(self, path: object) -> None:
        super().__init__(
            f"no catalog at {path}: run `seamless-catalog ingest --catalog {path}` "
            "(or `seamless-catalog quickstart --catalog DIR`) to create one"
        )


class IngestInterrupted(CatalogNotFound):
    """No snapshot yet, but a first ingest was interrupted: its staged rows wait to resume."""

    def __init__(self, path: object, batches: int, command: dict) -> None:
        import shlex

        args = ["seamless-catalog", "ingest", "--catalog", str(path)]
        for option in ("filelist", "assets"):
            if command.get(option):
                args += [f"--{option}", str(command[option])]
        args += [str(s) for s in command.get("sources", [])]
        how = shlex.join(args) if command else "the same `seamless-catalog ingest` command"
        CatalogError.__init__(
            self,
            f"no catalog at {path} yet: its first ingest was interrupted before it committed "
            f"({batches} batch(es) of parsed rows are staged in {path}/staging); resume it: "
            f"{how}",
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
        super().__init__(f"{what} {value!r} does not parse: expected {KEY_FORMATS['file_id']}")


KEY_FORMATS = {  # how each kind of selection key is spelled, for messages
    "file_id": "V<vv>_S<ssss>_I<iiiiiiii>_P<pppp>[A-Z]",
    "interaction_key": "V<vv>_S<ssss>_I<iiiiiiii>",
    "session_key": "V<vv>_S<ssss>",
}


class SelectionNotFound(UsageError, FileNotFoundError):
    def __init__(self, path: object) -> None:
        super().__init__(f"--selection {path}: no such file: check the path")


class EmptySelection(UsageError):
    """A selection that names nothing: a run would only write an empty receipt."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"the selection is empty: {what}; nothing to do: check it (the SQL's WHERE clause, "
            "the file's rows) and run again"
        )


class MalformedKeys(UsageError):
    """Keys of a selection that are not ids at all (a garbage line, a path, a typo): every one
    is named, and nothing runs until they are fixed."""

    def __init__(self, column: str, values: list[str]) -> None:
        shown = ", ".join(repr(v) for v in values)
        super().__init__(
            f"{len(values)} {column} value(s) of the selection do not parse: {shown}; expected "
            f"{KEY_FORMATS.get(column, column)}: fix or remove them and run again"
        )
        self.column = column
        self.values = values


class ViewDefinitionError(CatalogError):
    """A file in sql/ failed to load; the message names the file and line."""


class QueryError(CatalogError):
    """User SQL failed while it ran; the message carries DuckDB's explanation."""


class BadQuery(QueryError):
    """User SQL that cannot run as written: it does not parse, or names a table, view or column
    the catalog lacks. A usage error (exit status 2): the SQL has to change."""

    exit_code = 2


class UnsafeQuery(BadQuery):
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


class PortInUse(UsageError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is in use (another dashboard, or another server): choose a "
            f"free one with --port, e.g. --port {port + 1}"
        )


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
        "ENOENT": "its folder does not exist: create it (or choose another one)",
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
        for code in ("ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "ENOENT"):
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
