"""The seeded order of every random draw, written once.

Units are ordered by ``md5(seed || '|' || key)``, then by key: the same seed gives the same
order on any machine, process and DuckDB version (md5, never Python's salted ``hash()``), and
taking the first ``n`` of a larger selection only adds rows. The SQL and Python twins give the
same order (a hex digest sorts as its bytes do).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def seeded_order_sql(key: str) -> str:
    """The ORDER BY terms of a draw over ``key`` (a column or expression; parameter ``$seed``)."""
    return f"md5(cast($seed as varchar) || '|' || {key}), {key}"


def seeded_key(seed: int | str, key: str) -> tuple[str, str]:
    """The sort key of ``key`` in the draw of ``seed`` (what :func:`seeded_order_sql` sorts by)."""
    return hashlib.md5(f"{seed}|{key}".encode(), usedforsecurity=False).hexdigest(), key


def seeded(items: Iterable[T], seed: int | str, key: Callable[[T], str] = str) -> list[T]:
    """``items`` in the draw order of ``seed``; ``key(item)`` is the unit's key."""
    return sorted(items, key=lambda item: seeded_key(seed, key(item)))
