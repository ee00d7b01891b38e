"""What users of the upstream ``SeamlessInteractionFS`` reach for, as SQL over the catalog.

Each function has a pure twin returning its SQL (values are bound parameters: ``$seed``,
``$n``, ``$label``, ``$split``, ``$keys``; a null filter means "any"). Semantics are the
corrected ones: a pair is both files of one interaction (never two files of different
interactions, never one side alone), a session group is made of whole interactions,
participant ids keep their letter suffix, random draws are ``md5(seed|key)`` orders (the
same as ``seamless-catalog sample``), so a seed gives one answer on every machine.

Upstream -> here:

* ``sample_random_file_ids(num_samples, label, split, seed=...)`` -> :func:`random_file_ids`
* ``get_interaction_pairs(interaction_keys | num_pairs, label, split)`` -> :func:`interaction_pairs`
* ``get_session_groups(session_keys | num_sessions, interactions_per_session, ...)``
  -> :func:`session_groups`
* ``list_batches(label, split)`` -> :func:`batches`; ``list_archives(label, split, batch)``
  and ``get_tar_archive_size(...)`` -> :func:`archives`
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..store.catalogdb import CatalogDB
from .order import seeded, seeded_order_sql

_FILTER = "($label is null or label = $label) and ($split is null or split = $split)"


def _params(label: str | None, split: str | None, **more: Any) -> dict[str, Any]:
    return {"label": label, "split": split, **more}


def _draw_params(label, split, keys, seed: int, n: int, **more: Any) -> dict[str, Any]:
    """The parameters of a draw: the given ``keys``, else ``n`` units in the order of ``seed``."""
    params = _params(label, split, **more)
    if keys is not None:
        params["keys"] = list(keys)
    else:
        params.update(seed=str(seed), n=n)
    return params


def random_file_ids_sql() -> str:
    return (
        f"select file_id from files where {_FILTER}\n"
        f"order by {seeded_order_sql('file_id')} limit $n"
    )


def random_file_ids(
    cat: CatalogDB, n: int = 1, seed: int = 0, label: str | None = None, split: str | None = None
) -> list[str]:
    """``n`` distinct file ids drawn with ``seed`` (fewer when fewer match)."""
    if n < 0:
        raise UsageError(f"n={n}: give a count of 0 or more")
    params = _params(label, split, seed=str(seed), n=n)
    return [r[0] for r in cat.sql(random_file_ids_sql(), params).fetchall()]


def interaction_pairs_sql(by_keys: bool) -> str:
    head = f"select interaction_key, file_id_a, file_id_b from pairs where {_FILTER}"
    if by_keys:
        return f"{head}\n  and interaction_key in (select unnest($keys::varchar[]))\n" + (
            "order by interaction_key"
        )
    return f"{head}\norder by {seeded_order_sql('interaction_key')} limit $n"


def interaction_pairs(
    cat: CatalogDB,
    n: int = 1,
    seed: int = 0,
    interaction_keys: list[str] | None = None,
    label: str | None = None,
    split: str | None = None,
) -> list[tuple[str, str]]:
    """(file_id_a, file_id_b) of ``n`` random pairs, or of the pairs of ``interaction_keys``
    (every one of them that is a pair, in key order: a singleton interaction has no pair)."""
    by_keys = interaction_keys is not None
    params = _draw_params(label, split, interaction_keys, seed, n)
    rows = cat.sql(interaction_pairs_sql(by_keys), params).fetchall()
    return [(a, b) for _, a, b in rows]


def session_groups_sql(by_keys: bool) -> str:
    """Whole interactions of each chosen session: the first ``$per_session`` (all when null)
    by interaction_key, each with every file, sessions in key order or a seeded draw."""
    chosen = (
        "select distinct session_key from files where session_key in "
        "(select unnest($keys::varchar[]))"
        if by_keys
        else (
            f"select session_key from (select distinct session_key from files where {_FILTER}) "
            f"order by {seeded_order_sql('session_key')} limit $n"
        )
    )
    return (
        f"with chosen as ({chosen}),\n"
        "ranked as (select session_key, interaction_key,\n"
        "  dense_rank() over (partition by session_key order by interaction_key) as k\n"
        f"  from files where session_key in (select session_key from chosen) and {_FILTER})\n"
        "select f.session_key, f.interaction_key, f.file_id from files f\n"
        "join (select distinct session_key, interaction_key, k from ranked) r\n"
        "  using (session_key, interaction_key)\n"
        "where $per_session is null or r.k <= $per_session\n"
        "order by f.session_key, f.interaction_key, f.file_id"
    )


def session_groups(
    cat: CatalogDB,
    n: int = 1,
    seed: int = 0,
    session_keys: list[str] | None = None,
    interactions_per_session: int | None = None,
    label: str | None = None,
    split: str | None = None,
) -> dict[str, list[str]]:
    """session_key -> the file ids of its whole interactions (the first
    ``interactions_per_session`` interactions by key when given)."""
    by_keys = session_keys is not None
    params = _draw_params(label, split, session_keys, seed, n, per_session=interactions_per_session)
    groups: dict[str, list[str]] = {}
    for session, _, file_id in cat.sql(session_groups_sql(by_keys), params).fetchall():
        groups.setdefault(session, []).append(file_id)
    if by_keys:
        return groups
    return {s: groups[s] for s in seeded(groups, seed)}  # the draw's order, as the SQL ranks it


def batches_sql() -> str:
    return (
        "select label, split, batch_idx, count(distinct archive_idx) as n_archives,\n"
        "  count(*) as n_files, cast(sum(m.bytes) as bigint) as member_bytes\n"
        "from files f left join (select archive_path, file_id, sum(size) as bytes "
        "from raw.members group by archive_path, file_id) m using (archive_path, file_id)\n"
        f"where {_FILTER}\n"
        "group by label, split, batch_idx order by label, split, batch_idx"
    )


def archives_sql() -> str:
    return (
        "select archive_path, label, split, batch_idx, archive_idx, count(*) as n_files,\n"
        "  count(m.file_id) as n_files_indexed, cast(sum(m.bytes) as bigint) as member_bytes\n"
        "from files f left join (select archive_path, file_id, sum(size) as bytes "
        "from raw.members group by archive_path, file_id) m using (archive_path, file_id)\n"
        f"where {_FILTER} and ($batch is null or batch_idx = $batch)\n"
        "group by archive_path, label, split, batch_idx, archive_idx\n"
        "order by label, split, batch_idx, archive_idx"
    )


def _require_members(cat: CatalogDB) -> None:
    if "members" not in cat.tables():
        raise UsageError(
            "the catalog has no tar member index (raw.members): ingest the tars "
            "(a folder of them or hf://datasets/facebook/seamless-interaction) to get sizes"
        )


def batches(cat: CatalogDB, label: str | None = None, split: str | None = None):
    """Per (label, split, batch): archives, files and the bytes of their members."""
    _require_members(cat)
    return cat.sql(batches_sql(), _params(label, split))


def archives(
    cat: CatalogDB, label: str | None = None, split: str | None = None, batch: int | None = None
):
    """Per archive of the filelist: files, files found in the tar index, member bytes."""
    _require_members(cat)
    return cat.sql(archives_sql(), _params(label, split, batch=batch))
