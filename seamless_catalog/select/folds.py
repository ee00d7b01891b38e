"""Speaker-disjoint folds: whole groups of people to folds, balanced by hours.

Participants recur across sessions, so a random split of files, interactions or sessions puts
one person on both sides of it. ``by="person"`` groups people (``(vendor, participant)``, the
person key) that are linked by a shared interaction, transitively: the connected components of
the graph whose edges are interactions. Every file of a group lands in one fold, so no person is
in two folds. ``by="session"`` and ``by="interaction"`` group by those keys instead (they leak
people; there for comparison).

Placement: groups are taken largest first by size class (the power of two of their hours,
``floor(log2(hours))``), in the seeded order of :mod:`.order` within a class, and each goes to the
fold with the fewest hours so far (ties: the lower fold). Near the balance of largest-first
placement, and a different seed gives different folds. A group larger than a fold's share
cannot be split: the balance report shows it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import duckdb

from ..errors import UsageError
from ..store.catalogdb import CatalogDB
from .order import seeded_key

BY = ("person", "session", "interaction")


@dataclass(frozen=True)
class Folds:
    """The assignment (``files``: one row per file with its ``fold`` and ``fold_group``) and
    its ``balance`` (one row per fold: groups, people, interactions, files, hours, share)."""

    k: int
    seed: int
    by: str
    files: duckdb.DuckDBPyRelation
    balance: duckdb.DuckDBPyRelation


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the smallest key names the group


def person_groups(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """``{person: group}`` for (interaction_key, person) rows: people sharing an interaction,
    transitively, are one group, named by its smallest person key."""
    uf = UnionFind()
    first: dict[str, str] = {}
    for interaction, person in pairs:
        uf.find(person)
        if interaction in first:
            uf.union(first[interaction], person)
        else:
            first[interaction] = person
    return {p: uf.find(p) for p in uf.parent}


def place(hours: dict[str, float], k: int, seed: int) -> dict[str, int]:
    """``{group: fold}``: largest size class first, seeded order within a class, each group
    into the fold with the fewest hours so far."""

    def size_class(group: str) -> int:
        h = hours[group]
        return math.floor(math.log2(h)) if h > 0 else -10_000

    order = sorted(hours, key=lambda g: (-size_class(g), seeded_key(seed, g)))
    load = [0.0] * k
    fold: dict[str, int] = {}
    for group in order:
        f = min(range(k), key=lambda i: (load[i], i))
        fold[group] = f
        load[f] += hours[group]
    return fold


def folds(cat: CatalogDB, k: int, seed: int = 0, by: str = "person") -> Folds:
    """Assign every file of the catalog to one of ``k`` folds, whole groups at a time."""
    if by not in BY:
        raise UsageError(f"--by {by!r}: choose from {', '.join(BY)}")
    if k < 2:
        raise UsageError(f"-k {k}: give at least 2 folds")
    rows = cat.sql(
        "select file_id, interaction_key, session_key, vendor || ':' || participant as person, "
        "coalesce(duration_s, 0) as seconds from files"
    ).fetchall()
    if by == "person":
        groups = person_groups([(r[1], r[3]) for r in rows])
        group_of = {r[0]: groups[r[3]] for r in rows}
    else:
        column = 2 if by == "session" else 1
        group_of = {r[0]: r[column] for r in rows}
    hours: dict[str, float] = defaultdict(float)
    for r in rows:
        hours[group_of[r[0]]] += r[4] / 3600
    fold_of = place(dict(hours), k, seed)
    ids = sorted(group_of)
    params = {
        "ids": ids,
        "groups": [group_of[i] for i in ids],
        "folds": [fold_of[group_of[i]] for i in ids],
        "k": k,
    }
    files = cat.sql(f"{ASSIGNED} select * from assigned order by fold, fold_group, file_id", params)
    return Folds(k, seed, by, files, cat.sql(f"{ASSIGNED} {BALANCE}", params))


ASSIGNED = """
with a as (select unnest($ids) as file_id, unnest($groups) as fold_group, unnest($folds) as fold),
assigned as (
    select a.fold, a.fold_group, f.file_id, f.interaction_key, f.session_key, f.vendor,
           f.participant, f.label, f.split, f.duration_s
    from a join files f using (file_id) where $k > 0
)"""

BALANCE = """
select n.fold, count(distinct s.fold_group) as groups,
       count(distinct (s.vendor, s.participant)) filter (where s.file_id is not null) as people,
       count(distinct s.interaction_key) as interactions, count(s.file_id) as files,
       round(coalesce(sum(s.duration_s), 0) / 3600, 3) as hours,
       round(coalesce(sum(s.duration_s), 0) / nullif(sum(sum(s.duration_s)) over (), 0), 3)
           as share,
       count(s.file_id) filter (where s.duration_s is null) as files_unknown_duration
from range($k) n(fold) left join assigned s on s.fold = n.fold
group by n.fold order by n.fold"""
