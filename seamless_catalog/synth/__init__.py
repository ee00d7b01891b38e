"""Deterministic miniature (or metadata-only full-size) Seamless Interaction releases.

``generate`` writes, under one folder, everything the catalog reads: the filelist, the three
asset CSVs, and the samples in up to three layouts, with the real release's quirks planted in
known places listed in ``release.json``. Same arguments, same bytes.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..errors import UsageError
from . import content, pack, video
from .model import Plan
from .plan import DURATIONS, build_plan, target_files
from .render import MediaOptions, Sample, render
from .writers import CdnWriter, HubWriter, TreeWriter, write_assets, write_filelist

__all__ = ["DURATIONS", "LAYOUTS", "VIDEO", "SynthRelease", "generate"]

log = logging.getLogger(__name__)

LAYOUTS = ("tree", "hf", "cdn")
VIDEO = ("h264", "stub")
QUIRK_EXAMPLES = 200  # release.json lists at most this many file_ids per quirk
TRUTH_COLUMNS = (
    "file_id", "duration_ms", "n_frames", "n_video_frames", "n_vad_segments",
    "n_transcript_segments", "n_words", "n_null_words", "n_vad_int_times", "n_vad_noisy_times",
    "placeholder", "on_hub", "fps", "gop_frames", "moov_first", "smplh_frames",
)  # fmt: skip
OBSERVED_QUIRKS = {  # quirk name -> truth.csv column that counts it
    "null_word_times": "n_null_words",
    "vad_int_times": "n_vad_int_times",
    "vad_float_noise": "n_vad_noisy_times",
}


@dataclass(frozen=True)
class SynthRelease:
    """Where a generated release lives and what it holds (see ``release.json`` for details)."""

    root: Path
    filelist: Path
    assets: Path  # interactions.csv, participants.csv, relationships.csv
    tree: Path | None
    hf: Path | None
    cdn: Path | None
    release_json: Path
    truth: Path  # per-file facts (durations, frame and segment counts) for tests
    n_files: int
    n_interactions: int
    n_sessions: int
    n_participants: int
    n_prompts: int
    n_archives: int
    quirks: Mapping[str, Sequence[str]]

    def summary(self) -> str:
        """What was written, in a few lines for people (the quirks' file ids stay in
        ``release.json``: at full scale they run to megabytes)."""
        layouts = ", ".join(
            f"{name} {path}" for name, path in (("tree", self.tree), ("hf", self.hf),
                                                ("cdn", self.cdn)) if path is not None
        )  # fmt: skip
        quirks = ", ".join(f"{k} {len(v)}" for k, v in sorted(self.quirks.items()) if v)
        return "\n".join([
            f"wrote {self.root}: {self.n_files:,} files, {self.n_interactions:,} interactions, "
            f"{self.n_sessions:,} sessions, {self.n_participants:,} participants, "
            f"{self.n_archives:,} archives",
            f"  layouts: {layouts or 'none'}",
            f"  filelist: {self.filelist}; assets: {self.assets}",
            f"  quirks planted (files): {quirks or 'none'}",
            f"  where each quirk is, and the parameters: {self.release_json}",
        ])  # fmt: skip


def generate(
    out: Path,
    *,
    n_files: int | None = None,
    scale: float | None = None,
    seed: int = 0,
    layouts: Sequence[str] = LAYOUTS,
    metadata_only: bool = False,
    filelist_columns: int = 8,
    progress: bool = False,
    durations: str | None = None,
    video: str | None = None,
    video_kbps: int | None = None,
    smplh_240hz: bool = False,
    shape: str = "mixed",
) -> SynthRelease:
    """Write a synthetic release under ``out`` and return its summary.

    Args:
        out: target folder (created; existing files with the same names are overwritten).
        n_files: approximate number of filelist rows (at least 12; 24+ plants every quirk).
        scale: alternatively, a fraction of the full 129,370 files (1.0 = full size).
            Give one of ``n_files``/``scale``; neither means 40 files.
        seed: every byte depends only on the arguments; another seed gives another release.
        layouts: any of ``"tree"`` (``tree/{label}/{split}/{batch:04d}/{archive:04d}/{id}.ext``),
            ``"hf"`` (``hf/{label}/{split}/{batch:04d}/{archive:04d}.tar``) and ``"cdn"``
            (``cdn/{label}/{split}/{modality}/...`` per-file objects).
        metadata_only: write only the JSON (and CDN metadata/annotations): no wav/mp4/npz/npy.
        filelist_columns: 8 (current filelist) or 5 (July 2025 filelist without the flags).
        progress: show a tqdm progress bar over the files.
        durations: ``"short"`` (a tenth of the release's recording lengths: mean ~23 s) or
            ``"real"`` (mean ~226 s, 60-600 s). Default: short when media are written
            (a full-length float32 wav costs 192 kB a second), real when metadata only.
        video: ``"h264"`` (decodable H.264 through PyAV, the ``[video]`` extra) or
            ``"stub"`` (header-only mp4s that state the facts but hold no picture). Default:
            h264 when PyAV is installed, else stub with a warning; asking for h264 without
            PyAV raises :class:`~seamless_catalog.errors.ExtraMissing`.
        video_kbps: a constant video bitrate (realistic: 4700); default small CRF-coded files.
        smplh_240hz: plant upstream issue #34 in one pair: SMPL-H arrays with 8x the frames
            (240 Hz) while wav, mp4 and the other groups agree on 30 Hz (``quirks["smplh_240hz"]``;
            the catalog's ``frame_rates`` view flags them). Off by default.
        shape: the per-file JSON's shape: ``"mixed"`` (default: every variant a reader must
            accept, indent 2 where annotated, annotations, an extra key) or ``"homogeneous"``
            (like most real documents: 4-space indent, the three keys only, ~70 KB of dense
            word lists; no annotations), for ingest benchmarks.

    Also writes ``filelist.csv``, ``assets/*.csv``, ``truth.csv`` (per-file facts) and
    ``release.json`` (seed, parameters, counts, and the file_ids where each quirk was planted).

    Example:
        >>> rel = generate(Path("/tmp/mini"), n_files=40, seed=1)  # doctest: +SKIP
        >>> rel.quirks["placeholder"]  # doctest: +SKIP
    """
    unknown = set(layouts) - set(LAYOUTS)
    if unknown:
        raise UsageError(f"unknown layouts {sorted(unknown)}: choose from {', '.join(LAYOUTS)}")
    if filelist_columns not in (5, 8):
        raise UsageError(f"filelist_columns must be 5 or 8, got {filelist_columns}")
    durations = durations or ("real" if metadata_only else "short")
    options = _media_options(video, video_kbps, metadata_only)
    target = target_files(n_files, scale)
    out = Path(out)
    plan = build_plan(target, seed, durations, smplh_240hz, shape)
    dirs = {name: (out / name if name in layouts else None) for name in LAYOUTS}
    write_filelist(out / "filelist.csv", plan.files, filelist_columns)
    write_assets(out / "assets", plan)
    truth = _write_samples(plan, dirs, metadata_only, progress, options)
    _write_truth(out / "truth.csv", truth)
    _add_observed_quirks(plan, truth)
    params = {
        "n_files": n_files, "scale": scale, "target_files": target, "layouts": list(layouts),
        "metadata_only": metadata_only, "filelist_columns": filelist_columns,
        "durations": durations, "video": None if metadata_only else options.video,
        "video_kbps": video_kbps, "smplh_240hz": smplh_240hz, "shape": shape,
    }  # fmt: skip
    counts = release_counts(plan)
    _write_json(out / "release.json", _release_doc(plan, params, counts, dirs))
    return SynthRelease(
        out, out / "filelist.csv", out / "assets", dirs["tree"], dirs["hf"], dirs["cdn"],
        out / "release.json", out / "truth.csv", counts["files"], counts["interactions"],
        counts["sessions"], counts["participants"], counts["prompts"], counts["archives"],
        plan.quirks,
    )  # fmt: skip


def _media_options(kind: str | None, kbps: int | None, metadata_only: bool) -> MediaOptions:
    if kind is not None and kind not in VIDEO:
        raise ValueError(f"video must be one of {VIDEO}, got {kind!r}")
    if kind == "h264" or metadata_only:
        if kind == "h264":
            video.require_av()
        return MediaOptions("h264", kbps)
    if kind is None and not video.available():
        log.warning(
            "PyAV is not installed: writing header-only mp4s that do not decode "
            "(pip install 'seamless-catalog[video]' for playable H.264)"
        )
        kind = "stub"
    return MediaOptions(kind or "h264", kbps)


def _write_samples(
    plan: Plan,
    dirs: dict[str, Path | None],
    metadata_only: bool,
    progress: bool,
    options: MediaOptions,
) -> list[list[str]]:
    """Stream every archive's samples to the chosen layouts; return the truth rows."""
    tree = TreeWriter(dirs["tree"]) if dirs["tree"] else None
    hub = HubWriter(dirs["hf"]) if dirs["hf"] else None
    cdn = CdnWriter(dirs["cdn"]) if dirs["cdn"] else None
    rows: dict[str, list[str]] = {}
    bar = tqdm(total=len(plan.files), unit="file", disable=not progress, desc="synth")
    for arch in plan.archives:
        samples = [render(plan.seed, rec, metadata_only, options) for rec in arch.files]
        for sample in samples:
            if tree:
                tree.write(sample)
            if cdn:
                cdn.write(sample, content.cdn_metadata(sample.doc))
            rows[sample.rec.file_id] = _truth_row(sample, arch.on_hub)
        if hub and arch.on_hub:
            strays = [render(plan.seed, rec, metadata_only, options) for rec in arch.strays]
            hub.write(arch, samples + strays)
        bar.update(len(samples))
    bar.close()
    return [rows[k] for k in sorted(rows)]


def _truth_row(sample: Sample, on_hub: bool) -> list[str]:
    segments = sample.doc["metadata:transcript"]
    words = [w for s in segments for w in s["words"]]
    nulls = sum(w["start"] is None for w in words)
    times = [t for seg in sample.doc["metadata:vad"] for t in (seg["start"], seg["end"])]
    ints = sum(isinstance(t, int) for t in times)
    noisy = sum(isinstance(t, float) and t != round(t, 3) for t in times)
    rec = sample.rec
    fps = "29.97" if rec.ntsc else "30"
    smplh = sample.n_frames * rec.smplh_rate_multiple
    facts = (
        rec.duration_ms, sample.n_frames, sample.n_video_frames,
        len(sample.doc["metadata:vad"]), len(segments), len(words), nulls, ints, noisy,
        int(rec.placeholder), int(on_hub), fps, sample.gop, int(rec.moov_first), smplh,
    )  # fmt: skip
    return [rec.file_id, *map(str, facts)]


def _write_truth(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        writer.writerows(rows)


def _add_observed_quirks(plan: Plan, truth: list[list[str]]) -> None:
    """Quirks that come out of rendering (natural null words, int and noisy VAD times)."""
    for name, column in OBSERVED_QUIRKS.items():
        i = TRUTH_COLUMNS.index(column)
        seen = {row[0] for row in truth if int(row[i]) > 0}
        plan.quirks[name] = sorted(seen.union(plan.quirks.get(name, ())))


def release_counts(plan: Plan) -> dict[str, int]:
    keys = {r.interaction_key for r in plan.files}
    return {
        "files": len(plan.files),
        "interactions": len(keys),
        "sessions": len({k.rsplit("_I", 1)[0] for k in keys}),
        "participants": len({(r.file_id[:3], r.file_id.rsplit("_P", 1)[1]) for r in plan.files}),
        "prompts": len(plan.prompts),
        "prompts_used": len({k.rsplit("_I", 1)[1] for k in keys}),
        "archives": len(plan.archives),
        "hub_archives": sum(a.on_hub for a in plan.archives),
        "batches": len({a.path.rsplit("/", 1)[0] for a in plan.archives}),
        "strays": sum(len(a.strays) for a in plan.archives),
        "participants_csv_rows": sum(p.in_csv for p in plan.people) + len(plan.orphan_people),
        "relationships_csv_rows": sum(bool(s.relationship) for s in plan.sessions)
        + len(plan.orphan_sessions),
    }


def _release_doc(
    plan: Plan, params: dict, counts: dict[str, int], dirs: dict[str, Path | None]
) -> dict:
    return {
        "generator": "seamless_catalog.synth",
        "seed": plan.seed,
        "params": params,
        "counts": counts,
        "layouts": {k: (v.name if v else None) for k, v in dirs.items()},
        "quirk_counts": {k: len(v) for k, v in plan.quirks.items()},
        "quirks": {k: list(v[:QUIRK_EXAMPLES]) for k, v in plan.quirks.items()},
        "strays": [
            {"file_id": r.file_id, "archive_path": a.path} for a in plan.archives for r in a.strays
        ],
        "missing_hub_archives": [a.path for a in plan.archives if not a.on_hub],
        "archive_gaps": pack.archive_gaps(plan.archives),
        "orphan_participants": [f"{p.vendor}_P{p.participant}" for p in plan.orphan_people],
        "orphan_sessions": [s.key for s in plan.orphan_sessions],
    }


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")
