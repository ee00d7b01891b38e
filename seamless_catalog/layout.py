"""The release's vocabulary, written once: identifiers, member names, modalities, features,
annotation types, and where every file lives in each of the release's layouts.

Every stage speaks it: ingest reads paths and member names with it, select turns catalog rows
into :class:`FileRef` s, materialize names its outputs by them, access and the dashboard find
materialized files by them.

A file_id is one participant's recording of one interaction:
``V<vv>_S<ssss>_I<iiiiiiii>_P<pppp>[A]``. The participant keeps its letter suffix (the
upstream regex ``P(\\d+)`` drops it). Every key stays text.

Layouts (label and split are always read from the path, so a location may be the release
root or any folder inside it):

* Hub tars: ``{label}/{split}/{batch:04d}/{archive:04d}.tar``, members ``{file_id}.{ext}``
  in :data:`EXTENSIONS` order;
* local tree (what the upstream toolkit extracts, and what ``materialize`` writes):
  ``{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext}``;
* per-file CDN/S3 copy: ``{label}/{split}/{group}/...`` (:func:`perfile_key`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from .errors import InvalidId, UsageError

# ------------------------------------------------------------------------------ identifiers

FILE_ID_RE = re.compile(r"^(V\d{2})_S(\d{4})_I(\d{8})_P(\d{4}[A-Z]?)$")
KEY_RES = {  # what each kind of selection key looks like
    "file_id": FILE_ID_RE,
    "interaction_key": re.compile(r"^V\d{2}_S\d{4}_I\d{8}$"),
    "session_key": re.compile(r"^V\d{2}_S\d{4}$"),
}
LABELS = ("improvised", "naturalistic")
SPLITS = ("train", "dev", "test")


class FileId(NamedTuple):
    file_id: str
    vendor: str  # "V00"
    session: str  # "0809"
    prompt_hash: str  # "00000582"
    participant: str  # "0947" or "0299A"

    @property
    def session_key(self) -> str:
        return f"{self.vendor}_S{self.session}"

    @property
    def interaction_key(self) -> str:
        return f"{self.vendor}_S{self.session}_I{self.prompt_hash}"


def parse_file_id(value: str) -> FileId:
    """Split a file_id into its parts; raise :class:`InvalidId` when it does not parse."""
    m = FILE_ID_RE.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidId(value)
    return FileId(value, *m.groups())


def is_file_id(value: str) -> bool:
    return isinstance(value, str) and FILE_ID_RE.match(value) is not None


# ------------------------------------------------------------------- members of a sample

EXTENSIONS = ("json", "mp4", "npz", "wav")  # a sample's members, in the order of the tars


def split_name(name: str) -> tuple[str, str] | None:
    """``V00_..._P0947.wav`` -> (file_id, "wav"); None when it is not a sample file name."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext in EXTENSIONS and is_file_id(stem):
        return stem, ext
    return None


# ---------------------------------------------------------------- inside the merged json

TRANSCRIPT = "metadata:transcript"
VAD = "metadata:vad"
ANNOTATION_PREFIX = "annotations:"
ANNOTATIONS_1P = ("1P-IS", "1P-R")
ANNOTATIONS_3P = ("3P-IS", "3P-R", "3P-V")
ANNOTATION_TYPES = ANNOTATIONS_1P + ANNOTATIONS_3P
ANNOTATION_FIELDS = ("annotation", "start_ts", "end_ts")  # the keys of one annotation


def annotation_items(value: object) -> object:
    """The annotations of an ``annotations:*`` value: the list the tars hold, or one
    annotation written as an object. Upstream's per-file download merges each annotation
    file with one ``json.load``, so a one-line file (about half of them) becomes that line's
    object instead of a list. An object with any of :data:`ANNOTATION_FIELDS` is that one
    annotation; anything else is returned as it is (and is not a list of annotations)."""
    if isinstance(value, dict) and any(k in value for k in ANNOTATION_FIELDS):
        return [value]
    return value


# ----------------------------------------------------------------- inside the npz (30 Hz)

SMPLH = ("body_pose", "global_orient", "is_valid", "left_hand_pose", "right_hand_pose",
         "translation")  # fmt: skip
