"""What to materialize: a SQL result or a selection file, expanded to validated file rows.

A selection names files (``file_id``), interactions (``interaction_key``) or sessions
(``session_key``); either way it becomes rows of the ``files`` view. ``pairs=True`` adds
the other side of every selected interaction. Every id is checked with
:func:`~seamless_catalog.ids.parse_file_id`; nothing else from the selection reaches a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..catalog import Catalog, check_read_only
from ..errors import SourceNotFound, UsageError
from ..ids import LABELS, SPLITS, parse_file_id
from ..schema import quote_ident

KEY_COLUMNS = ("file_id", "interaction_key", "session_key")
SELECTION_TABLE = "_selection"
_FILE_COLUMNS = (
    "file_id, interaction_key, label, split, batch_idx, archive_idx, archive_path, "
    "has_imitator_movement, has_annotation_1p, has_annotation_3p"
)


@dataclass(frozen=True)
class FileRow:
    """One selected file, with where the catalog says it lives."""

    file_id: str
    interaction_key: str
    label: str
    split: str
    batch_idx: int
    archive_idx: int
    archive_path: str
    has_imitator_movement: bool | None
    has_annotation_1p: bool | None
    has_annotation_3p: bool | None

    @property
    def folder(self) -> str:
        """``{label}/{split}/{batch:04d}/{archive:04d}``: the upstream local layout."""
        return f"{self.label}/{self.split}/{self.batch_idx:04d}/{self.archive_idx:04d}"


@dataclass(frozen=True)
class Selection:
    files: tuple[FileRow, ...]
    unknown: tuple[str, ...]  # valid file ids the catalog does not know


def key_column(columns: list[str]) -> str:
    """The column a selection is keyed by: file_id, else interaction_key, else session_key."""
    lowered = [c.lower() for c in columns]
    for name in KEY_COLUMNS:
        if name in lowered:
            return columns[lowered.index(name)]
    raise UsageError(
        f"the selection has columns {columns}: it needs one of {', '.join(KEY_COLUMNS)}"
    )


def expand_sql(key: str, pairs: bool, source: str = SELECTION_TABLE) -> str:
    """SQL returning the ``files`` rows of a selection keyed by ``key`` (pure twin)."""
    kind = key.lower()
    quoted = quote_ident(key)
    match = f"f.{kind} in (select {quoted} from {source} where {quoted} is not null)"
    if pairs and kind == "file_id":
        match = (
            f"f.interaction_key in (select interaction_key from files "
            f"where file_id in (select {quoted} from {source}))"
        )
    return f"select {_FILE_COLUMNS} from files f where {match} order by f.file_id"


def _load_file(cat: Catalog, path: Path) -> None:
    if not path.is_file():
        raise SourceNotFound(path, "the selection file does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        query = f"create temp table {SELECTION_TABLE} as select * from read_parquet(?)"
        cat.sql(query, [str(path)])
    elif suffix == ".csv":
        cat.sql(
            f"create temp table {SELECTION_TABLE} as "
            "select * from read_csv(?, header=true, all_varchar=true)",
            [str(path)],
        )
    else:  # a text file of ids, one a line ('#' comments allowed)
        lines = [x.strip() for x in path.read_text().splitlines()]
        _load_ids(cat, [x for x in lines if x and not x.startswith("#")])


def _load_ids(cat: Catalog, ids: list[str]) -> None:
    column = _kind_of(ids[0]) if ids else "file_id"
    cat.sql(
        f'create temp table {SELECTION_TABLE} as select unnest(?::varchar[]) as "{column}"',
        [ids],
    )


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


def _row(values: tuple) -> FileRow:
    *head, movement, a1p, a3p = values
    return FileRow(*head, _flag(movement), _flag(a1p), _flag(a3p))


def _check_row(row: FileRow) -> None:
    """Everything that goes into an output path is validated here."""
    parse_file_id(row.file_id)
    ok = (
        row.label in LABELS
        and row.split in SPLITS
        and isinstance(row.batch_idx, int)
        and isinstance(row.archive_idx, int)
        and 0 <= row.batch_idx <= 9999
        and 0 <= row.archive_idx <= 9999
    )
    if not ok:
        raise UsageError(
            f"the catalog places {row.file_id} at {row.label}/{row.split}/{row.batch_idx}/"
            f"{row.archive_idx}, which is not a valid location: re-ingest the filelist"
        )


def _kind_of(value: str) -> str:
    parts = value.split("_")
    return {2: "session_key", 3: "interaction_key"}.get(len(parts), "file_id")


def select(
    cat: Catalog,
    *,
    sql: str | None = None,
    selection: str | Path | None = None,
    ids: list[str] | None = None,
    pairs: bool = False,
) -> Selection:
    """Resolve ``sql``, a ``selection`` file or a list of ``ids`` to file rows, validating
    every id."""
    if sum(x is not None for x in (sql, selection, ids)) != 1:
        raise UsageError("give exactly one of --sql or --selection")
    cat.sql(f"drop table if exists {SELECTION_TABLE}")
    if sql is not None:
        cat.sql(f"create temp table {SELECTION_TABLE} as {check_read_only(sql)}")
    elif ids is not None:
        _load_ids(cat, ids)
    else:
        _load_file(cat, Path(selection))
    columns = [r[0] for r in cat.sql(f"describe {SELECTION_TABLE}").fetchall()]
    key = key_column(columns)
    quoted = quote_ident(key)
    wanted = [
        r[0]
        for r in cat.sql(
            f"select distinct cast({quoted} as varchar) from {SELECTION_TABLE} "
            f"where {quoted} is not null"
        ).fetchall()
    ]
    if key.lower() == "file_id":
        for value in wanted:
            parse_file_id(value)  # raises InvalidId naming the bad value
    rows = [_row(r) for r in cat.sql(expand_sql(key, pairs)).fetchall()]
    for row in rows:
        _check_row(row)
    known = {r.file_id for r in rows}
    unknown = sorted(v for v in wanted if key.lower() == "file_id" and v not in known)
    cat.sql(f"drop table if exists {SELECTION_TABLE}")
    return Selection(tuple(rows), tuple(unknown))
