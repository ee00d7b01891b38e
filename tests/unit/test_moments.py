"""The moment views (sql/7*.sql) against an independent per-millisecond reference of
shared/turn-taking.md's "Moments": hand-made cases with known answers, random pairs
(hypothesis) and the 10 real dyads and their 3P annotations (the ``real`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_turn_taking import (
    SQL_DIR,
    add_file,
    add_pair,
    backchannels,
    bridge,
    classify,
    make_con,
    normalise,
    segment,
    state_runs,
)

VAP_COND_MS = 1000  # single-speaker activity before and after a VAP shift or hold
VAP_CONTEXT_MS = 3000  # a VAP event starts at least this far into the recording
BC_MAX_MS = 1000
BC_SILENCE_MS = 1000
LISTEN_MIN_MS = 2500
MOMENT_VIEWS = ("turn_shifts", "turn_holds", "backchannels", "listening_segments",
                "annotation_moments", "ipu_moments")  # fmt: skip

# ---------------------------------------------------------------------------------------------
# reference: every millisecond labelled; a speaker's pause (silence between two of its IPUs,
# partner silent) counts as that speaker's activity once filled, as VAP's fill_pauses does
# ---------------------------------------------------------------------------------------------


class Timeline:
    """Per-ms states of a pair: raw activity of each speaker and the filled (pause) activity."""

    def __init__(self, a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
        self.ipus = {"a": a, "b": b}
        self.runs = state_runs(a, b)
        end = max([e for _, e in a + b], default=0) + 5000
        self.active = {x: [False] * end for x in "ab"}
        for x, ipus in self.ipus.items():
            for s, e in ipus:
                self.active[x][s:e] = [True] * (e - s)
        self.filled = {x: list(self.active[x]) for x in "ab"}
        for i, (state, s, e) in enumerate(self.runs):
            prev = self.runs[i - 1][0] if i else None
            nxt = self.runs[i + 1][0] if i + 1 < len(self.runs) else None
            if state == "N" and prev == nxt and prev in ("A", "B"):
                self.filled[prev.lower()][s:e] = [True] * (e - s)
        self.end = end

    def single(self, x: str, t0: int, t1: int) -> bool:
        """Only ``x`` active (pauses filled) over [t0, t1), the other silent."""
        other = "b" if x == "a" else "a"
        if t0 < 0 or t1 > self.end:
            return False
        return all(self.filled[x][t0:t1]) and not any(self.active[other][t0:t1])

    def islands(self, x: str) -> list[tuple[int, int]]:
        out, start = [], None
        for t, on in enumerate(self.filled[x] + [False]):
            if on and start is None:
                start = t
            elif not on and start is not None:
                out.append((start, t))
                start = None
        return out


def ref_turn_events(tl: Timeline) -> list[tuple]:
    """(kind, start_ms, end_ms, from, to, vap) for gaps, between-overlaps and pauses."""
    out = []
    for kind, s, e, fr, to, _ in classify(tl.runs):
        if kind not in ("gap", "between_overlap", "pause"):
            continue
        vap = (
            kind != "between_overlap"
            and e > s
            and s >= VAP_CONTEXT_MS
            and tl.single(fr, s - VAP_COND_MS, s)
            and tl.single(to, e, e + VAP_COND_MS)
        )
        out.append((kind, s, e, fr, to, vap))
    return sorted(out)


def ref_backchannels(tl: Timeline, durations: dict[str, int | None]) -> set[tuple]:
    """(speaker, start_ms, end_ms, vap, during_partner_speech)."""
    rules: dict[tuple, list[bool]] = {}
    for x in "ab":
        isl = tl.islands(x)
        for i, (s, e) in enumerate(isl):
            before = s - (isl[i - 1][1] if i else 0)
            nxt = isl[i + 1][0] if i + 1 < len(isl) else durations[x]
            after = BC_SILENCE_MS if nxt is None else nxt - e
            if e - s <= BC_MAX_MS and s >= VAP_CONTEXT_MS and min(before, after) >= BC_SILENCE_MS:
                rules.setdefault((x, s, e), [False, False])[0] = True
        partner = tl.ipus["b" if x == "a" else "a"]
        for s, e in backchannels(tl.ipus[x], partner):
            rules.setdefault((x, s, e), [False, False])[1] = True
    return {(*k, *v) for k, v in rules.items()}


def ref_listening(tl: Timeline, durations: dict[str, int | None]) -> set[tuple]:
    """(listener, start_ms, end_ms): partner active or pausing (filled), listener silent."""
    out = set()
    for x in "ab":
        other = "b" if x == "a" else "a"
        end = tl.end if durations[x] is None else min(tl.end, durations[x])
        start = None
        for t in range(end + 1):
            on = t < end and tl.filled[other][t] and not tl.active[x][t]
            if on and start is None:
                start = t
            elif not on and start is not None:
                if t - start >= LISTEN_MIN_MS:
                    out.add((x, start, t))
                start = None
    return out


# ---------------------------------------------------------------------------------------------
# DuckDB side: the turn-taking test's tables, plus raw.annotations and the moment views
# ---------------------------------------------------------------------------------------------


def moment_con() -> duckdb.DuckDBPyConnection:
    con = make_con()
    con.execute(
        "create table raw.annotations (file_id varchar, annotation_type varchar, "
        "annotation_idx integer, text varchar, start_s double, end_s double, label varchar, "
        "split varchar, source_unit varchar)"
    )
    for path in sorted(SQL_DIR.glob("7[0-9]_*.sql")):
        con.execute(path.read_text())
    return con


@pytest.fixture
def con():
    c = moment_con()
    yield c
    c.close()


def ipus_of(segs, dur=None):
    return bridge(normalise(segs, dur)[0])


def got_turn_events(con, key):
    rows = con.execute(
        "select kind, start_ms, end_ms, from_speaker, to_speaker, vap from turn_events "
        "where interaction_key = ? order by all",
        [key],
    ).fetchall()
    return [tuple(r) for r in rows]


def got_backchannels(con, key):
    rows = con.execute(
        "select speaker, cast(round(start_s * 1000) as bigint), cast(round(end_s * 1000) as "
        "bigint), vap, during_partner_speech from backchannels where interaction_key = ?",
        [key],
    ).fetchall()
    return {tuple(r) for r in rows}


def got_listening(con, key):
    rows = con.execute(
        "select case when file_id like '%P0001' then 'a' else 'b' end, "
        "cast(round(start_s * 1000) as bigint), cast(round(end_s * 1000) as bigint) "
        "from listening_segments where interaction_key = ?",
        [key],
    ).fetchall()
    return {tuple(r) for r in rows}


def check_moments(con, key, segs_a, segs_b, dur_a=None, dur_b=None):
    """Every moment view of one pair equals the reference (the pair is added unless it is
    there); returns the reference's parts."""
    if not con.execute("select 1 from pairs where interaction_key = ?", [key]).fetchall():
        add_pair(con, key, segs_a, segs_b, dur_a, dur_b)
    tl = Timeline(ipus_of(segs_a, dur_a), ipus_of(segs_b, dur_b))
    durations = {x: None if d is None else round(d * 1000) for x, d in (("a", dur_a), ("b", dur_b))}
    want = {
        "events": ref_turn_events(tl),
        "backchannels": ref_backchannels(tl, durations),
        "listening": ref_listening(tl, durations),
    }
    assert got_turn_events(con, key) == want["events"], key
    assert got_backchannels(con, key) == want["backchannels"], key
    assert got_listening(con, key) == want["listening"], key
    return want


