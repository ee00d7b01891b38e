"""Catalog.stream and torch_dataset over windows: one clip per window and side, cut by range
from the local tars with the clips' own cutters, checked against the generator's whole files
(wav sample for sample, npz frames as the source slice, exactly the overlapping words, VAD and
annotations with window-relative times); the sides of an interaction window together; resume
(start/position), skipped and invalid rows as for files; a torch DataLoader iterating them."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.errors import SampleUnavailable, UsageError
from seamless_catalog.layout import ANNOTATION_PREFIX, annotation_items
from tests.access_helpers import (
    IN_TARS,
    by_id,
    check_json_clip,
    check_npz_clip,
    check_wav_clip,
    media_ids,
    second_vad,
    tree_path,
)

PAIRS = (  # both sides of each interaction in the tars: one window per row, for both sides
    "select interaction_key, start_s, start_s + 1.5 as end_s from (select interaction_key, "
    "unnest([1.0, 4.0]) as start_s from files where file_id in (select file_id from "
    "raw.members) and not placeholder group by 1 having count(*) = 2)"
)


@pytest.fixture(scope="module")
def cat(hf_catalog):
    with Catalog.open(hf_catalog) as c:
        yield c


@pytest.fixture(scope="module")
def ids(cat) -> list[str]:
    return media_ids(cat, 6)


def _stems(stream) -> list[str]:
    return [c.window.stem for c in stream]


def test_each_item_is_one_window_cut_from_the_source(cat, release, ids):
    src, rows = str(release / "hf"), by_id(release)
    stream = cat.stream(second_vad(ids), modalities="json,npz,wav", features="smplh",
                        source=src, pad=0.25)  # fmt: skip
    items = list(stream)
    assert len(items) == len(stream) == len(ids) and not stream.invalid and not stream.skipped
    assert [c.file_id for c in items] == sorted(ids) and stream.position == len(ids)
    for clip in items:
        row, w = rows[clip.file_id], clip.window
        assert w.requested_start_s is not None and w.duration > 0.5  # padded
        check_wav_clip(clip, release, row)
        check_npz_clip(clip, release, row)
        check_json_clip(clip, release, row)
        assert clip.audio.dtype == np.float32 and clip.audio is clip.sample.audio
        assert {k.split(":")[0] for k in clip.npz} == {"smplh"}
        assert clip.record["file_id"] == clip.file_id and clip.record["start_s"] == w.start_s
        assert clip.words == [x for seg in clip.transcript for x in seg["words"]]
        assert all(s["start"] < w.duration and s["end"] > 0 for s in clip.vad)
    same = cat.clips(second_vad(ids), modalities="json,npz,wav", features="smplh", source=src,
                     pad=0.25)  # fmt: skip
    assert [c.blobs for c in same] == [c.blobs for c in items]  # one cutting path


def test_a_window_holds_exactly_its_annotations(cat, release):
    """The 1P/3P annotations overlapping the window (``start_ts < end`` and ``end_ts >
    start``), every type, times relative to the window's start."""
    quirks = json.loads((release / "release.json").read_text())["quirks"]
    in_tars = {r[0] for r in cat.sql(IN_TARS).fetchall()}
    annotated = [f for f in quirks["annotation_3p"] if f in in_tars]
    if not annotated:
        pytest.skip("no annotated file of the release is in the tars")
    start, end = 1.5, 4.0
    sql = " union all ".join(f"select '{f}' as file_id, {start} as start_s, {end} as end_s"
                             for f in annotated)  # fmt: skip
    rows, n = by_id(release), 0
    for clip in cat.stream(sql, modalities="json", source=str(release / "hf")):
        doc = json.loads(tree_path(release, rows[clip.file_id], "json").read_bytes())
        for key, value in doc.items():
            if not key.startswith(ANNOTATION_PREFIX):
                continue
            want = sorted(
                (a["annotation"], a["start_ts"] - start, a["end_ts"] - start)
                for a in annotation_items(value)
                if a["start_ts"] < end and a["end_ts"] > start
            )
            got = clip.annotations.get(key[len(ANNOTATION_PREFIX) :], [])
            assert sorted((a["annotation"], a["start_ts"], a["end_ts"]) for a in got) == want
            n += len(want)
    assert n > 0  # the windows do hold annotations


