"""Plan prompts, participants and sessions (vendor-local numbering, asset-row quirks)."""

from __future__ import annotations

import random

from . import texts
from .model import FULL_PROMPTS, VENDORS, Person, Prompt, Session

TYPE_WEIGHTS = {
    "ipc_conversation": 946, "grounded_gesture": 322, "collaborative_storytelling": 40,
    "charades": 4,
}  # fmt: skip
IPC = ("ANCP", "AMCP", "ANCM", "APCP", "APCN", "AMCN", "APCM", "AMCM", "CGST")
RELATIONSHIPS = {
    ("stranger", "stranger"): 3347, ("familiar", "friends"): 1059,
    ("familiar", "coworkers"): 232, ("familiar", "family-generic"): 155,
    ("familiar", "familiar-generic"): 154, ("familiar", "dating/spouse/romantic_partner"): 98,
    ("familiar", "classmates"): 38, ("familiar", "siblings"): 8, ("familiar", "parent_child"): 4,
    ("familiar", "neighbors"): 2, ("familiar", "roommates"): 1,
}  # fmt: skip
SESSION_WEIGHTS = (2036, 390, 941, 1731)  # relationships.csv rows per vendor
FIRST_VENDORS = ("V01", "V02", "V00", "V03")  # small releases still see every vendor quirk
# Participant numbers start per vendor; V01 and V02 share a range, so bare ids recur.
PERSON_BASE = {"V00": 100, "V01": 1600, "V02": 1600, "V03": 1400}
SESSION_BASE = {"V00": 100, "V01": 100, "V02": 300, "V03": 200}  # numbers recur across vendors
P_SUFFIX_A = 0.135  # only V00 participants carry the A suffix
P_REUSE_PERSON = 0.58  # about 2.4 sessions per participant
P_UNDISCLOSED = 0.45
P_NOT_IN_CSV = 0.006
P_NO_RELATIONSHIP = 0.024
DEV_TEST_SHARE = 0.0169


def make_prompts(rng: random.Random, n: int) -> list[Prompt]:
    """``n`` prompts (hashes 0..n-1); the first few cover every type and text quirk."""
    prompts, seen = [], set()
    types = list(TYPE_WEIGHTS)
    for i in range(n):
        itype = types[i] if i < len(types) else rng.choices(types, TYPE_WEIGHTS.values())[0]
        two_roles = i % 2 == 1 if i < 8 else rng.random() < 0.48
        multiline = i in (0, 2) or (i >= 8 and rng.random() < 0.44)
        crlf = i == 2 or (multiline and i >= 8 and rng.random() < 0.105)
        ipc_a, ipc_b = rng.choice(IPC), rng.choice(IPC) if two_roles else ""
        pid = _prompt_id(rng, ipc_a, ipc_b)
        if pid in seen:
            pid = f"{pid}-{i}"
        seen.add(pid)
        text_a, text_b = texts.prompt_pair(rng, multiline, crlf)
        prompts.append(Prompt(f"{i:08d}", pid, text_a, text_b, ipc_a, ipc_b, itype))
    return _shuffle_locally(rng, prompts)


def _prompt_id(rng: random.Random, ipc_a: str, ipc_b: str) -> str:
    if ipc_b:
        return f"RP{rng.randint(1, 4)}.{rng.randint(0, 9)}_{ipc_a}_{ipc_b}"
    return f"P{rng.randint(1, 6999):04d}_v3.{rng.randint(0, 7)}.fam_{ipc_a}_XXXX"


