"""What to materialize: a SQL result or a selection file, expanded to validated file rows.

A selection names files (``file_id``), interactions (``interaction_key``) or sessions
(``session_key``); either way it becomes :class:`~seamless_catalog.layout.FileRef` s, from
rows of the ``files`` view. ``pairs=True`` adds
the other side of every selected interaction. Every id is checked with
:func:`~seamless_catalog.layout.parse_file_id`; nothing else from the selection reaches a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceNotFound, UsageError
from ..layout import FileRef, parse_file_id
from ..store.catalogdb import CatalogDB, check_read_only
from ..store.schema import quote_ident
from .shard import interaction_of, take_shard

KEY_COLUMNS = ("file_id", "interaction_key", "session_key")
SELECTION_TABLE = "_selection"
_FILE_COLUMNS = (
    "file_id, label, split, batch_idx, archive_idx, "
    "has_imitator_movement, has_annotation_1p, has_annotation_3p"
)


@dataclass(frozen=True)
class Selection:
    files: tuple[FileRef, ...]
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


def load_file(cat: CatalogDB, path: Path) -> None:
    """A selection file (Parquet, CSV, or a text file of ids) as the temp table ``_selection``."""
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


def _load_ids(cat: CatalogDB, ids: list[str]) -> None:
    column = _kind_of(ids[0]) if ids else "file_id"
    cat.sql(
        f'create temp table {SELECTION_TABLE} as select unnest(?::varchar[]) as "{column}"',
        [ids],
    )


def _ref(values: tuple) -> FileRef:
    *place, movement, a1p, a3p = values
    return FileRef(*place, *(None if v is None else bool(v) for v in (movement, a1p, a3p)))


def _kind_of(value: str) -> str:
    parts = value.split("_")
    return {2: "session_key", 3: "interaction_key"}.get(len(parts), "file_id")


def select(
    cat: CatalogDB,
    *,
    sql: str | None = None,
    selection: str | Path | None = None,
    ids: list[str] | None = None,
    pairs: bool = False,
    shard: tuple[int, int] | None = None,
) -> Selection:
    """Resolve ``sql``, a ``selection`` file or a list of ``ids`` to :class:`FileRef` s,
    validating every id; ``shard=(k, n)`` keeps the k-th of n interaction-wise parts."""
    if sum(x is not None for x in (sql, selection, ids)) != 1:
        raise UsageError("give exactly one of --sql or --selection")
    cat.sql(f"drop table if exists {SELECTION_TABLE}")
    if sql is not None:
        cat.sql(f"create temp table {SELECTION_TABLE} as {check_read_only(sql)}")
    elif ids is not None:
        _load_ids(cat, ids)
    else:
        load_file(cat, Path(selection))
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
    refs = [_ref(r) for r in cat.sql(expand_sql(key, pairs)).fetchall()]
    known = {r.file_id for r in refs}
    unknown = sorted(v for v in wanted if key.lower() == "file_id" and v not in known)
    cat.sql(f"drop table if exists {SELECTION_TABLE}")
    return Selection(
        tuple(take_shard(refs, shard)), tuple(take_shard(unknown, shard, key=interaction_of))
    )
