"""Invented texts: prompts, spoken words, annotation lines.

Every text is assembled here from small word banks, so nothing of the real (CC-BY-NC) release
is reproduced. All functions take an explicit ``random.Random`` and are deterministic.
"""

from __future__ import annotations

import random

TOPICS = (
    "a trip that did not go as planned",
    "a skill you learned late",
    "a favourite meal",
    "a difficult decision at work",
    "a neighbour you admire",
    "a childhood game",
    "a book that changed your mind",
    "a time you got lost",
    "a hobby you gave up",
    "an unexpected gift",
    "a small act of kindness",
    "a plan for next summer",
)
ASKS = (
    "Describe what happened and how you felt about it.",
    "Explain why it matters to you and what you would change.",
    "Ask follow-up questions and share a similar story of your own.",
    "Listen closely and try to find something you both have in common.",
    "Take turns adding details until the story feels complete.",
    "Act it out with gestures while your partner guesses what it is.",
)
OPENERS = ("Tell your partner about", "Talk with your partner about", "Your partner will describe")
GESTURE_NOTES = (
    "Use your hands to show sizes, directions and shapes.",
    "Point at imaginary objects around you as you speak.",
    "Keep your gestures large enough for the camera to see.",
)
WORDS = (
    "yeah",
    "so",
    "I",
    "think",
    "that",
    "was",
    "really",
    "like",
    "the",
    "a",
    "we",
    "you",
    "it",
    "and",
    "but",
    "then",
    "kind",
    "of",
    "know",
    "just",
    "okay",
    "right",
    "um",
    "went",
    "there",
    "time",
    "maybe",
    "good",
    "pretty",
    "thing",
    "when",
    "my",
    "friend",
    "work",
    "home",
    "said",
    "because",
    "actually",
    "sure",
    "people",
    "always",
    "never",
    "little",
    "bit",
    "place",
    "day",
)
CUES = ("Yeah.", "Mhm.", "Right.", "Okay.", "Sure.", "Uh-huh.")
UNALIGNED = ("2019", "15%", "$20", "3", "1990s", "&")
FEELINGS = (
    "reflective",
    "amused",
    "uncertain",
    "engaged",
    "nervous",
    "curious",
    "relaxed",
    "thoughtful",
    "surprised",
    "sarcastic",
    "warm",
    "hesitant",
    "enthusiastic",
)
REASONS = (
    "pauses before answering",
    "laughs while speaking",
    "speaks faster than before",
    "repeats the question",
    "lowers the voice",
    "changes the topic",
    "asks for details",
)
CUES_VISUAL = (
    "leans forward",
    "smiles broadly",
    "looks away",
    "nods several times",
    "crosses the arms",
    "raises the eyebrows",
    "touches the face",
    "gestures with both hands",
)


def prompt_pair(rng: random.Random, multiline: bool, crlf: bool) -> tuple[str, str]:
    """Return (participant A text, participant B text); optionally with newlines inside."""
    topic = rng.choice(TOPICS)
    a = f"{rng.choice(OPENERS)} {topic}. {rng.choice(ASKS)}"
    b = f"Your partner will talk about {topic}. {rng.choice(ASKS)}"
    if rng.random() < 0.3:
        a += " " + rng.choice(GESTURE_NOTES)
    if multiline:
        sep = "\r\n" if crlf else "\n"
        a = a.replace(". ", "." + sep * rng.choice((1, 2)), 1)
        b = b.replace(". ", "." + sep, 1)
    return a, b


def utterance(rng: random.Random, n_words: int) -> list[str]:
    """Spoken words of one stretch of speech, capitalised and punctuated like ASR output."""
    if n_words <= 2 and rng.random() < 0.7:
        return [rng.choice(CUES)]
    words = [rng.choice(WORDS) for _ in range(n_words)]
    words[0] = words[0].capitalize()
    words[-1] += rng.choice((".", ".", "?", ","))
    return words


def unaligned_token(rng: random.Random) -> str:
    """A token the aligner could not time (numbers, symbols)."""
    return rng.choice(UNALIGNED)


def annotation_lines(rng: random.Random, trail: bool) -> tuple[str, str, str]:
    """Internal-state, rationale and visual-cue texts of one moment (``trail``: end in a space)."""
    a, b = rng.sample(FEELINGS, 2)
    state = f"The participant feels {a} and {b}."
    reason = f"The participant {rng.choice(REASONS)} and {rng.choice(REASONS)}."
    visual = f"The participant {rng.choice(CUES_VISUAL)}."
    end = " " if trail else ""
    return state + end, reason, visual + end
