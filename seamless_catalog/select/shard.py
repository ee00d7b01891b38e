"""Split a selection over N machines, by interaction so both sides of a pair stay together."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TypeVar

from ..errors import UsageError
from ..layout import is_file_id, parse_file_id

T = TypeVar("T")


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"K/N"`` (1 <= K <= N) -> (K, N); None passes through."""
    if text is None or isinstance(text, tuple):
        k_n = text
    else:
        try:
            k, n = (int(x) for x in str(text).split("/"))
        except ValueError:
            raise UsageError(f"--shard {text!r}: expected K/N, e.g. 1/4") from None
        k_n = (k, n)
    if k_n is not None and not (1 <= k_n[0] <= k_n[1]):
        raise UsageError(f"--shard {k_n[0]}/{k_n[1]}: K must be between 1 and N")
    return k_n


def shard_hash(interaction_key: str) -> int:
    """A stable bucket of an interaction: the first 8 bytes of the md5 of its key, shifted to
    63 bits so that it is a non-negative signed 64-bit integer (plan files store it as int64;
    any engine computes ``shard_hash % N + 1`` for any N with plain signed arithmetic).
    md5, never Python's salted ``hash()``: the same on every process and machine."""
    digest = hashlib.md5(interaction_key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def shard_of(interaction_key: str, n: int) -> int:
    """The shard (1..n) of an interaction; both sides of a pair share it, and adding other
    interactions never moves it."""
    return shard_of_hash(shard_hash(interaction_key), n)


def shard_of_hash(bucket: int, n: int) -> int:
    """The shard (1..n) of a stored :func:`shard_hash`."""
    return bucket % n + 1


def interaction_of(file_id: str) -> str:
    return parse_file_id(file_id).interaction_key


def key_bucket(text: str) -> int:
    """The :func:`shard_hash` of the interaction a reported key begins with (a file_id, an
    interaction_key, or ``"{file_id} (of {key})"``), else 0: shard 1 for every N. This is
    how a row that is not a file (an unknown key, an invalid window) gets its shard, so that
    each is reported by exactly one shard of any N."""
    parts = text.split(" ", 1)[0].split("_")
    if len(parts) >= 3 and is_file_id(f"{'_'.join(parts[:3])}_P0000"):
        return shard_hash("_".join(parts[:3]))
    return 0


def take_shard(rows: Iterable[T], shard: tuple[int, int] | None, key=None) -> list[T]:
    """The rows of shard ``(k, n)``; ``key(row)`` gives the interaction key."""
    key = key or (lambda r: r.interaction_key)
    if shard is None:
        return list(rows)
    k, n = shard
    return [r for r in rows if shard_of(key(r), n) == k]