# ---------------------------------------------------------------------------------------------
# conventions and shape
# ---------------------------------------------------------------------------------------------


def test_moment_views_have_the_moment_columns_and_cite_their_definitions(con):
    for view in (*MOMENT_VIEWS, "moments"):
        cols = [d[0] for d in con.execute(f"select * from {view} limit 0").description]
        assert cols[:1] == ["interaction_key"] and {"file_id", "start_s", "end_s", "kind"} <= set(
            cols
        ), view
    first = {p.stem.split("_", 1)[1]: p.read_text().splitlines()[0] for p in SQL_DIR.glob("7*")}
    for view in ("turn_events", "turn_shifts", "turn_holds"):
        assert "Heldner & Edlund" in first[view] and "Voice Activity Projection" in first[view]
    assert "Voice Activity Projection" in first["backchannels"]
    assert (
        "turn_taking" in first["backchannels"]
        and "listen_min_ms=2500" in first["listening_segments"]
    )
    assert "timestamps" in first["annotation_moments"]


# ---------------------------------------------------------------------------------------------
# hand-made cases
# ---------------------------------------------------------------------------------------------


def test_shifts_and_holds_with_and_without_the_vap_conditions(con):
    a = [(0.0, 5.0), (5.5, 6.5), (8.0, 10.0), (20.0, 20.4), (30.0, 31.0)]
    b = [(6.8, 7.5), (10.3, 15.0), (16.0, 18.0), (19.5, 25.0)]
    add_pair(con, "K", a, b)
    # pause a 5.0-5.5: 5 s of a before, then 1.0 s of a after (5.5-6.5): a VAP hold
    # gap a->b 6.5-6.8: b speaks only 0.7 s after: not a VAP shift
    # gap b->a 7.5-8.0: b spoke only 0.7 s before: no
    # gap a->b 10.0-10.3: 2 s of a before (8-10), b 10.3-15.0 after: a VAP shift
    # pause b 15.0-16.0: b single before and after (16-18): a VAP hold
    # gap b->a 18.0 ... b 19.5 is b again: pause b 18.0-19.5 (a silent), a's 20.0-20.4 inside b:
    # within-overlap; b 19.5-25 then gap b->a 25-30 with a speaking only 1 s after: VAP shift
    want = check_moments(con, "K", a, b)
    events = {(k, s, e): vap for k, s, e, _, _, vap in want["events"]}
    assert events[("pause", 5000, 5500)] is True
    assert events[("gap", 6500, 6800)] is False
    assert events[("gap", 7500, 8000)] is False
    assert events[("gap", 10000, 10300)] is True
    assert events[("pause", 15000, 16000)] is True
    assert events[("gap", 25000, 30000)] is True
    shifts = con.execute(
        "select start_s, end_s, kind, interval, from_file_id, to_file_id, fto_ms, vap, file_id "
        "from turn_shifts where start_s = 10.0"
    ).fetchall()
    assert shifts == [(10.0, 10.3, "shift", "gap", "K_P0001", "K_P0002", 300, True, None)]
    holds = con.execute(
        "select start_s, end_s, speaker, speaker_file_id, pause_ms, vap from turn_holds "
        "where start_s = 15.0"
    ).fetchall()
    assert holds == [(15.0, 16.0, "b", "K_P0002", 1000, True)]


