"""Build the whole release model for a target size: the one place that orders the planners."""

from __future__ import annotations

import random
from collections import defaultdict

from ..errors import UsageError
from . import pack
from .interactions import Interaction, make_interactions
from .model import FULL_FILES, FileRec, Plan
from .people import make_prompts, make_sessions, n_prompts_for, orphans

FILES_PER_SESSION = FULL_FILES / 5_098
MISMATCH_MS = 95_000
MISMATCH_QUIRK_MS = 30_000  # a dyad whose halves differ by this much (at the release's scale)
MAX_MS = 600_000
# Recording lengths: the release's ("real", mean ~226 s) or a tenth of them ("short", mean
# ~23 s: full-length float32 wav costs 192 kB a second). Conversational timing (IPUs, gaps,
# overlaps) is the same in both; only whole-recording lengths are scaled.
DURATIONS = {"real": 1.0, "short": 0.1}
SMPLH_240HZ = 8  # upstream issue #34: SMPL-H frame counts of 8 x 30 Hz in six V01 recordings
# The per-file JSON's shape: "mixed" plants every variant a reader must accept (indent 2 where
# annotated, annotations, an extra key); "homogeneous" is shaped like most real documents
# (4-space indent, the three keys only, dense word lists: ~70 KB), for ingest benchmarks.
SHAPES = ("mixed", "homogeneous")


def target_files(n_files: int | None, scale: float | None) -> int:
    """Resolve ``n_files``/``scale`` (exactly one may be given; neither means 40 files)."""
    if n_files is not None and scale is not None:
        raise UsageError("give --n-files or --scale, not both")
    if scale is not None:
        if not 0 < scale <= 1:
            raise UsageError(f"--scale {scale}: give a fraction in (0, 1]")
        n_files = round(FULL_FILES * scale)
    n_files = 40 if n_files is None else n_files
    if n_files < 12:
        raise UsageError(f"--n-files {n_files}: give at least 12 (24 or more plants every quirk)")
    return n_files


def build_plan(
    n_files: int,
    seed: int,
    durations: str = "real",
    smplh_240hz: bool = False,
    shape: str = "mixed",
) -> Plan:
    if durations not in DURATIONS:
        raise ValueError(f"durations must be one of {sorted(DURATIONS)}, got {durations!r}")
    if shape not in SHAPES:
        raise UsageError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    time_scale = DURATIONS[durations]
    rng = random.Random(seed)
    prompts = make_prompts(rng, n_prompts_for(n_files))
    n_sessions = max(4, round(n_files / FILES_PER_SESSION))  # every vendor
    sessions, planner = make_sessions(rng, n_sessions)
    interactions = make_interactions(rng, sessions, prompts, n_files, time_scale)
    _plant_file_quirks(interactions, time_scale)
    if shape == "homogeneous":
        _homogeneous(interactions)
    if smplh_240hz:
        _plant_smplh_240hz(interactions)
    archives = pack.pack(rng, interactions)
    pack.plant_strays(rng, archives, n_files)
    people = sorted(
        {id(p): p for s in sessions for p in s.people}.values(),
        key=lambda p: (p.vendor, p.participant),
    )
    orphan_people, orphan_sessions = orphans(rng, planner, len(people), n_sessions)
    files = sorted((r for i in interactions for r in i.files), key=lambda r: r.file_id)
    _plant_media_quirks(files)
    plan = Plan(
        seed, prompts, people, sessions, files, archives, orphan_people, orphan_sessions, {},
        time_scale,
    )  # fmt: skip
    plan.quirks = collect_quirks(plan, interactions)  # smplh_240hz: the planted pair, if any
    return plan


def _homogeneous(interactions: list[Interaction]) -> None:
    """Every document with the same keys and indent: no annotations, no extra key; dense words.
    The data-level quirks (placeholders, empty VAD, null word times) stay."""
    for inter in interactions:
        for rec in inter.files:
            rec.ann_1p = rec.ann_3p = rec.extra_key = False
            rec.dense_words = True


