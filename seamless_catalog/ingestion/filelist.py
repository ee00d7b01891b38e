"""filelist.csv: one row per file_id, parsed by header (8 columns, or the 5 of July 2025)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import BadRecord, SourceFormatError
from ..layout import LABELS, SPLITS, archive_path, parse_file_id
from . import csvtext, locations
from .sink import Sink
from .units import Unit, content_fingerprint

REQUIRED = ("file_id", "label", "split", "batch_idx", "archive_idx")
FLAGS = ("has_imitator_movement", "has_annotation_1p", "has_annotation_3p")


def _index(value: str, name: str) -> int:
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise BadRecord(f"{name} {value!r} is not a non-negative integer")
    return int(value)


def _flag(value: str, name: str) -> bool:
    v = value.strip()
    if v not in ("0", "1"):
        raise BadRecord(f"{name} {value!r} is not 0 or 1")
    return v == "1"


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadRecord(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value


def parse(data: bytes, location: str, sink: Sink) -> None:
    header, rows = csvtext.records(csvtext.decode(data, location, sink))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SourceFormatError(location, f"filelist header lacks {', '.join(missing)}: {header}")
    flags = [f for f in FLAGS if f in header]
    seen: dict[str, int] = {}
    for line, rec in csvtext.as_dicts(header, rows, location, sink):
        where = f"{location}:{line}"
        fid = rec["file_id"].strip()
        try:
            ident = parse_file_id(fid)
            label = _choice(rec["label"].strip(), "label", LABELS)
            split = _choice(rec["split"].strip(), "split", SPLITS)
            batch = _index(rec["batch_idx"], "batch_idx")
            archive = _index(rec["archive_idx"], "archive_idx")
            flag_values = {f: _flag(rec[f], f) for f in flags}
        except BadRecord as e:
            sink.issue(where, str(e), fid or None)
            continue
        if fid in seen:
            sink.issue(
                where, f"duplicate file_id, first listed at line {seen[fid]}; kept that", fid
            )
            continue
        seen[fid] = line
        sink.add(
            "files",
            file_id=fid,
            vendor=ident.vendor,
            session=ident.session,
            prompt_hash=ident.prompt_hash,
            participant=ident.participant,
            session_key=ident.session_key,
            interaction_key=ident.interaction_key,
            label=label,
            split=split,
            batch_idx=batch,
            archive_idx=archive,
            archive_path=archive_path(label, split, batch, archive),
            filelist_line=line,
            **flag_values,
        )


@dataclass(frozen=True)
class FilelistSource:
    location: str
    default: bool = False  # the official location, not one the user gave

    def units(self) -> Iterable[Unit]:
        hint = locations.OFFLINE_DEFAULTS if self.default else ""
        data = locations.read_bytes(self.location, hint)
        yield Unit(
            key="filelist",
            kind="filelist",
            source=self.location,
            fingerprint=content_fingerprint(data),
            parse=lambda sink: parse(data, self.location, sink),
        )