def test_the_vap_context_and_the_partner_s_activity(con):
    # a pause at 2.0 s: too early (< 3 s of context) though single-speaker around it
    a = [(0.0, 2.0), (2.5, 4.0), (10.0, 12.0), (12.5, 14.0)]
    # b's short IPU ends 0.4 s before a's 12.0-12.5 pause: a is not alone before it
    b = [(11.0, 11.6)]
    want = check_moments(con, "K", a, b)
    events = {(k, s): vap for k, s, _, _, _, vap in want["events"]}
    assert events[("pause", 2000)] is False
    assert events[("pause", 12000)] is False


def test_overlaps_and_direct_handovers_are_shifts_but_never_vap_shifts(con):
    a = [(0.0, 5.0), (8.0, 12.0)]
    b = [(4.5, 8.0), (11.5, 15.0)]  # overlap a->b at 4.5-5.0, handover b->a at 8.0, overlap
    check_moments(con, "K", a, b)
    got = con.execute(
        "select interval, start_s, end_s, fto_ms, vap from turn_shifts order by start_s"
    ).fetchall()
    assert got == [
        ("between_overlap", 4.5, 5.0, -500, False),
        ("gap", 8.0, 8.0, 0, False),
        ("between_overlap", 11.5, 12.0, -500, False),
    ]