def _plant_smplh_240hz(interactions: list[Interaction]) -> list[str]:
    """Give both sides of one recorded pair (a V01 one when there is one) SMPL-H arrays with 8x
    the frames while wav, mp4 and the other groups stay at 30 Hz; their file_ids.

    Off by default: the real release has six such files in 129,370, and every other test
    expects one frame count per file."""
    pairs = [
        i for i in interactions
        if len(i.files) == 2 and not any(r.placeholder or r.duration_ms == 0 for r in i.files)
    ]  # fmt: skip
    if not pairs:
        return []
    inter = next((i for i in reversed(pairs) if i.session.vendor == "V01"), pairs[-1])
    for rec in inter.files:
        rec.smplh_rate_multiple = SMPLH_240HZ
    return sorted(r.file_id for r in inter.files)


def _plant_file_quirks(interactions: list[Interaction], time_scale: float = 1.0) -> None:
    """Put one example of each per-file quirk in a known place (train pairs, then dev/test)."""
    pairs = [i for i in interactions if len(i.files) == 2]
    special = [i for i in pairs if i.session.split == "train"] or pairs
    for role, inter in enumerate(special[:4] + special[: max(0, 4 - len(special))]):
        a, b = inter.files
        for rec in (a, b):
            rec.ann_1p = rec.ann_3p = False
        if role == 0:
            a.force_null_word, b.placeholder, a.movement = True, True, True
        elif role == 1:
            a.silent, a.movement = True, False
            a.zero_start_side = b.zero_start_side = 1
        elif role == 2:
            a.extra_key = True
        else:
            longer = min(round(MAX_MS * time_scale), a.pair_ms[0] + round(MISMATCH_MS * time_scale))
            a.pair_ms = b.pair_ms = (a.pair_ms[0], longer)
            b.duration_ms = 0 if b.placeholder else longer
        for rec in (a, b):
            _reset(rec)
    _plant_annotations(interactions)


def _plant_annotations(interactions: list[Interaction]) -> None:
    for split, both in (("dev", True), ("test", False)):
        inter = next(i for i in interactions if i.session.split == split)
        for rec in inter.files:
            rec.ann_3p, rec.ann_1p, rec.placeholder = True, both, False
            _reset(rec)


