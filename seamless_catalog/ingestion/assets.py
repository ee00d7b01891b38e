"""The three asset CSVs: prompts (interactions.csv), participants, relationships.

Keys stay text; vendor ids are normalised to ``V00`` (participants.csv writes
``00``), sessions to ``1805`` and session keys to ``V03_S1805``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..config import ASSET_NAMES
from ..errors import SourceFormatError
from . import csvtext, locations
from .sink import Sink
from .units import Unit, content_fingerprint

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


PROMPT_COLUMNS = (
    "prompt_hash",
    "prompt_id_unique",
    "participant_a_prompt_text",
    "participant_b_prompt_text",
    "ipc_a",
    "ipc_b",
    "interaction_type",
)
PARTICIPANT_COLUMNS = tuple(f"{t}_raw" for t in TRAITS) + ("vendor_id", "participant_id")
RELATIONSHIP_COLUMNS = ("vendor_id", "session_id", "relationship", "relationship_detail")

Row = dict[str, Any]


def _prompt(rec: dict[str, str], header: list[str], issue: Callable[[str], None]) -> Row:
    h = rec["prompt_hash"].strip()
    if not _PROMPT_HASH.match(h):
        raise ValueError(f"prompt_hash {h!r} is not 8 digits")
    itype = rec["interaction_type"].strip()
    if itype not in INTERACTION_TYPES:
        issue(f"unknown interaction_type {itype!r}; kept")
    index = rec.get(header[0], "") if header[0] not in PROMPT_COLUMNS else ""  # pandas index
    return dict(
        row_index=int(index) if index.strip().isdigit() else None,
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


def _participant(rec: dict[str, str], header: list[str], issue: Callable[[str], None]) -> Row:
    traits = {t: _trait(rec[f"{t}_raw"]) for t in TRAITS}
    return dict(
        vendor="V" + _match(_VENDOR, rec["vendor_id"], "vendor_id"),
        participant=_match(_PARTICIPANT, rec["participant_id"], "participant_id"),
        bfi2_disclosed=all(v is not None for v in traits.values()),
        **traits,
    )


def _relationship(rec: dict[str, str], header: list[str], issue: Callable[[str], None]) -> Row:
    vendor = "V" + _match(_VENDOR, rec["vendor_id"], "vendor_id")
    session = _match(_SESSION, rec["session_id"], "session_id")
    return dict(
        vendor=vendor,
        session=session,
        session_key=f"{vendor}_S{session}",
        relationship=rec["relationship"].strip() or None,
        relationship_detail=rec["relationship_detail"].strip() or None,
    )


@dataclass(frozen=True)
class AssetTable:
    table: str
    required: tuple[str, ...]
    key: tuple[str, ...]  # unique; later duplicates are quarantined
    convert: Callable[[dict[str, str], list[str], Callable[[str], None]], Row]


ASSETS: dict[str, AssetTable] = {
    "interactions": AssetTable("prompts", PROMPT_COLUMNS, ("prompt_hash",), _prompt),
    "participants": AssetTable(
        "participants", PARTICIPANT_COLUMNS, ("vendor", "participant"), _participant
    ),
    "relationships": AssetTable(
        "relationships", RELATIONSHIP_COLUMNS, ("session_key",), _relationship
    ),
}


def parse(asset: AssetTable, data: bytes, location: str, sink: Sink) -> None:
    """Rows of one asset CSV: by header; a bad or duplicate record is quarantined by line."""
    header, rows = csvtext.records(csvtext.decode(data, location, sink))
    missing = [c for c in asset.required if c not in header]
    if missing:
        raise SourceFormatError(location, f"header lacks {', '.join(missing)}: {header}")
    seen: dict[tuple, int] = {}
    for line, rec in csvtext.as_dicts(header, rows, location, sink):
        where = f"{location}:{line}"
        try:
            row = asset.convert(rec, header, lambda m, w=where: sink.issue(w, m, None, "warning"))
        except ValueError as e:
            sink.issue(where, str(e))
            continue
        key = tuple(row[c] for c in asset.key)
        if key in seen:
            sink.issue(where, f"duplicate key {key}, first at line {seen[key]}; kept that")
            continue
        seen[key] = line
        sink.add(asset.table, **row)


@dataclass(frozen=True)
class AssetsSource:
    """A folder or URL prefix holding interactions.csv, participants.csv, relationships.csv."""

    location: str
    default: bool = False  # the official location, not one the user gave

    def units(self) -> Iterable[Unit]:
        hint = locations.OFFLINE_DEFAULTS if self.default else ""
        for name in ASSET_NAMES:
            loc = locations.join(self.location, f"{name}.csv")
            data = locations.read_bytes(loc, hint)
            yield Unit(
                key=f"asset:{name}",
                kind=name,
                source=self.location,
                fingerprint=content_fingerprint(data),
                parse=lambda sink, d=data, loc=loc, a=ASSETS[name]: parse(a, d, loc, sink),
            )