def test_backchannels_by_both_rules(con):
    a = [(0.0, 10.0), (12.0, 20.0), (20.5, 22.0), (30.0, 32.0), (36.0, 40.0)]
    b = [
        (1.0, 1.5),  # inside a's speech but under 3 s in: turn_taking's rule only
        (5.0, 6.0),  # inside a's speech: both rules
        (10.6, 11.4),  # alone in a silence of a's: VAP only (no partner IPU overlaps it)
        (20.1, 20.4),  # in a's 20.0-20.5 pause, no partner IPU overlaps: VAP only
        (25.0, 25.5),  # alone, nobody else speaks: VAP only
        (33.0, 33.3),
        (33.6, 34.0),  # two IPUs 0.3 s apart while a is silent: b's pause is filled, so VAP
        # sees one 1.0 s vocalisation 33.0-34.0; turn_taking's rule sees two, too close
    ]
    want = check_moments(con, "K", a, b)
    got = {(s, e): (vap, during) for x, s, e, vap, during in want["backchannels"] if x == "b"}
    assert got[(1000, 1500)] == (False, True)
    assert got[(5000, 6000)] == (True, True)
    assert got[(10600, 11400)] == (True, False)
    assert got[(20100, 20400)] == (True, False)
    assert got[(25000, 25500)] == (True, False)
    assert got[(33000, 34000)] == (True, False)
    assert (33000, 33300) not in got and (33600, 34000) not in got
    row = con.execute(
        "select file_id, partner_file_id, kind, duration_ms from backchannels where start_s = 5.0"
    ).fetchall()
    assert row == [("K_P0002", "K_P0001", "backchannel", 1000)]


def test_a_backchannel_needs_silence_until_the_end_of_the_recording(con):
    a = [(0.0, 10.0)]
    b = [(5.0, 5.5), (9.0, 9.5)]
    check_moments(con, "K", a, b, 12.0, 9.8)  # b's recording ends 0.3 s after its 9.0-9.5
    got = con.execute("select start_s, vap from backchannels order by 1").fetchall()
    assert got == [(5.0, True), (9.0, False)]


def test_listening_segments(con):
    a = [(0.0, 4.0), (4.5, 8.0), (20.0, 21.0)]  # a talks 0-8 with a pause; then alone at 20
    b = [(3.0, 3.3), (9.0, 18.0)]  # b's backchannel at 3.0 splits b's listening stretch
    want = check_moments(con, "K", a, b, 30.0, 19.0)
    # b listens while a holds the floor (a's 4.0-4.5 pause filled), split by b's backchannel;
    # a listens to b 9-18; a's 20-21 is past the end of b's recording (19 s)
    assert want["listening"] == {("b", 0, 3000), ("b", 3300, 8000), ("a", 9000, 18000)}
    got = con.execute(
        "select file_id, partner_file_id, start_s, end_s, duration_ms from listening_segments "
        "order by start_s"
    ).fetchall()
    assert got == [
        ("K_P0002", "K_P0001", 0.0, 3.0, 3000),
        ("K_P0002", "K_P0001", 3.3, 8.0, 4700),
        ("K_P0001", "K_P0002", 9.0, 18.0, 9000),
    ]


def test_listening_is_clipped_to_the_listener_s_recording(con):
    check_moments(con, "K", [(0.0, 20.0)], [(25.0, 26.0)], 30.0, 12.0)
    got = con.execute("select file_id, start_s, end_s from listening_segments").fetchall()
    assert got == [("K_P0002", 0.0, 12.0)]


def add_annotations(con, file_id, lines):
    for i, (kind, text, s, e) in enumerate(lines):
        con.execute(
            "insert into raw.annotations values (?, ?, ?, ?, ?, ?, 'n', 't', 'u')",
            [file_id, kind, i, text, s, e],
        )


