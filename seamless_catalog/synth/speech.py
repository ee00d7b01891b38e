"""Simulated conversations: Silero-like VAD for both sides of a dyad, and aligned ASR words.

The conversation is drawn on Silero's 32 ms window grid: raw speech runs of at least 8 windows
(256 ms) separated by at least 5 windows, then padded 30 ms each side. So every segment lasts
60 + 32k ms (min 316) and every gap 32k - 60 ms (min 100), except where clipped at the file edges.
Turns alternate with floor-transfer offsets around +100 ms raw (+40 ms padded, ~45% in overlap),
several pauses per turn and occasional listener backchannels.
"""

from __future__ import annotations

import math
import random

from . import texts

FRAME_MS, PAD_MS, MIN_GAP_MS = 32, 30, 100
MIN_RUN, MIN_SILENCE = 8, 5  # windows
P_MORE_IPUS = 0.68  # about 3.1 IPUs per turn: pauses outnumber gaps ~4:1
P_BACKCHANNEL = 0.25
P_LONG_SILENCE = 0.04
P_NULL_WORD = 0.004
P_NO_WORDS = 0.1
Segment = tuple[int, int]  # integer milliseconds


def simulate_pair(
    rng: random.Random, durations_ms: tuple[int, int], zero_start_side: int = -1
) -> tuple[list[Segment], list[Segment]]:
    """VAD segments (ms) of both sides, each clipped to its own duration."""
    end = max(durations_ms) // FRAME_MS
    raw: tuple[list[list[int]], list[list[int]]] = ([], [])
    speaker = zero_start_side if zero_start_side >= 0 else rng.randrange(2)
    t = 0 if zero_start_side >= 0 else rng.randint(0, 100)
    while t < end:
        t = _turn(rng, raw, speaker, t)
        speaker = 1 - speaker
        fto = round(rng.gauss(100, 380) / FRAME_MS)
        if rng.random() < P_LONG_SILENCE:
            fto += rng.randint(30, 150)
        own = raw[speaker]
        t = max(t + fto, (own[-1][1] + MIN_SILENCE) if own else 0)
    first = _to_ms(raw[0], durations_ms[0])
    return first, _to_ms(raw[1], durations_ms[1])


def _turn(rng: random.Random, raw: tuple[list[list[int]], ...], speaker: int, t: int) -> int:
    """Append one turn (IPUs and pauses) of ``speaker`` from window ``t``; return its end."""
    own, other = raw[speaker], raw[1 - speaker]
    while True:
        length = max(MIN_RUN, round(rng.lognormvariate(math.log(52), 0.6)))
        own.append([t, t + length])
        if length > 60 and rng.random() < P_BACKCHANNEL:
            _backchannel(rng, other, t, length)
        t += length
        if rng.random() > P_MORE_IPUS:
            return t
        t += max(MIN_SILENCE, round(rng.lognormvariate(math.log(18), 0.5)))


def _backchannel(rng: random.Random, listener: list[list[int]], start: int, length: int) -> None:
    at = start + rng.randint(16, length - 30)
    if not listener or listener[-1][1] + 32 < at:
        listener.append([at, at + rng.randint(MIN_RUN, 22)])


def _to_ms(raw: list[list[int]], duration_ms: int) -> list[Segment]:
    out: list[Segment] = []
    for a, b in raw:
        start, stop = max(0, a * FRAME_MS - PAD_MS), min(duration_ms, b * FRAME_MS + PAD_MS)
        if stop - start < MIN_GAP_MS:
            continue
        if out and start - out[-1][1] < MIN_GAP_MS:
            out[-1] = (out[-1][0], stop)
        else:
            out.append((start, stop))
    return out


def seconds(rng: random.Random, ms: int) -> float | int:
    """A VAD time as the raw files print it: float noise, whole seconds sometimes as ints."""
    if ms % 1000 == 0 and (ms == 0 or rng.random() < 0.5):
        return ms // 1000
    x = ms / 1000
    if rng.random() < 0.25:
        return x
    noisy = x + rng.choice((-1, 1)) * rng.randint(1, 90) * 1e-15
    return noisy if noisy != x else math.nextafter(x, math.inf)


def vad_records(rng: random.Random, segments: list[Segment]) -> list[dict[str, float | int]]:
    return [{"start": seconds(rng, s), "end": seconds(rng, e)} for s, e in segments]


def transcript(
    rng: random.Random, segments: list[Segment], force_null: bool, dense: bool = False
) -> list[dict]:
    """WhisperX-like segments whose words lie inside the VAD speech (``dense``: every segment
    transcribed, shorter gaps between words)."""
    out: list[dict] = []
    for start, stop in segments:
        if not dense and rng.random() < P_NO_WORDS:
            continue  # bleed or non-speech: a VAD segment without words
        slots = _word_slots(rng, start + PAD_MS, stop - PAD_MS, 10 if dense else 120)
        words = texts.utterance(rng, len(slots))
        for i in range(0, len(words), 25):
            chunk = list(zip(words[i : i + 25], slots[i : i + 25]))
            out.append(_segment(rng, chunk))
    if force_null and not any(_has_null(s) for s in out):
        _null_one_word(rng, out)
    return out


def _word_slots(rng: random.Random, start: int, stop: int, max_gap: int = 120) -> list[Segment]:
    slots, cursor = [], start + rng.randint(0, 40)
    while cursor + 120 <= stop:
        end = min(stop, cursor + rng.randint(120, 450))
        slots.append((cursor, end))
        cursor = end + rng.randint(0, max_gap)
    return slots or [(start, max(start + 1, stop))]


def _segment(rng: random.Random, chunk: list[tuple[str, Segment]]) -> dict:
    words = []
    for i, (word, (s, e)) in enumerate(chunk):
        interior = 0 < i < len(chunk) - 1
        if interior and rng.random() < P_NULL_WORD:
            words.append({"word": texts.unaligned_token(rng), "start": None, "end": None})
        else:
            words.append({"word": word, "start": s / 1000, "end": e / 1000, "score": _score(rng)})
    return {
        "words": words,
        "start": words[0]["start"],
        "end": words[-1]["end"],
        "transcript": " ".join(w["word"] for w in words),
    }


def _score(rng: random.Random) -> float:
    return round(rng.uniform(0.25, 1.0), 3)


def _has_null(segment: dict) -> bool:
    return any(w["start"] is None for w in segment["words"])


def _null_one_word(rng: random.Random, segments: list[dict]) -> None:
    for seg in segments:
        if len(seg["words"]) >= 3:
            seg["words"][1] = {"word": texts.unaligned_token(rng), "start": None, "end": None}
            seg["transcript"] = " ".join(w["word"] for w in seg["words"])
            return
