"""Speaker-disjoint folds: the groups of a graph with known components, and the placement."""

from __future__ import annotations

import random

from seamless_catalog.select.folds import person_groups, place

# interactions -> people: components {a, b, c} (via I1, I2, and I6 repeating a pair),
# {d, e, g} (I3, I5), {f} (a one-file interaction), {h} and {i} (one interaction each way)
EDGES = [
    ("I1", "a"), ("I1", "b"), ("I2", "b"), ("I2", "c"), ("I3", "d"), ("I3", "e"),
    ("I4", "f"), ("I5", "g"), ("I5", "e"), ("I6", "c"), ("I6", "a"), ("I7", "h"), ("I8", "i"),
]  # fmt: skip


def components(groups: dict[str, str]) -> set[frozenset[str]]:
    by: dict[str, set[str]] = {}
    for person, group in groups.items():
        by.setdefault(group, set()).add(person)
    return {frozenset(v) for v in by.values()}


def test_people_linked_by_interactions_are_one_group_named_by_its_smallest_key():
    groups = person_groups(EDGES)
    assert components(groups) == {
        frozenset("abc"),
        frozenset("deg"),
        frozenset("f"),
        frozenset("h"),
        frozenset("i"),
    }
    assert groups["c"] == "a" and groups["g"] == "d"


def test_groups_do_not_depend_on_row_order():
    rows = EDGES[:]
    for seed in range(5):
        random.Random(seed).shuffle(rows)
        assert person_groups(rows) == person_groups(EDGES)


def test_a_long_chain_is_one_group():
    chain = [(f"I{i}", f"p{i:05d}") for i in range(20_000)] + [
        (f"I{i}", f"p{i + 1:05d}") for i in range(20_000)
    ]
    assert set(person_groups(chain).values()) == {"p00000"}


def test_placement_is_balanced_within_the_largest_group():
    rng = random.Random(7)
    hours = {f"g{i}": rng.uniform(0.1, 3.0) for i in range(200)}
    for k in (2, 5, 10):
        fold = place(hours, k, seed=0)
        load = [sum(h for g, h in hours.items() if fold[g] == f) for f in range(k)]
        assert max(load) - min(load) <= max(hours.values())
        assert set(fold.values()) == set(range(k))


def test_a_group_larger_than_a_share_gets_a_fold_to_itself():
    hours = {"giant": 100.0, **{f"g{i}": 1.0 for i in range(30)}}
    fold = place(hours, 3, seed=0)
    assert [g for g in hours if fold[g] == fold["giant"]] == ["giant"]


def test_the_seed_changes_the_folds_and_only_the_seed():
    hours = {f"g{i}": 1.0 + (i % 3) * 0.01 for i in range(60)}  # one size class: [1, 2) hours
    assert place(hours, 4, seed=1) == place(hours, 4, seed=1)
    assert place(hours, 4, seed=1) != place(hours, 4, seed=2)
