"""Reproducible random selections of files, pairs or sessions.

Rows are in the seeded order of :mod:`.order` and the first ``n`` kept: the same seed gives
the same sample on any machine and DuckDB version, and growing ``n`` only adds rows. ``where``
is a SQL predicate over the unit's view (``files``, ``pairs`` or ``sessions``); the seed and
``n`` are bound as parameters.
"""

from __future__ import annotations

from ..errors import UsageError
from ..store.catalogdb import CatalogDB
from .order import seeded_order_sql

UNITS = {"file": ("files", "file_id"), "pair": ("pairs", "interaction_key"),
         "session": ("sessions", "session_key")}  # fmt: skip


def sample_sql(unit: str, where: str | None = None) -> str:
    """The query ``sample`` runs (parameters: seed, n)."""
    if unit not in UNITS:
        raise UsageError(f"unknown unit {unit!r}: choose from {', '.join(UNITS)}")
    view, key = UNITS[unit]
    predicate = f"where ({where})\n" if where and where.strip() else ""
    return f"select * from {view}\n{predicate}order by {seeded_order_sql(key)}\nlimit $n"


def sample(cat: CatalogDB, unit: str, n: int, seed: int = 0, where: str | None = None):
    """``n`` random rows of the unit's view (a DuckDB relation), reproducible for ``seed``."""
    if n < 0:
        raise UsageError(f"-n {n}: give a count of 0 or more")
    return cat.query(sample_sql(unit, where), {"seed": str(seed), "n": n})
