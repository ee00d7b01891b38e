"""The three asset CSVs: prompts (interactions.csv), participants, relationships.

Keys stay text; vendor ids are normalised to ``V00`` (participants.csv writes
``00``), sessions to ``1805`` and session keys to ``V03_S1805``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .. import locations
from ..config import ASSET_NAMES
from ..errors import SourceFormatError
from . import csvtext
from .units import Sink, Unit, content_fingerprint

TRAITS = ("extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness")
INTERACTION_TYPES = (
    "ipc_conversation",
    "grounded_gesture",
    "collaborative_storytelling",
    "charades",
)
UNDISCLOSED = "Undisclosed"
_VENDOR = re.compile(r"^V?(\d{2})$")
_PARTICIPANT = re.compile(r"^P?(\d{4}[A-Z]?)$")
_SESSION = re.compile(r"^S?(\d{4})$")
_PROMPT_HASH = re.compile(r"^\d{8}$")


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    m = pattern.match(value.strip())
    if not m:
        raise ValueError(f"{what} {value!r} does not parse")
    return m.group(1)


def _records(data: bytes, location: str, sink: Sink, required: tuple[str, ...]):
    header, rows = csvtext.records(csvtext.decode(data, location, sink))
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceFormatError(location, f"header lacks {', '.join(missing)}: {header}")
    return header, csvtext.as_dicts(header, rows, location, sink)


def _unique(sink: Sink, seen: dict, key, where: str, line: int) -> bool:
    if key in seen:
        sink.issue(where, f"duplicate key {key}, first at line {seen[key]}; kept that")
        return False
    seen[key] = line
    return True


def parse_prompts(data: bytes, location: str, sink: Sink) -> None:
    cols = (
        "prompt_hash",
        "prompt_id_unique",
        "participant_a_prompt_text",
        "participant_b_prompt_text",
        "ipc_a",
        "ipc_b",
        "interaction_type",
    )
    header, recs = _records(data, location, sink, cols)
    index_col = header[0] if header[0] not in cols else None  # pandas' unnamed index
    seen: dict = {}
    for line, rec in recs:
        where = f"{location}:{line}"
        h = rec["prompt_hash"].strip()
        if not _PROMPT_HASH.match(h):
            sink.issue(where, f"prompt_hash {h!r} is not 8 digits")
            continue
        if not _unique(sink, seen, h, where, line):
            continue
        itype = rec["interaction_type"].strip()
        if itype not in INTERACTION_TYPES:
            sink.issue(where, f"unknown interaction_type {itype!r}; kept", severity="warning")
        row_index = rec.get(index_col, "") if index_col is not None else ""
        sink.add(
            "prompts",
            row_index=int(row_index) if row_index.strip().isdigit() else None,
            prompt_hash=h,
            prompt_id_unique=rec["prompt_id_unique"],
            participant_a_prompt_text=rec["participant_a_prompt_text"],
            participant_b_prompt_text=rec["participant_b_prompt_text"] or None,
            ipc_a=rec["ipc_a"] or None,
            ipc_b=rec["ipc_b"] or None,
            interaction_type=itype or None,
        )


def _trait(value: str) -> float | None:
    v = value.strip()
    if v == UNDISCLOSED:
        return None
    x = float(v)  # ValueError for anything else
    if not 1.0 <= x <= 5.0:
        raise ValueError(f"BFI-2 score {v} outside 1..5")
    return x


def parse_participants(data: bytes, location: str, sink: Sink) -> None:
    cols = tuple(f"{t}_raw" for t in TRAITS) + ("vendor_id", "participant_id")
    _, recs = _records(data, location, sink, cols)
    seen: dict = {}
    for line, rec in recs:
        where = f"{location}:{line}"
        try:
            vendor = "V" + _match(_VENDOR, rec["vendor_id"], "vendor_id")
            participant = _match(_PARTICIPANT, rec["participant_id"], "participant_id")
            traits = {t: _trait(rec[f"{t}_raw"]) for t in TRAITS}
        except ValueError as e:
            sink.issue(where, str(e))
            continue
        if not _unique(sink, seen, (vendor, participant), where, line):
            continue
        sink.add(
            "participants",
            vendor=vendor,
            participant=participant,
            bfi2_disclosed=all(v is not None for v in traits.values()),
            **traits,
        )


def parse_relationships(data: bytes, location: str, sink: Sink) -> None:
    cols = ("vendor_id", "session_id", "relationship", "relationship_detail")
    _, recs = _records(data, location, sink, cols)
    seen: dict = {}
    for line, rec in recs:
        where = f"{location}:{line}"
        try:
            vendor = "V" + _match(_VENDOR, rec["vendor_id"], "vendor_id")
            session = _match(_SESSION, rec["session_id"], "session_id")
        except ValueError as e:
            sink.issue(where, str(e))
            continue
        key = f"{vendor}_S{session}"
        if not _unique(sink, seen, key, where, line):
            continue
        sink.add(
            "relationships",
            vendor=vendor,
            session=session,
            session_key=key,
            relationship=rec["relationship"].strip() or None,
            relationship_detail=rec["relationship_detail"].strip() or None,
        )


PARSERS: dict[str, Callable[[bytes, str, Sink], None]] = {
    "interactions": parse_prompts,
    "participants": parse_participants,
    "relationships": parse_relationships,
}


@dataclass(frozen=True)
class AssetsSource:
    """A folder or URL prefix holding interactions.csv, participants.csv, relationships.csv."""

    location: str

    def units(self) -> Iterable[Unit]:
        for name in ASSET_NAMES:
            loc = locations.join(self.location, f"{name}.csv")
            data = locations.read_bytes(loc)
            yield Unit(
                key=f"asset:{name}",
                kind=name,
                source=self.location,
                fingerprint=content_fingerprint(data),
                parse=lambda sink, d=data, loc=loc, p=PARSERS[name]: p(d, loc, sink),
            )
