"""Every exception the package raises on purpose, under one base.

Each message says what went wrong and what to do about it. The CLI maps these
to exit codes and one-line messages in ``cli.py``; set ``SEAMLESS_CATALOG_DEBUG=1``
to see the traceback instead.
"""

from __future__ import annotations


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


class InvalidId(CatalogError, ValueError):
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
            f"changed while being read (ETag {before} -> {after})",
            "the source was updated; run the command again to read the new version",
        )
        self.before = before
        self.after = after