@pytest.mark.parametrize("world_size", [1, 3])
def test_pairs_together_give_both_sides_of_an_interaction_window_next_to_each_other(
    cat, release, world_size
):
    src = str(release / "hf")
    parts = [
        list(
            cat.stream(
                PAIRS,
                modalities="wav",
                source=src,
                pairs_together=True,
                shuffle=True,
                seed=5,
                rank=r,
                world_size=world_size,
            )
        )  # fmt: skip
        for r in range(world_size)
    ]
    every = [c.window.stem for p in parts for c in p]
    expected = _stems(cat.stream(PAIRS, modalities="json", source=src))
    assert sorted(every) == sorted(expected) and len(set(every)) == len(every)
    assert len(expected) >= 8
    for part in parts:
        assert len(part) % 2 == 0
        for a, b in zip(part[::2], part[1::2]):  # one window, both sides, one after the other
            assert a.interaction_key == b.interaction_key and a.file_id < b.file_id
            assert a.window.requested_start_s == b.window.requested_start_s
            assert a.window.requested_end_s == b.window.requested_end_s
            n = min(len(a.audio), len(b.audio))  # each side cut from its own recording
            assert n > 0 and not np.array_equal(a.audio[:n], b.audio[:n])
    shuffled = [c.window.stem for c in parts[0]] if world_size == 1 else None
    if shuffled is not None:
        assert shuffled != expected  # shuffled by window, the sides kept together


def test_resume_skip_and_invalid_rows_mean_for_windows_what_they_mean_for_files(
    cat, release, ids, tmp_path
):
    src = str(release / "hf")
    options = {"modalities": "json,wav", "source": src, "shuffle": True, "seed": 9}
    full = _stems(cat.stream(second_vad(ids), **options))
    assert len(full) == len(ids) and full != sorted(full)  # shuffled
    stream = cat.stream(second_vad(ids), **options)
    first = []
    for clip in stream:
        first.append(clip.window.stem)
        if len(first) == 2:
            break
    assert stream.position == 2
    rest = cat.stream(second_vad(ids), start=stream.position, **options)
    assert len(rest) == len(ids) - 2 and first + _stems(rest) == full

    # a source without the tar of one of the files: its window cannot be cut
    mirror = tmp_path / "hf"
    shutil.copytree(release / "hf", mirror, copy_function=os.symlink)
    absent = by_id(release)[ids[0]]
    (mirror / absent["label"] / absent["split"] / f"{int(absent['batch_idx']):04d}" /
     f"{int(absent['archive_idx']):04d}.tar").unlink()  # fmt: skip
    absent = ids[0]
    others = [i for i in ids if cat.value(
        f"select archive_path from files where file_id = '{i}'") != cat.value(
        f"select archive_path from files where file_id = '{absent}'")][:2]  # fmt: skip
    no_window = f"select '{others[0]}', 3.0, 2.0, 'bad'"
    with_bad = f"{second_vad([absent, *others])} union all {no_window}"
    skipping = cat.stream(with_bad, modalities="wav", source=str(mirror), errors="skip")
    got = _stems(skipping)
    assert len(got) == 2 and skipping.position == 3  # the skipped window was consumed
    ((name, reason),) = skipping.skipped
    assert name.startswith(f"{absent}_t") and "absent" in reason, reason
    assert [w.row for w in skipping.invalid] == [4] and "end_s" in skipping.invalid[0].reason
    with pytest.raises(SampleUnavailable, match=absent):
        list(cat.stream(with_bad, modalities="wav", source=str(mirror)))


def test_window_options_are_for_windows_and_media_is_for_files(cat, release, ids, tmp_path):
    with pytest.raises(UsageError, match="pad, features: for windows"):
        cat.stream(IN_TARS, pad=1.0, features="smplh")
    with pytest.raises(UsageError, match="source="):
        cat.stream(second_vad(ids), media=tmp_path, modalities="wav")


def test_torch_dataloader_iteratessecond_vad(hf_catalog, release, ids):
    torch = pytest.importorskip("torch", reason="torch not installed (pip install torch)")
    options = {"modalities": "wav,json", "source": str(release / "hf"), "shuffle": True,
               "seed": 2, "pad": 0.5}  # fmt: skip
    with Catalog.open(hf_catalog) as c:
        order = list(c.stream(second_vad(ids), **options))
        ds = c.torch_dataset(second_vad(ids), **options)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    got = list(loader)
    assert [x.window.stem for x in got] == [x.window.stem for x in order]  # workers interleaved
    for a, b in zip(got, order):
        assert np.array_equal(a.audio, b.audio) and a.words == b.words
    batches = list(torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=list))
    assert [x.window.stem for batch in batches for x in batch] == [x.window.stem for x in order]
