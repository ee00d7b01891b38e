"""The release model the planner builds and the writers render: plain records, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..layout import archive_path

FULL_FILES = 129_370
FULL_PROMPTS = 1_312
VENDORS = ("V00", "V01", "V02", "V03")
ANNOTATION_TYPES_1P = ("1P-IS", "1P-R")
ANNOTATION_TYPES_3P = ("3P-IS", "3P-R", "3P-V")
FILELIST_COLUMNS = (
    "file_id", "label", "split", "batch_idx", "archive_idx",
    "has_imitator_movement", "has_annotation_1p", "has_annotation_3p",
)  # fmt: skip


@dataclass(slots=True)
class Prompt:
    hash: str  # "00000582"
    id_unique: str
    text_a: str
    text_b: str
    ipc_a: str
    ipc_b: str  # "" in about half the rows
    interaction_type: str


@dataclass(slots=True)
class Person:
    vendor: str
    participant: str  # "0947" or "0299A"
    bfi: tuple[float, ...] | None  # None: the row says Undisclosed
    in_csv: bool = True


@dataclass(slots=True)
class Session:
    vendor: str
    number: str  # "0809"
    split: str
    people: tuple[Person, Person]
    relationship: tuple[str, str] | None  # None: no relationships.csv row

    @property
    def key(self) -> str:
        return f"{self.vendor}_S{self.number}"


@dataclass(slots=True)
class FileRec:
    """One participant's recording of one interaction, and how it is to be rendered."""

    file_id: str
    interaction_key: str
    label: str
    split: str
    side: int  # 0 or 1 within the dyad (1 is never used by a singleton)
    duration_ms: int
    pair_ms: tuple[int, int]  # durations of both sides (the conversation is simulated jointly)
    movement: bool = False
    ann_1p: bool = False
    ann_3p: bool = False
    batch_idx: int = 0
    archive_idx: int = 0
    placeholder: bool = False
    silent: bool = False  # recording exists but the VAD (and transcript) list is empty
    extra_key: bool = False
    force_null_word: bool = False
    zero_start_side: int = -1  # the side whose VAD opens at an integer 0 (pair-level)
    moov_first: bool = True  # mp4 moov before the mdat (else after it)
    truncated_mp4: bool = False  # the mp4 is cut short inside its mdat
    smplh_rate_multiple: int = 1  # > 1: SMPL-H arrays with that many times the frames (#34)
    dense_words: bool = (
        False  # every VAD segment transcribed, words closer (the "homogeneous" shape)
    )

    @property
    def ntsc(self) -> bool:
        """29.97 fps video (and npz frames at that rate): V03's cameras."""
        return self.file_id.startswith("V03")

    @property
    def indent(self) -> int:
        return 2 if (self.ann_1p or self.ann_3p) else 4

    @property
    def archive_path(self) -> str:
        return archive_path(self.label, self.split, self.batch_idx, self.archive_idx)

    def filelist_row(self, n_columns: int) -> list[str]:
        flags = (self.movement, self.ann_1p, self.ann_3p)
        row = [self.file_id, self.label, self.split, str(self.batch_idx), str(self.archive_idx)]
        return (row + [str(int(f)) for f in flags])[:n_columns]


@dataclass(slots=True)
class Archive:
    label: str
    split: str
    batch_idx: int
    archive_idx: int
    files: list[FileRec] = field(default_factory=list)
    strays: list[FileRec] = field(default_factory=list)  # samples in the tar, not in the filelist
    on_hub: bool = True

    @property
    def path(self) -> str:
        return archive_path(self.label, self.split, self.batch_idx, self.archive_idx)


@dataclass(slots=True)
class Plan:
    seed: int
    prompts: list[Prompt]
    people: list[Person]
    sessions: list[Session]
    files: list[FileRec]  # filelist rows, sorted by file_id
    archives: list[Archive]  # sorted by path
    orphan_people: list[Person]  # participants.csv rows of nobody in the filelist
    orphan_sessions: list[Session]  # relationships.csv rows of no session in the filelist
    quirks: dict[str, list[str]]
    time_scale: float = 1.0  # recording lengths relative to the release's (short: 0.1)
