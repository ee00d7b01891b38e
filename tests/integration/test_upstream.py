"""Upstream-equivalent methods, each against an answer computed here from the filelist/tars."""

from __future__ import annotations

import hashlib
import re
import tarfile
from collections import defaultdict

import pytest

from seamless_catalog.catalog import Catalog
from tests.access_helpers import filelist

KEY_RE = re.compile(r"^(V\d{2}_S\d{4})_I\d{8}_P\d{4}[A-Z]?$")


def _draw(seed: int, keys) -> list[str]:
    return sorted(keys, key=lambda k: (hashlib.md5(f"{seed}|{k}".encode()).hexdigest(), k))


def _interactions(release) -> dict[str, list[str]]:
    out = defaultdict(list)
    for r in filelist(release):
        out[r["file_id"].rsplit("_", 1)[0]].append(r["file_id"])
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def cat(hf_catalog):
    with Catalog.open(hf_catalog) as c:
        yield c


def test_random_file_ids(cat, release):
    rows = filelist(release)
    assert cat.random_file_ids(5, seed=11) == _draw(11, [r["file_id"] for r in rows])[:5]
    dev = [r["file_id"] for r in rows if r["label"] == "improvised" and r["split"] == "dev"]
    assert cat.random_file_ids(100, seed=2, label="improvised", split="dev") == _draw(2, dev)
    assert cat.random_file_ids(3, seed=1) != cat.random_file_ids(3, seed=2)


def test_interaction_pairs_are_both_sides_of_one_interaction(cat, release):
    pairs = {k: tuple(v) for k, v in _interactions(release).items() if len(v) == 2}
    assert any(b.endswith("A") or a.endswith("A") for a, b in pairs.values())  # suffix kept
    keys = sorted(pairs)[:3] + ["V09_S9999_I00000000"]  # an unknown key has no pair
    assert cat.interaction_pairs(interaction_keys=keys) == [pairs[k] for k in sorted(pairs)[:3]]
    drawn = cat.interaction_pairs(4, seed=5)
    assert drawn == [pairs[k] for k in _draw(5, pairs)[:4]]
    singles = [k for k, v in _interactions(release).items() if len(v) == 1]
    if singles:
        assert cat.interaction_pairs(interaction_keys=singles) == []


def test_session_groups_are_whole_interactions(cat, release):
    inter = _interactions(release)
    sessions = defaultdict(list)
    for key in sorted(inter):
        sessions[KEY_RE.match(inter[key][0]).group(1)].append(key)
    some = sorted(sessions)[:2]
    expected = {s: [f for k in sessions[s] for f in inter[k]] for s in some}
    assert cat.session_groups(session_keys=some) == expected
    first = {s: inter[sessions[s][0]] for s in some}
    assert cat.session_groups(session_keys=some, interactions_per_session=1) == first
    drawn = cat.session_groups(2, seed=4)
    assert list(drawn) == _draw(4, sessions)[:2]
    for s, files in drawn.items():
        assert files == [f for k in sessions[s] for f in inter[k]]


def test_batches_and_archives_with_sizes(cat, release):
    rows = filelist(release)
    listed = defaultdict(set)
    for r in rows:
        arch = (
            f"{r['label']}/{r['split']}/{int(r['batch_idx']):04d}/{int(r['archive_idx']):04d}.tar"
        )
        listed[arch].add(r["file_id"])
    member_bytes = {}
    for arch, ids in listed.items():
        path = release / "hf" / arch
        if path.exists():
            with tarfile.open(path) as tar:
                sizes = [m.size for m in tar if m.name.rsplit(".", 1)[0] in ids]
            member_bytes[arch] = sum(sizes)
    got = {r[0]: (r[5], r[7]) for r in cat.archives().fetchall()}
    assert got == {a: (len(ids), member_bytes.get(a)) for a, ids in listed.items()}
    one = cat.archives(label="improvised", split="dev", batch=0).fetchall()
    assert [r[0] for r in one] == sorted(a for a in listed if a.startswith("improvised/dev/0000/"))
    batches = defaultdict(lambda: [set(), 0, []])
    for arch, ids in listed.items():
        label, split, batch, _ = arch.split("/")
        b = batches[(label, split, int(batch))]
        b[0].add(arch)
        b[1] += len(ids)
        b[2] += [member_bytes[arch]] if arch in member_bytes else []
    got_b = {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in cat.batches().fetchall()}
    assert got_b == {k: (len(v[0]), v[1], sum(v[2]) if v[2] else None) for k, v in batches.items()}