def _plant_media_quirks(files: list[FileRec]) -> None:
    """Both moov placements (alternating in file_id order) and one mp4 cut short inside its
    mdat (moov first, so it keeps its duration, as 7 real files do)."""
    for i, rec in enumerate(files):
        rec.moov_first = i % 2 == 0
    plain = [
        r for r in files
        if not (r.placeholder or r.silent or r.ann_1p or r.ann_3p or r.extra_key
                or r.force_null_word) and r.split == "train"
    ]  # fmt: skip
    if not plain:
        return
    cut = plain[len(plain) // 2]
    cut.truncated_mp4 = cut.moov_first = True


def _reset(rec: FileRec) -> None:
    """Keep a placeholder's facts coherent after quirks were moved around."""
    if rec.placeholder:
        rec.duration_ms, rec.movement, rec.silent, rec.extra_key = 0, False, False, False
        rec.force_null_word = False
    else:
        rec.duration_ms = rec.pair_ms[rec.side]


def collect_quirks(plan: Plan, interactions: list[Interaction]) -> dict[str, list[str]]:
    """Where each quirk was planted: quirk name -> sorted file_ids (prompt hashes for prompts)."""
    files_of = defaultdict(list)
    for rec in plan.files:
        files_of[("person", *_person_key(rec))].append(rec.file_id)
        files_of[("session", rec.interaction_key.rsplit("_I", 1)[0])].append(rec.file_id)
    person_files = {k[1:]: v for k, v in files_of.items() if k[0] == "person"}
    session_files = {k[1]: v for k, v in files_of.items() if k[0] == "session"}
    people = {(p.vendor, p.participant): p for p in plan.people}
    q: dict[str, list[str]] = defaultdict(list)
    for key, ids in person_files.items():
        person = people[key]
        if person.participant.endswith("A"):
            q["participant_suffix_a"] += ids
        if not person.in_csv:
            q["participant_not_in_csv"] += ids
        elif person.bfi is None:
            q["participant_undisclosed"] += ids
    bare = defaultdict(set)
    for vendor, participant in person_files:
        bare[participant].add(vendor)
    q["participant_id_reused_across_vendors"] = [
        f for (_, p), ids in person_files.items() if len(bare[p]) > 1 for f in ids
    ]
    for session in plan.sessions:
        if session.relationship is None:
            q["session_not_in_relationships"] += session_files[session.key]
    numbers = defaultdict(set)
    for session in plan.sessions:
        numbers[session.number].add(session.vendor)
    q["session_number_reused_across_vendors"] = [
        f for s in plan.sessions if len(numbers[s.number]) > 1 for f in session_files[s.key]
    ]
    prompt_sessions = defaultdict(set)
    for inter in interactions:
        prompt_sessions[inter.prompt.hash].add(inter.session.key)
    for inter in interactions:
        ids = [r.file_id for r in inter.files]
        if len(prompt_sessions[inter.prompt.hash]) > 1:
            q["prompt_reused_across_sessions"] += ids
        if len(ids) == 1:
            q["singleton_interaction"] += ids
        gap = abs(inter.files[0].pair_ms[0] - inter.files[0].pair_ms[1])
        if gap >= MISMATCH_QUIRK_MS * plan.time_scale and len(ids) == 2:
            q["dyad_duration_mismatch"] += ids
    _file_flag_quirks(plan, q)
    return {k: sorted(set(v)) for k, v in sorted(q.items())}


def _person_key(rec: FileRec) -> tuple[str, str]:
    return rec.file_id[:3], rec.file_id.rsplit("_P", 1)[1]


def _file_flag_quirks(plan: Plan, q: dict[str, list[str]]) -> None:
    flags = {
        "placeholder": lambda r: r.placeholder,
        "empty_vad": lambda r: r.placeholder or r.silent,
        "null_word_times": lambda r: r.force_null_word,
        "vad_starts_at_int_zero": lambda r: r.zero_start_side == r.side and not r.placeholder,
        "extra_json_key": lambda r: r.extra_key,
        "json_indent_2": lambda r: r.indent == 2,
        "has_imitator_movement": lambda r: r.movement,
        "annotation_1p": lambda r: r.ann_1p,
        "annotation_3p": lambda r: r.ann_3p,
        "mp4_moov_first": lambda r: r.moov_first and not r.placeholder,
        "mp4_moov_at_end": lambda r: not r.moov_first and not r.placeholder,
        "truncated_mp4": lambda r: r.truncated_mp4,
        "smplh_240hz": lambda r: r.smplh_rate_multiple > 1,
        "video_29_97_fps": lambda r: r.ntsc and not r.placeholder,
    }
    for name, test in flags.items():
        q[name] = [r.file_id for r in plan.files if test(r)]
    q["json_indent_4"] = [r.file_id for r in plan.files if r.indent == 4][:20]
    q["pair_split_across_archives"] = pack.split_pairs(plan.archives)
    q["stray_in_tar"] = [r.file_id for a in plan.archives for r in a.strays]
    q["missing_on_hub"] = [r.file_id for a in plan.archives if not a.on_hub for r in a.files]
    gap_batches = {g["batch"]: g["missing"] for g in pack.archive_gaps(plan.archives)}
    q["archive_gap_in_batch"] = [
        r.file_id for a in plan.archives if a.path.rsplit("/", 1)[0] in gap_batches for r in a.files
    ]
    q["prompt_with_newline"] = [p.hash for p in plan.prompts if "\n" in p.text_a + p.text_b]
    q["prompt_with_crlf"] = [p.hash for p in plan.prompts if "\r\n" in p.text_a + p.text_b]
    q["prompt_ipc_b_empty"] = [p.hash for p in plan.prompts if not p.ipc_b]
