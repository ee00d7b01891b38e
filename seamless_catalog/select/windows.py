"""Time windows as a selection: rows with ``file_id`` or ``interaction_key`` plus ``start_s``
and ``end_s`` (seconds from the start of the recording) become :class:`Window` s.

The rules, in the order they are checked for each row (1-based, in the order of the result):

* a row whose ``file_id`` is not null is a window of that file; a row whose ``file_id`` is
  null (or that has no such column) and whose ``interaction_key`` is not null is the same
  window on **every side** of that interaction (both files of a pair, over the same span);
* ``start_s`` and ``end_s`` must be numbers with ``end_s > start_s`` (before padding);
* the key must be a valid id that the catalog knows, and each file's ``duration_s`` (the
  ``files`` view: wav header, else mp4 mvhd, else npz frames / 30 Hz) must be known;
* the row's window must overlap the recording ``[0, duration_s]``; a window entirely outside
  it is invalid.

``pad`` widens every window by that many seconds on both sides; ``before``/``after`` set one
side each (they default to ``pad``). A padded window, or a row that runs past either end of
the recording, is **clipped** to ``[0, duration_s]``: the window covers what the recording
has, and keeps the span that was asked for (``requested_start_s``/``requested_end_s``) so a
clip can say what it covers. A row that fails a rule becomes an :class:`InvalidWindow` with
the reason; nothing is dropped silently. Two rows giving the same window of the same file
keep the first; the later row is reported as a duplicate (they would be one clip).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..layout import FileRef, is_file_id
from ..store.catalogdb import CatalogDB, check_read_only
from ..store.schema import quote_ident
from .selection import SELECTION_TABLE, load_file
from .shard import key_bucket, shard_of_hash, take_shard

KEY_COLUMNS = ("file_id", "interaction_key")  # a window's key, in the order they are tried
TIME_COLUMNS = ("start_s", "end_s")
_ROWS = (  # the numbered rows, as query parameters: no table registered on a connection that
    # an open result may hold (CatalogDB.sql then runs on another cursor)
    '(select unnest($row::bigint[]) as "row", unnest($by::varchar[]) as "by", '
    'unnest($key::varchar[]) as "key")'
)
_PLACE = (
    "label, split, batch_idx, archive_idx, has_imitator_movement, has_annotation_1p, "
    "has_annotation_3p, duration_s"
)


@dataclass(frozen=True)
class Window:
    """A span ``[start_s, end_s)`` of one file: what a clip holds.

    ``start_s``/``end_s`` are what the recording covers of the window that was asked for
    (``requested_start_s``/``requested_end_s``: the row's times widened by the padding),
    clipped to ``[0, duration_s]``."""

    ref: FileRef
    start_s: float
    end_s: float
    kind: str | None = None
    requested_start_s: float | None = None  # None: as start_s (nothing was clipped)
    requested_end_s: float | None = None
    row: int | None = None  # the selection row it came from (1-based)
    duration_s: float | None = None  # the recording's duration it was checked against

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise UsageError(f"window {self.start_s}..{self.end_s}: times must be finite")
        if self.start_s < 0 or self.end_ms <= self.start_ms:
            raise UsageError(
                f"window {self.start_s}..{self.end_s} s of {self.ref.file_id}: it must start "
                "at 0 or later and end at least 1 ms after it starts"
            )

    @property
    def file_id(self) -> str:
        return self.ref.file_id

    @property
    def interaction_key(self) -> str:
        return self.ref.interaction_key

    @property
    def start_ms(self) -> int:
        return round(self.start_s * 1000)

    @property
    def end_ms(self) -> int:
        return round(self.end_s * 1000)

    @property
    def duration(self) -> float:
        """Seconds the window covers."""
        return self.end_s - self.start_s

    @property
    def clipped(self) -> bool:
        """Whether the recording covers less than was asked for (padding or a row past an end)."""
        asked = (self.requested_start_s, self.requested_end_s)
        return asked != (None, None) and asked != (self.start_s, self.end_s)

    @property
    def stem(self) -> str:
        return f"{self.ref.file_id}_t{self.start_ms:07d}-{self.end_ms:07d}"

    def path(self, ext: str) -> str:
        """``{folder}/{file_id}_t{start_ms:07d}-{end_ms:07d}.{ext}``: the clip in a tree."""
        return f"{self.ref.folder}/{self.stem}.{ext}"

    @property
    def record(self) -> dict:
        """What the window covers, for a clip's ``clip`` record (times in seconds)."""
        requested = [
            self.start_s if self.requested_start_s is None else self.requested_start_s,
            self.end_s if self.requested_end_s is None else self.requested_end_s,
        ]
        return {
            "file_id": self.ref.file_id,
            "interaction_key": self.ref.interaction_key,
            "kind": self.kind,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "requested_start_s": requested[0],
            "requested_end_s": requested[1],
            "clipped": self.clipped,
            "recording_duration_s": self.duration_s,
            "selection_row": self.row,
        }


@dataclass(frozen=True)
class InvalidWindow:
    """A selection row that gives no window, and why."""

    row: int  # 1-based, in the order of the selection's rows
    key: str  # the file_id or interaction_key as given (a side's file_id when one side fails)
    start_s: float | None
    end_s: float | None
    reason: str


@dataclass(frozen=True)
class WindowSelection:
    windows: tuple[Window, ...]
    invalid: tuple[InvalidWindow, ...]

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def refs(self) -> tuple[FileRef, ...]:
        """The files the windows are of, each once, by file_id."""
        refs = {w.ref.file_id: w.ref for w in self.windows}
        return tuple(refs[k] for k in sorted(refs))


def _find(columns: Iterable[str], name: str) -> str | None:
    for c in columns:
        if c.lower() == name:
            return c
    return None


def has_windows(columns: list[str]) -> bool:
    """Whether a result with these columns selects windows: ``start_s`` and ``end_s`` plus
    ``file_id`` or ``interaction_key`` (names compared case-insensitively)."""
    return all(_find(columns, c) for c in TIME_COLUMNS) and any(
        _find(columns, c) for c in KEY_COLUMNS
    )


def selects_windows(cat: CatalogDB, sql: str | None, selection: str | Path | None) -> bool:
    """Whether ``sql``'s result (or a CSV/Parquet ``selection``'s columns) selects windows
    (:func:`has_windows`): then ``materialize`` makes clips instead of whole files."""
    if sql is not None:
        return has_windows(list(cat.query(sql).columns))
    if selection is None or Path(selection).suffix.lower() not in (".csv", ".parquet"):
        return False
    cat.sql(f"drop table if exists {SELECTION_TABLE}")
    try:
        load_file(cat, Path(selection))
        return has_windows([r[0] for r in cat.sql(f"describe {SELECTION_TABLE}").fetchall()])
    finally:
        cat.sql(f"drop table if exists {SELECTION_TABLE}")


def rows_sql(columns: list[str], source: str = SELECTION_TABLE) -> str:
    """The selection's rows as (file_id, interaction_key, start_s, end_s, kind, bad_start,
    bad_end): keys as text, times as DOUBLE (null when they are not numbers; ``bad_*`` holds
    the text that did not convert). Pure twin of what :func:`select_windows` reads."""
    file_col, key_col = (_find(columns, c) for c in KEY_COLUMNS)
    start, end = (quote_ident(_find(columns, c)) for c in TIME_COLUMNS)
    kind = _find(columns, "kind")

    def text(col: str | None) -> str:
        return f"cast({quote_ident(col)} as varchar)" if col else "cast(null as varchar)"

    def bad(col: str) -> str:
        return f"case when try_cast({col} as double) is null then cast({col} as varchar) end"

    return (
        f"select {text(file_col)} as file_id, {text(key_col)} as interaction_key, "
        f"try_cast({start} as double) as start_s, try_cast({end} as double) as end_s, "
        f"{text(kind)} as kind, {bad(start)} as bad_start, {bad(end)} as bad_end "
        f"from {source}"
    )


def resolve_sql(rows: str = _ROWS) -> str:
    """Each numbered row (``row``, ``key``, ``by``: 'file_id' or 'interaction_key') with the
    ``files`` rows it names (none when the catalog does not know the key). Pure twin."""
    return (
        f"select r.row, f.file_id, {', '.join('f.' + c for c in _PLACE.split(', '))} "
        f"from {rows} r join files f on "
        "(r.by = 'file_id' and f.file_id = r.key) "
        "or (r.by = 'interaction_key' and f.interaction_key = r.key) "
        "order by r.row, f.file_id"
    )


def _padding(pad: float, before: float | None, after: float | None) -> tuple[float, float]:
    out = (pad if before is None else before, pad if after is None else after)
    for name, value in zip(("before", "after"), out):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise UsageError(f"--{name}/--pad {value!r}: give a number of seconds, 0 or more")
    return float(out[0]), float(out[1])


def _load(cat: CatalogDB, sql: str | None, selection: str | Path | None) -> list[str]:
    if (sql is None) == (selection is None):
        raise UsageError("give exactly one of --sql or --selection")
    cat.sql(f"drop table if exists {SELECTION_TABLE}")
    if sql is not None:
        cat.sql(f"create temp table {SELECTION_TABLE} as {check_read_only(sql)}")
    else:
        path = Path(selection)
        if path.suffix.lower() not in (".csv", ".parquet"):
            raise UsageError(
                f"{path}: a window selection is a CSV or Parquet file with columns file_id "
                "or interaction_key, start_s and end_s"
            )
        load_file(cat, path)
    columns = [r[0] for r in cat.sql(f"describe {SELECTION_TABLE}").fetchall()]
    if not has_windows(columns):
        raise UsageError(
            f"the selection has columns {columns}: windows need start_s and end_s, and "
            "file_id or interaction_key"
        )
    return columns


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


class _Resolver:
    """Turns the numbered rows and the files they name into windows and invalid rows."""

    def __init__(self, before: float, after: float) -> None:
        self.before, self.after = before, after
        self.windows: list[Window] = []
        self.invalid: list[InvalidWindow] = []
        self.seen: dict[tuple[str, int, int], int] = {}
        self.refs: dict[str, FileRef] = {}

    def fail(self, row: int, key: str, s: float | None, e: float | None, reason: str) -> None:
        self.invalid.append(InvalidWindow(row, key, s, e, reason))

    def row(self, n: int, by: str | None, key: str | None, raw: tuple, files: list) -> None:
        s, e, kind, bad_start, bad_end = raw
        shown = key if key is not None else ""
        if by is None:
            return self.fail(n, shown, s, e, "no file_id or interaction_key (both null)")
        if s is None or e is None:
            what = [
                f"{name} {'is null' if text is None else f'{text!r} is not a number'}"
                for name, value, text in (("start_s", s, bad_start), ("end_s", e, bad_end))
                if value is None
            ]
            return self.fail(n, shown, _number(s), _number(e), ", ".join(what))
        if not math.isfinite(s) or not math.isfinite(e):
            return self.fail(n, shown, _number(s), _number(e), "start_s and end_s must be finite")
        if e <= s:
            return self.fail(n, shown, s, e, f"end_s {e} <= start_s {s}")
        if by == "file_id" and not is_file_id(key):
            return self.fail(n, shown, s, e, f"{key!r} is not a valid file_id")
        if not files:
            return self.fail(n, shown, s, e, f"unknown {by}: the catalog has no such {by}")
        for values in files:
            self.side(n, key, s, e, kind, values)

    def side(self, n: int, key: str, s: float, e: float, kind, values: tuple) -> None:
        file_id, *place, duration = values
        label = key if key == file_id else f"{file_id} (of {key})"
        if duration is None:
            return self.fail(n, label, s, e, "duration unknown: no wav, mp4 or npz header "
                             "was ingested for this file")  # fmt: skip
        if s >= duration or e <= 0:
            return self.fail(n, label, s, e, f"outside the recording (0 to {duration:g} s)")
        asked = (s - self.before, e + self.after)
        start, end = max(asked[0], 0.0), min(asked[1], duration)
        if round(end * 1000) <= round(start * 1000):
            return self.fail(n, label, s, e, "shorter than 1 ms inside the recording")
        ref = self.refs.get(file_id)
        if ref is None:
            try:
                ref = self.refs[file_id] = FileRef(file_id, *place)
            except UsageError as err:
                return self.fail(n, label, s, e, str(err))
        w = Window(ref, start, end, kind, asked[0], asked[1], n, duration)
        first = self.seen.setdefault((file_id, w.start_ms, w.end_ms), n)
        if first != n:
            return self.fail(n, label, s, e, f"the same window as row {first} ({w.stem})")
        self.windows.append(w)


def select_windows(
    cat: CatalogDB,
    *,
    sql: str | None = None,
    selection: str | Path | None = None,
    pad: float = 0.0,
    before: float | None = None,
    after: float | None = None,
    shard: tuple[int, int] | None = None,
) -> WindowSelection:
    """The windows of ``sql`` or a ``selection`` file (CSV/Parquet), checked row by row
    against the ``files`` view (see the module's rules); ``shard=(k, n)`` keeps the k-th of
    n interaction-wise parts (both sides of a pair together). Windows are ordered by file_id,
    then start, then end; invalid rows by row."""
    before_s, after_s = _padding(pad, before, after)
    columns = _load(cat, sql, selection)
    try:
        rows = cat.sql(rows_sql(columns)).fetchall()
    finally:
        cat.sql(f"drop table if exists {SELECTION_TABLE}")
    keyed = [_key_of(r) for r in rows]
    numbered = {"row": list(range(1, len(rows) + 1)), "by": [k[0] for k in keyed],
                "key": [k[1] for k in keyed]}  # fmt: skip
    files: dict[int, list[tuple]] = {}
    for n, *values in cat.sql(resolve_sql(), numbered).fetchall():
        files.setdefault(n, []).append(tuple(values))
    resolver = _Resolver(before_s, after_s)
    for n, (row, (by, key)) in enumerate(zip(rows, keyed), start=1):
        resolver.row(n, by, key, row[2:], files.get(n, []))
    windows = sorted(resolver.windows, key=lambda w: (w.ref.file_id, w.start_ms, w.end_ms))
    return WindowSelection(
        tuple(take_shard(windows, shard, key=lambda w: w.ref.interaction_key)),
        tuple(_shard_invalid(resolver.invalid, shard)),
    )


def _key_of(row: tuple) -> tuple[str | None, str | None]:
    """('file_id' | 'interaction_key' | None, the key): a row's file_id when it has one."""
    if row[0] is not None:
        return "file_id", row[0]
    if row[1] is not None:
        return "interaction_key", row[1]
    return None, None


def _shard_invalid(
    invalid: list[InvalidWindow], shard: tuple[int, int] | None
) -> list[InvalidWindow]:
    """Invalid rows go with their interaction's shard; rows whose key names no interaction
    are reported by shard 1, so that each is reported once over all shards."""
    if shard is None:
        return invalid
    k, n = shard
    return [w for w in invalid if _invalid_shard(w.key, n) == k]


def _invalid_shard(key: str, n: int) -> int:
    return shard_of_hash(key_bucket(key), n)
