"""Plan interactions and their files: labels, prompts, durations, flags and planted quirks."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .model import FileRec, Prompt, Session

P_IMPROVISED = 0.33
P_MOVEMENT = 0.7
P_ANNOTATED_3P = 0.04
P_1P_GIVEN_3P = 0.15
P_PLACEHOLDER = 0.0034
P_SILENT = 0.002
P_EXTRA_KEY = 0.004
P_DURATION_MISMATCH = 0.05
SINGLETONS_PER_FILE = 100 / 129_370
DURATION_MU, DURATION_SIGMA = math.log(226) - 0.09, 0.42
MIN_DURATION_MS, MAX_DURATION_MS = 60_000, 600_000


@dataclass(slots=True)
class Interaction:
    session: Session
    prompt: Prompt
    label: str
    singleton: bool
    files: list[FileRec]

    @property
    def key(self) -> str:
        return f"{self.session.key}_I{self.prompt.hash}"


def interaction_counts(
    rng: random.Random, n_files: int, n_sessions: int, cap: int
) -> tuple[list[int], int]:
    """Interactions per session (at least two: one of each label) and the number of singletons."""
    n_single = max(1, round(n_files * SINGLETONS_PER_FILE))
    n_pairs = max(2 * n_sessions, (n_files - n_single) // 2)
    counts = [2] * n_sessions
    weights = [rng.gammavariate(2.0, 1.0) for _ in range(n_sessions)]
    for s in rng.choices(range(n_sessions), weights, k=n_pairs + n_single - 2 * n_sessions):
        while counts[s] >= cap:  # a session never repeats a prompt: spill to the next one
            s = (s + 1) % n_sessions
        counts[s] += 1
    return counts, n_single


def make_interactions(
    rng: random.Random,
    sessions: list[Session],
    prompts: list[Prompt],
    n_files: int,
    time_scale: float = 1.0,
) -> list[Interaction]:
    by_hash = sorted(prompts, key=lambda p: p.hash)
    pools = {
        "improvised": [p for p in by_hash if p.ipc_b],
        "naturalistic": [p for p in by_hash if not p.ipc_b],
    }
    counts, n_single = interaction_counts(rng, n_files, len(sessions), len(prompts) // 2)
    singles = _singleton_slots(rng, sessions, counts, n_single)
    out: list[Interaction] = []
    for s_idx, (session, count) in enumerate(zip(sessions, counts)):
        used: set[str] = set()
        for i in range(count):
            label = ("improvised", "naturalistic")[i] if i < 2 else _label(rng)
            reuse = out[0].prompt if (s_idx == 1 and i == 0) else None  # planted prompt reuse
            prompt = reuse or _pick_prompt(rng, pools[label], by_hash, used)
            used.add(prompt.hash)
            singleton = (s_idx, i) in singles
            out.append(_interaction(rng, session, prompt, label, singleton, time_scale))
    return out


def _label(rng: random.Random) -> str:
    return "improvised" if rng.random() < P_IMPROVISED else "naturalistic"


def _singleton_slots(
    rng: random.Random, sessions: list[Session], counts: list[int], n: int
) -> set[tuple[int, int]]:
    """(session, position) of singleton interactions: the last interaction of train sessions."""
    train = [i for i, s in enumerate(sessions) if s.split == "train" and counts[i] > 2]
    train = train or [i for i, s in enumerate(sessions) if s.split == "train"]
    chosen = [train[0]] + rng.sample(train, min(len(train), n))
    return {(s, counts[s] - 1) for s in chosen[:n]}


def _pick_prompt(
    rng: random.Random, pool: list[Prompt], every: list[Prompt], used: set[str]
) -> Prompt:
    for _ in range(20):
        prompt = rng.choice(pool)
        if prompt.hash not in used:
            return prompt
    return next(p for p in every if p.hash not in used)


def _interaction(
    rng: random.Random,
    session: Session,
    prompt: Prompt,
    label: str,
    singleton: bool,
    time_scale: float = 1.0,
) -> Interaction:
    inter = Interaction(session, prompt, label, singleton, [])
    base = _duration_ms(rng, time_scale)
    other = base + rng.randint(-1500, 1500)
    if rng.random() < P_DURATION_MISMATCH:
        other = base + rng.choice((-1, 1)) * round(rng.randint(30_000, 180_000) * time_scale)
    pair_ms = (base, max(round(MIN_DURATION_MS * time_scale), other))
    movement = rng.random() < P_MOVEMENT
    ann_3p = rng.random() < P_ANNOTATED_3P
    ann_1p = ann_3p and rng.random() < P_1P_GIVEN_3P
    people = session.people[:1] if singleton else session.people
    for side, person in enumerate(people):
        file_id = f"{inter.key}_P{person.participant}"
        rec = FileRec(file_id, inter.key, label, session.split, side, pair_ms[side], pair_ms)
        rec.movement, rec.ann_1p, rec.ann_3p = movement, ann_1p, ann_3p
        rec.placeholder = not ann_3p and rng.random() < P_PLACEHOLDER
        rec.silent = not rec.placeholder and rng.random() < P_SILENT
        rec.extra_key = rng.random() < P_EXTRA_KEY
        inter.files.append(rec)
    for rec in inter.files:
        _settle_placeholder(rec)
    return inter


def _duration_ms(rng: random.Random, time_scale: float = 1.0) -> int:
    """A recording's length: the release's lognormal (mean ~226 s, 60-600 s), scaled."""
    ms = rng.lognormvariate(DURATION_MU, DURATION_SIGMA) * 1000 * time_scale
    low, high = MIN_DURATION_MS * time_scale, MAX_DURATION_MS * time_scale
    return round(min(high, max(low, ms)))


def _settle_placeholder(rec: FileRec) -> None:
    if rec.placeholder:
        rec.duration_ms, rec.movement, rec.silent, rec.extra_key = 0, False, False, False
