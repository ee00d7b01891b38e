"""Assign files to batches and archives; plant gaps, split pairs, strays and missing Hub tars."""

from __future__ import annotations

import math
import random
from collections import defaultdict

from .interactions import Interaction
from .model import Archive, FileRec

BATCH_MAX = 500
SAMPLES_MIN, SAMPLES_MAX, SAMPLES_MEAN = 4, 10, 6
P_ARCHIVE_GAP = 0.12
STRAYS_PER_FILE = 200 / 129_370
MISSING_ON_HUB = (("naturalistic", "dev"),)  # batch 0, first archive (absent on the Hub)


def pack(rng: random.Random, interactions: list[Interaction]) -> list[Archive]:
    """Fill batches (interactions never straddle two) and chunk each batch into archives."""
    groups: dict[tuple[str, str], list[Interaction]] = defaultdict(list)
    for inter in interactions:
        groups[(inter.label, inter.session.split)].append(inter)
    batches = [
        (label, split, batch_idx, files)
        for (label, split), inters in sorted(groups.items())
        for batch_idx, files in enumerate(_batches(inters))
    ]
    largest = max(range(len(batches)), key=lambda i: len(batches[i][3]))
    archives: list[Archive] = []
    for i, (label, split, batch_idx, files) in enumerate(batches):
        archives += _archives(rng, label, split, batch_idx, files, at_least_two=i == largest)
    _ensure_gap(archives)
    _ensure_split_pair(archives)
    return sorted(archives, key=lambda a: a.path)


def _batches(inters: list[Interaction]) -> list[list[FileRec]]:
    batches: list[list[FileRec]] = [[]]
    for inter in inters:
        if len(batches[-1]) + len(inter.files) > BATCH_MAX:
            batches.append([])
        batches[-1].extend(inter.files)
    return batches


def _chunk_sizes(rng: random.Random, n: int, at_least_two: bool) -> list[int]:
    """Samples per archive: 4..10 each (a tiny batch may hold fewer, in one or two tars)."""
    if at_least_two and n < 2 * SAMPLES_MIN:
        return [n // 2, n - n // 2] if n >= 2 else [n]
    if n <= SAMPLES_MIN:
        return [n]
    k = max(min(math.ceil(n / SAMPLES_MEAN), n // SAMPLES_MIN), 2 if at_least_two else 1)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    for _ in range(k):  # jitter while staying inside 4..10
        i, j = rng.randrange(k), rng.randrange(k)
        if sizes[i] < SAMPLES_MAX and sizes[j] > SAMPLES_MIN and i != j:
            sizes[i], sizes[j] = sizes[i] + 1, sizes[j] - 1
    return sizes


def _archives(
    rng: random.Random,
    label: str,
    split: str,
    batch_idx: int,
    files: list[FileRec],
    at_least_two: bool,
) -> list[Archive]:
    """Chunk one batch into archives; the batch with the most files gets at least two."""
    files = list(files)
    rng.shuffle(files)
    out, start, number = [], 0, 0
    for size in _chunk_sizes(rng, len(files), at_least_two):
        arch = Archive(label, split, batch_idx, number, files[start : start + size])
        out.append(arch)
        start += size
        number += 1 + (rng.randint(1, 3) if rng.random() < P_ARCHIVE_GAP else 0)
    for arch in out:
        for rec in arch.files:
            rec.batch_idx, rec.archive_idx = batch_idx, arch.archive_idx
        arch.on_hub = not (batch_idx == 0 and (label, split) in MISSING_ON_HUB and arch is out[0])
    return out


def _batch_groups(archives: list[Archive]) -> dict[tuple[str, str, int], list[Archive]]:
    groups: dict[tuple[str, str, int], list[Archive]] = defaultdict(list)
    for arch in archives:
        groups[(arch.label, arch.split, arch.batch_idx)].append(arch)
    return groups


def _renumber(arch: Archive, number: int) -> None:
    arch.archive_idx = number
    for rec in arch.files:
        rec.archive_idx = number


def _ensure_gap(archives: list[Archive]) -> None:
    """Guarantee at least one archive-number gap inside a batch."""
    groups = [g for g in _batch_groups(archives).values() if len(g) >= 2]
    if not groups or any(_gaps(g) for g in groups):
        return
    biggest = max(groups, key=len)
    for arch in biggest[1:]:
        _renumber(arch, arch.archive_idx + 1)


def _gaps(group: list[Archive]) -> list[int]:
    present = {a.archive_idx for a in group}
    return [i for i in range(max(present)) if i not in present]


def archive_gaps(archives: list[Archive]) -> list[dict[str, object]]:
    """Every batch with missing archive numbers: ``{"batch": "improvised/train/0000", ...}``."""
    out = []
    for (label, split, batch), group in sorted(_batch_groups(archives).items()):
        if missing := _gaps(group):
            out.append({"batch": f"{label}/{split}/{batch:04d}", "missing": missing})
    return out


def _ensure_split_pair(archives: list[Archive]) -> None:
    """Guarantee a dyad whose halves sit in different archives of one batch."""
    if split_pairs(archives):
        return
    for group in _batch_groups(archives).values():
        if len(group) >= 2:
            first, second = group[0], group[1]
            a, b = first.files[-1], second.files[0]
            first.files[-1], second.files[0] = b, a
            a.archive_idx, b.archive_idx = second.archive_idx, first.archive_idx
            if split_pairs(archives):
                return


def split_pairs(archives: list[Archive]) -> list[str]:
    """file_ids of dyads whose two halves are in different archives."""
    where: dict[str, list[FileRec]] = defaultdict(list)
    for arch in archives:
        for rec in arch.files:
            where[rec.interaction_key].append(rec)
    out = []
    for recs in where.values():
        if len(recs) == 2 and recs[0].archive_idx != recs[1].archive_idx:
            out += sorted(r.file_id for r in recs)
    return out


def plant_strays(rng: random.Random, archives: list[Archive], n_files: int) -> None:
    """Copy a few filelist samples into a tar of another split (de-duplicated ids upstream)."""
    n = max(1, round(n_files * STRAYS_PER_FILE))
    sources = [r for a in archives for r in a.files if not r.placeholder and r.split != "dev"]
    for rec in rng.sample(sources, min(n, len(sources))):
        targets = [
            a
            for a in archives
            if a.label == rec.label and a.split != rec.split and a.on_hub
            and len(a.files) + len(a.strays) < SAMPLES_MAX
        ]  # fmt: skip
        if targets:
            targets[0].strays.append(rec)