def test_annotation_moments_join_on_timestamps_not_line_order(con):
    add_pair(con, "K", [(0, 1)], [(2, 3)])
    add_file(con, "S_P0009", "S", [(0, 1)])  # a singleton: no partner
    add_annotations(
        con,
        "K_P0001",
        [
            ("3P-IS", "happy", 10, 12),
            ("3P-IS", "sad ", 30, 33),
            ("3P-R", "smiled", 30, 33),  # lines in another order than IS
            ("3P-R", "laughed", 10, 12),
            ("3P-V", "frown", 30, 33),
            ("3P-V", "grin", 10, 12),
            ("1P-IS", "I was nervous", 10, 12),  # a 1P moment at the same times: its own row
            ("1P-R", "new people", 10, 12),
            ("3P-IS", "first", 50, 51),  # two moments sharing timestamps pair up in line order
            ("3P-IS", "second", 50, 51),
            ("3P-R", "r1", 50, 51),
            ("3P-R", "r2", 50, 51),
        ],
    )
    add_annotations(con, "S_P0009", [("3P-IS", "alone", 1, 2)])
    got = con.execute(
        "select file_id, partner_file_id, start_s, end_s, kind, perspective, internal_state, "
        "rationale, visual, n_lines from annotation_moments order by file_id, start_s, "
        "perspective, internal_state"
    ).fetchall()
    assert got == [
        ("K_P0001", "K_P0002", 10.0, 12.0, "annotation", "1P", "I was nervous", "new people",
         None, 2),
        ("K_P0001", "K_P0002", 10.0, 12.0, "annotation", "3P", "happy", "laughed", "grin", 3),
        ("K_P0001", "K_P0002", 30.0, 33.0, "annotation", "3P", "sad ", "smiled", "frown", 3),
        ("K_P0001", "K_P0002", 50.0, 51.0, "annotation", "3P", "first", "r1", None, 2),
        ("K_P0001", "K_P0002", 50.0, 51.0, "annotation", "3P", "second", "r2", None, 2),
        ("S_P0009", None, 1.0, 2.0, "annotation", "3P", "alone", None, None, 1),
    ]  # fmt: skip


def test_ipu_moments_are_the_ipus_unchanged(con):
    add_pair(con, "K", [(0.0, 1.0), (1.1, 2.0), (5.0, 6.0)], [(3.0, 4.0)])
    add_file(con, "S_P0009", "S", [(0.5, 0.9)])
    ipus = con.execute(
        "select file_id, start_ms, end_ms, ipu_idx, duration_ms, silence_before_ms, "
        "silence_after_ms from ipus order by all"
    ).fetchall()
    moments = con.execute(
        "select file_id, cast(round(start_s * 1000) as bigint), cast(round(end_s * 1000) as "
        "bigint), ipu_idx, duration_ms, silence_before_ms, silence_after_ms from ipu_moments "
        "order by all"
    ).fetchall()
    assert moments == ipus and len(ipus) == 4
    partners = dict(con.execute("select file_id, partner_file_id from ipu_moments").fetchall())
    assert partners == {"K_P0001": "K_P0002", "K_P0002": "K_P0001", "S_P0009": None}


def test_moments_unions_every_moment_view(con):
    a = [(0.0, 5.0), (5.5, 9.0), (12.0, 20.0)]
    b = [(9.4, 11.5), (14.0, 14.4)]
    add_pair(con, "K", a, b)
    add_annotations(con, "K_P0002", [("3P-IS", "x", 3, 5), ("3P-R", "y", 3, 5)])
    counts = dict(con.execute("select kind, count(*) from moments group by kind").fetchall())
    for view in MOMENT_VIEWS:
        (n,) = con.execute(f"select count(*) from {view}").fetchall()[0]
        (kind,) = con.execute(f"select distinct kind from {view}").fetchall()[0]
        assert counts[kind] == n > 0, view
    assert set(counts) == {"shift", "hold", "backchannel", "listening", "annotation", "ipu"}
    pair_level = con.execute(
        "select distinct kind from moments where file_id is null order by 1"
    ).fetchall()
    assert pair_level == [("hold",), ("shift",)]