def _shuffle_locally(rng: random.Random, items: list[Prompt]) -> list[Prompt]:
    """CSV row order follows the hash except for a few swapped neighbours."""
    out = list(items)
    for i in range(0, len(out) - 1, 7):
        if rng.random() < 0.3:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def n_prompts_for(n_files: int) -> int:
    return min(FULL_PROMPTS, max(48, n_files // 8))


class PeoplePlanner:
    """Hands out vendor-local participant and session numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[Person] = []
        self.by_vendor: dict[str, list[Person]] = {v: [] for v in VENDORS}
        self.next_person = dict(PERSON_BASE)
        self.next_session = dict(SESSION_BASE)

    def new_person(self, vendor: str) -> Person:
        rng, num = self.rng, self.next_person[vendor]
        self.next_person[vendor] += 1
        n_vendor = len(self.by_vendor[vendor])
        suffix = vendor == "V00" and (n_vendor == 1 or (n_vendor > 1 and rng.random() < P_SUFFIX_A))
        undisclosed = rng.random() < P_UNDISCLOSED
        bfi = None if undisclosed else tuple(_bfi_mean(rng) for _ in range(5))
        person = Person(
            vendor, f"{num:04d}{'A' if suffix else ''}", bfi, rng.random() > P_NOT_IN_CSV
        )
        self.people.append(person)
        self.by_vendor[vendor].append(person)
        return person

    def pick_person(self, vendor: str, exclude: Person | None) -> Person:
        pool = self.by_vendor[vendor]
        if len(pool) >= 2 and self.rng.random() < P_REUSE_PERSON:
            person = self.rng.choice(pool)
            if person is not exclude:
                return person
        return self.new_person(vendor)

    def new_session_number(self, vendor: str) -> str:
        num = self.next_session[vendor]
        self.next_session[vendor] += self.rng.randint(1, 3)
        return f"{num:04d}"


def _bfi_mean(rng: random.Random) -> float:
    """A BFI-2 domain mean of 12 items on 1..5 (k/12 keeps the binary float noise)."""
    return min(60, max(12, round(rng.gauss(41, 7)))) / 12


def make_sessions(rng: random.Random, n_sessions: int) -> tuple[list[Session], PeoplePlanner]:
    planner = PeoplePlanner(rng)
    splits = _session_splits(rng, n_sessions)
    sessions = []
    for i in range(n_sessions):
        vendor = FIRST_VENDORS[i] if i < 4 else rng.choices(VENDORS, SESSION_WEIGHTS)[0]
        first = planner.new_person(vendor) if i < 4 else planner.pick_person(vendor, None)
        second = planner.new_person(vendor) if i < 4 else planner.pick_person(vendor, first)
        no_rel = i == 1 or (i >= 4 and rng.random() < P_NO_RELATIONSHIP)
        rel = None if no_rel else rng.choices(list(RELATIONSHIPS), RELATIONSHIPS.values())[0]
        number = planner.new_session_number(vendor)
        sessions.append(Session(vendor, number, splits[i], (first, second), rel))
    sessions[0].people[0].bfi = None  # planted: an Undisclosed row
    sessions[0].people[1].in_csv = False  # planted: a participant without a row
    _plant_disclosed_familiar(sessions[2])
    return sessions, planner


def _plant_disclosed_familiar(session: Session) -> None:
    """Make one early session a familiar pair with both BFI-2 rows disclosed, so that every
    release, the smallest sample too, answers the README's first questions (familiar pairs and
    their traits). Its own generator: the rest of the release does not shift."""
    if session.relationship is None or session.relationship[0] != "familiar":
        session.relationship = ("familiar", "friends")
    for person in session.people:
        if person.bfi is None:
            rng = random.Random(f"disclosed:{person.vendor}:{person.participant}")
            person.bfi = tuple(_bfi_mean(rng) for _ in range(5))
        person.in_csv = True


def _session_splits(rng: random.Random, n: int) -> list[str]:
    n_dev = n_test = max(1, round(n * DEV_TEST_SHARE))
    order = list(range(n))
    rng.shuffle(order)
    splits = ["train"] * n
    for rank, idx in enumerate(order[: n_dev + n_test]):
        splits[idx] = "dev" if rank < n_dev else "test"
    if splits[0] != "train":  # session 0 carries the planted quirks; keep it in train
        j = splits.index("train")
        splits[0], splits[j] = splits[j], splits[0]
    return splits


def orphans(
    rng: random.Random, planner: PeoplePlanner, n_people: int, n_sessions: int
) -> tuple[list[Person], list[Session]]:
    """Asset rows that match nothing in the filelist (outer joins must keep them apart)."""
    people = [planner.new_person(rng.choice(VENDORS)) for _ in range(max(1, n_people // 200))]
    for p in people:
        p.in_csv = True
    sessions = []
    for _ in range(max(1, n_sessions // 200)):
        vendor = rng.choice(VENDORS)
        rel = rng.choices(list(RELATIONSHIPS), RELATIONSHIPS.values())[0]
        number = planner.new_session_number(vendor)
        sessions.append(Session(vendor, number, "train", (people[0], people[0]), rel))
    return people, sessions
