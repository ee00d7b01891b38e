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
