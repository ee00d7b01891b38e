"""The three on-disk layouts (local tree, Hub tars, per-file CDN) and the filelist/asset CSVs."""

from __future__ import annotations

import csv
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

from .model import FILELIST_COLUMNS, Archive, FileRec, Person, Plan, Prompt, Session
from .render import Sample

TAR_MTIME = 1_719_792_000  # 2024-07-01, fixed so tars are byte-reproducible
CDN_DIRS = {"audio": "wav", "video": "mp4"}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class TreeWriter:
    """``{root}/{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext}``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, sample: Sample) -> None:
        rec = sample.rec
        folder = self.root / rec.archive_path.removesuffix(".tar")
        for ext, data in sample.members.items():
            _write(folder / f"{rec.file_id}.{ext}", data)


class HubWriter:
    """``{root}/{label}/{split}/{batch:04d}/{archive:04d}.tar``: flat members, fixed headers."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, archive: Archive, samples: Iterable[Sample]) -> None:
        path = self.root / archive.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
            for sample in samples:
                for ext, data in sample.members.items():
                    tar.addfile(
                        _tar_info(f"{sample.rec.file_id}.{ext}", len(data)), io.BytesIO(data)
                    )


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, TAR_MTIME, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class CdnWriter:
    """``{root}/{label}/{split}/{modality}/...`` per-file objects (annotations as JSON Lines)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, sample: Sample, metadata: dict[str, bytes]) -> None:
        rec = sample.rec
        base = self.root / rec.label / rec.split
        for rel, data in metadata.items():
            _write(base / rel, data)
        for folder, ext in CDN_DIRS.items():
            if ext in sample.members:
                _write(base / folder / f"{rec.file_id}.{ext}", sample.members[ext])
        for key, data in sample.npy.items():
            group, feature = key.split(":", 1)
            _write(base / group / feature / f"{rec.file_id}.npy", data)


# --------------------------------------------------------------------------- CSVs
def _csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def write_filelist(path: Path, files: list[FileRec], n_columns: int) -> None:
    if n_columns not in (5, 8):
        raise ValueError(f"filelist_columns must be 5 or 8, got {n_columns}")
    rows = [rec.filelist_row(n_columns) for rec in files]
    _write(path, _csv_text(list(FILELIST_COLUMNS[:n_columns]), rows))


def write_assets(folder: Path, plan: Plan) -> None:
    _write(folder / "interactions.csv", _prompts_csv(plan.prompts))
    people = [p for p in plan.people if p.in_csv] + plan.orphan_people
    _write(folder / "participants.csv", _people_csv(sorted(people, key=_person_order)))
    sessions = [s for s in plan.sessions if s.relationship] + plan.orphan_sessions
    _write(folder / "relationships.csv", _relationships_csv(sessions))


def _prompts_csv(prompts: list[Prompt]) -> bytes:
    header = [
        "", "prompt_hash", "prompt_id_unique", "participant_a_prompt_text",
        "participant_b_prompt_text", "ipc_a", "ipc_b", "interaction_type",
    ]  # fmt: skip
    rows = [
        [str(i), p.hash, p.id_unique, p.text_a, p.text_b, p.ipc_a, p.ipc_b, p.interaction_type]
        for i, p in enumerate(prompts)
    ]
    return _csv_text(header, rows)


def _person_order(person: Person) -> tuple[int, str, str]:
    # participants.csv is not sorted upstream; interleave vendors deterministically
    return (sum(map(ord, person.participant)) % 7, person.vendor, person.participant)


def _people_csv(people: list[Person]) -> bytes:
    traits = ["extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness"]
    header = [f"{t}_raw" for t in traits] + ["vendor_id", "participant_id"]
    rows = []
    for p in people:
        values = [repr(v) for v in p.bfi] if p.bfi else ["Undisclosed"] * 5
        rows.append(values + [p.vendor.removeprefix("V"), p.participant])
    return _csv_text(header, rows)


def _relationships_csv(sessions: list[Session]) -> bytes:
    header = ["vendor_id", "session_id", "relationship", "relationship_detail"]
    rows = [[s.vendor, s.number, *s.relationship] for s in sessions if s.relationship]
    return _csv_text(header, rows)