BOXES = ("box", "is_valid_box", "keypoints")
MOVEMENT = (
    "EmotionArousalToken", "EmotionValenceToken", "FAUToken", "FAUValue",
    "alignment_head_rotation", "alignment_translation", "emotion_arousal", "emotion_scores",
    "emotion_valence", "expression", "frame_latent", "gaze_encodings", "head_encodings",
    "hypernet_features", "is_valid",
)  # fmt: skip
NPZ_GROUPS = ("smplh", "boxes_and_keypoints", "movement", "movement_v4")  # key "group:feature"
NOMINAL_FPS = 30.0  # the npz frames and the video, by design
NTSC_VENDORS = ("V03",)  # vendors whose cameras run at 30000/1001 Hz
FRAME_STRIDE = {"movement:hypernet_features": 15}  # keys with one row per that many frames


def nominal_fps(file_id: str) -> float:
    """The rate a file's frames are meant to have: 30 Hz, 29.97 for :data:`NTSC_VENDORS`.

    The catalog's ``frame_rates`` view checks it against the frame counts (``clip_fps``)."""
    return 30000 / 1001 if file_id[:3] in NTSC_VENDORS else NOMINAL_FPS


def parse_features(features: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``"smplh,movement:emotion_valence"`` -> groups and ``group:feature`` keys, checked
    (None: every feature). A group names all its keys; a key is ``group:feature``."""
    if features is None:
        return None
    names = features.split(",") if isinstance(features, str) else list(features)
    names = [n.strip() for n in names if n.strip()]
    bad = [n for n in names if n.split(":", 1)[0] not in NPZ_GROUPS]
    if bad or not names:
        raise UsageError(
            f"unknown features {bad or names}: give npz groups ({', '.join(NPZ_GROUPS)}) "
            "or keys group:feature, e.g. smplh,movement:emotion_valence"
        )
    return tuple(dict.fromkeys(names))


def feature_wanted(key: str, features: tuple[str, ...] | None) -> bool:
    """Whether the npz key ``group:feature`` is one of ``features`` (a group or the key)."""
    return features is None or key in features or key.split(":", 1)[0] in features


# ------------------------------------------------------------------------------ modalities

JSON_GROUPS = ("transcript", "vad", "annotations")
GROUPS = {  # coarse modality (a member's extension) -> fine groups of the per-file layout
    "json": JSON_GROUPS,
    "npz": NPZ_GROUPS,
    "wav": ("audio",),
    "mp4": ("video",),
}
FINE = {g: ext for ext, groups in GROUPS.items() for g in groups}  # fine group -> extension
MODALITIES = EXTENSIONS + tuple(FINE)


def parse_modalities(modalities: str | Iterable[str]) -> tuple[str, ...]:
    """``"json,wav"`` (or a list) -> the names, checked, duplicates dropped."""
    names = modalities.split(",") if isinstance(modalities, str) else list(modalities)
    names = [n.strip() for n in names if n.strip()]
    bad = [n for n in names if n not in MODALITIES]
    if bad or not names:
        raise UsageError(f"unknown modalities {bad or names}: choose from {', '.join(MODALITIES)}")
    return tuple(dict.fromkeys(names))


def wanted_exts(modalities: Iterable[str]) -> tuple[str, ...]:
    """The members (extensions) that ``modalities`` (coarse or fine names) are part of."""
    exts = {FINE.get(m, m) for m in modalities}
    return tuple(e for e in EXTENSIONS if e in exts)


# ------------------------------------------------------------------------- the Hub's tars

TAR_LAYOUT = "{label}/{split}/{batch:04d}/{archive:04d}.tar"  # as paths are spelt to users
TREE_LAYOUT = "{label}/{split}/{batch:04d}/{archive:04d}/{file_id}.{ext}"
PERFILE_LAYOUT = "{label}/{split}/{group}/.../{file_id}.{ext}"
LABEL_SPLIT = rf"(?P<label>{'|'.join(LABELS)})/(?P<split>{'|'.join(SPLITS)})"
TAR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}/(?P<batch>\d{{4}})/(?P<archive>\d{{4}})\.tar$")
ARCHIVE_DIR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}/(?P<batch>\d{{4}})/(?P<archive>\d{{4}})$")
SPLIT_DIR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}$")
BATCH_DIR_RE = re.compile(rf"(?:^|/){LABEL_SPLIT}/(?P<batch>\d{{4}})$")


def relative(pattern: re.Pattern[str], path: str) -> str | None:
    """The part of ``path`` the layout names, e.g. ``improvised/dev/0000/0003.tar``."""
    m = pattern.search(path)
    return m.group(0).lstrip("/") if m else None


def archive_folder(label: str, split: str, batch_idx: int, archive_idx: int) -> str:
    """``improvised/dev/0000/0003``: an archive's folder in the local tree layout."""
    return f"{label}/{split}/{batch_idx:04d}/{archive_idx:04d}"


def archive_path(label: str, split: str, batch_idx: int, archive_idx: int) -> str:
    """Relative path of a Hub tar: ``improvised/dev/0000/0003.tar``."""
    return archive_folder(label, split, batch_idx, archive_idx) + ".tar"


# ------------------------------------------------------------ the per-file CDN/S3 layout

PERFILE_GROUPS = ("metadata", "annotations", "audio", "video", *NPZ_GROUPS)  # {label}/{split}/…


def perfile_key(label: str, split: str, name: str, file_id: str) -> str:
    """The object of one part of a file in the per-file layout. ``name``: ``audio``,
    ``video``, ``metadata:vad``/``metadata:transcript`` (JSON Lines), ``annotations:3P-IS``
    (JSON Lines despite the ``.json`` name) or an npz key ``group:feature`` (one ``.npy``)."""
    base = f"{label}/{split}"
    if name == "audio":
        return f"{base}/audio/{file_id}.wav"
    if name == "video":
        return f"{base}/video/{file_id}.mp4"
    group, _, rest = name.partition(":")
    if group == "metadata":
        return f"{base}/metadata/{rest}/{file_id}.jsonl"
    if group == "annotations":
        return f"{base}/annotations/{rest}/{file_id}.json"
    return f"{base}/{group}/{rest}/{file_id}.npy"


# -------------------------------------------------------------------------------- FileRef


@dataclass(frozen=True)
class FileRef:
    """One file of the filelist and where it lives: what every stage after ingest passes on.

    Built from catalog rows (or a filelist parse), and checked on construction: everything
    that goes into an output path is validated here."""

    file_id: str
    label: str
    split: str
    batch_idx: int
    archive_idx: int
    has_imitator_movement: bool | None = None
    has_annotation_1p: bool | None = None
    has_annotation_3p: bool | None = None

    def __post_init__(self) -> None:
        parse_file_id(self.file_id)
        ok = (
            self.label in LABELS
            and self.split in SPLITS
            and isinstance(self.batch_idx, int)
            and isinstance(self.archive_idx, int)
            and 0 <= self.batch_idx <= 9999
            and 0 <= self.archive_idx <= 9999
        )
        if not ok:
            raise UsageError(
                f"the catalog places {self.file_id} at {self.label}/{self.split}/"
                f"{self.batch_idx}/{self.archive_idx}, which is not a valid location: "
                "re-ingest the filelist"
            )

    @property
    def interaction_key(self) -> str:
        return self.file_id.rsplit("_", 1)[0]

    @property
    def archive_path(self) -> str:
        """The Hub tar that holds the file: ``improvised/dev/0000/0003.tar``."""
        return archive_path(self.label, self.split, self.batch_idx, self.archive_idx)

    @property
    def folder(self) -> str:
        """``{label}/{split}/{batch:04d}/{archive:04d}``: the upstream local layout."""
        return archive_folder(self.label, self.split, self.batch_idx, self.archive_idx)

    def path(self, ext: str) -> str:
        """``{folder}/{file_id}.{ext}``: where the file's ``ext`` member lives in a tree."""
        return f"{self.folder}/{self.file_id}.{ext}"

    def perfile_key(self, name: str) -> str:
        return perfile_key(self.label, self.split, name, self.file_id)

    @property
    def annotation_types(self) -> tuple[str, ...]:
        """The annotation types the file may have (a flag that is unknown counts as maybe)."""
        return (ANNOTATIONS_1P if self.has_annotation_1p is not False else ()) + (
            ANNOTATIONS_3P if self.has_annotation_3p is not False else ()
        )

    @property
    def meta(self) -> dict:
        """The identifying fields, as a loaded sample or an export index carries them."""
        return dict(file_id=self.file_id, interaction_key=self.interaction_key,
                    label=self.label, split=self.split, batch_idx=self.batch_idx,
                    archive_idx=self.archive_idx)  # fmt: skip