# ---------------------------------------------------------------------------------------------
# random pairs and the real dyads
# ---------------------------------------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(segment, max_size=20),
    st.lists(segment, max_size=20),
    st.one_of(st.none(), st.integers(5_000, 70_000)),
)
def test_random_pairs_match_the_reference(raw_a, raw_b, dur_ms):
    c = moment_con()
    try:
        a = [(s / 1000, (s + d) / 1000) for s, d in raw_a]
        b = [(s / 1000, (s + d) / 1000) for s, d in raw_b]
        dur = None if dur_ms is None else dur_ms / 1000
        add_pair(c, "K", a, b, dur, dur)
        check_moments(c, "K", a, b, dur, dur)
    finally:
        c.close()


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def real_dyads(real):
    dyads = {}
    for folder in sorted(p for p in (real / "usc-raw").iterdir() if p.is_dir()):
        sides = []
        for side in sorted(folder.glob("participant_[ab]_*")):
            vad = [(d["start"], d["end"]) for d in load_jsonl(next(side.glob("vad_*.jsonl")))]
            notes = {
                kind: load_jsonl(p)
                for kind in ("3P-IS", "3P-R", "3P-V")
                for p in side.glob(f"{kind}_*.json")
            }
            sides.append((side.name.rsplit("_P", 1)[1], vad, notes))
        dyads[folder.name] = sides
    assert len(dyads) == 10
    return dyads


def test_real_dyads_match_the_reference(real_dyads, capsys):
    c = moment_con()
    totals = {"shift": 0, "vap_shift": 0, "hold": 0, "vap_hold": 0, "bc_vap": 0, "bc_tt": 0,
              "bc_both": 0, "listening": 0, "listening_s": 0.0}  # fmt: skip
    for key, ((_, vad_a, _), (_, vad_b, _)) in real_dyads.items():
        add_pair(c, key, vad_a, vad_b)
        want = check_moments(c, key, vad_a, vad_b)
        for kind, *_, vap in want["events"]:
            group = "hold" if kind == "pause" else "shift"
            totals[group] += 1
            totals[f"vap_{group}"] += vap
        for *_, vap, during in want["backchannels"]:
            totals["bc_vap"] += vap
            totals["bc_tt"] += during
            totals["bc_both"] += vap and during
        totals["listening"] += len(want["listening"])
        totals["listening_s"] += sum(e - s for _, s, e in want["listening"]) / 1000
    with capsys.disabled():
        print(f"\nreal dyads, moments: {totals}")
    # the VAP conditions keep a minority of the H&E events; both backchannel rules find some
    assert 0 < totals["vap_shift"] < totals["shift"] and 0 < totals["vap_hold"] < totals["hold"]
    assert totals["bc_vap"] > 0 and totals["bc_tt"] > 0 and totals["bc_both"] > 0
    tt = c.execute("select sum(n_backchannels_a + n_backchannels_b) from turn_taking").fetchall()
    assert tt == [(totals["bc_tt"],)]  # the turn_taking rule is the one turn_taking counts
    assert totals["listening"] > 0
    c.close()


def test_real_annotations_join_on_timestamps(real_dyads):
    c = moment_con()
    expected = {}
    for key, sides in real_dyads.items():
        for participant, _, notes in sides:
            file_id = f"{key}_P{participant}"
            add_file(c, file_id, key, [])
            lines = [
                (kind, n["annotation"], n["start_ts"], n["end_ts"])
                for kind, rows in notes.items()
                for n in rows
            ]
            add_annotations(c, file_id, lines)
            for kind, text, s, e in lines:
                part = {"3P-IS": "internal_state", "3P-R": "rationale", "3P-V": "visual"}[kind]
                expected.setdefault((file_id, float(s), float(e)), {})[part] = text
    got = c.execute(
        "select file_id, start_s, end_s, internal_state, rationale, visual, n_lines "
        "from annotation_moments"
    ).fetchall()
    assert len(got) == len(expected) == 39
    for file_id, s, e, is_, r, v, n in got:
        assert expected[(file_id, s, e)] == {"internal_state": is_, "rationale": r, "visual": v}
        assert n == 3
    # the participant whose 3P-V lines are in another order than IS/R is joined right
    odd = [g for g in got if g[0] == "V03_S0503_I00000074_P2454"]
    assert odd and all(g[6] == 3 for g in odd)
    c.close()
