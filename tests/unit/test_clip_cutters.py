"""The clip cutters of formats/ over a RangeReader, checked for exactness against media the
generator makes (its values encode their position) and read back with independent readers
(a ten-line RIFF walker, numpy's own npz reader, PyAV): a wav clip is the source's samples
one for one, an npz clip's frames are the source's slice (and only the wanted members are
read), an mp4 clip decodes to the window's frames (the GOP rule of formats/mp4clip.py) with
the moov before or after the mdat."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pytest

from seamless_catalog.errors import MediaFormatError
from seamless_catalog.formats import mp4clip, npzclip, wavclip
from seamless_catalog.formats.readers import BytesReader, CountingReader
from seamless_catalog.layout import FRAME_STRIDE, feature_wanted, parse_features
from seamless_catalog.synth import media
from tests.access_helpers import wav_samples
from tests.media_helpers import decoded_indices, top_boxes

RATE = 48_000


# ------------------------------------------------------------------------------------ wav
@pytest.fixture(scope="module")
def wav():
    return media.wav_bytes(12_000, [(500, 3_000), (6_000, 9_500)], seed=7)


@pytest.mark.parametrize("window", [(0.0, 1.0), (2.5, 7.25), (1.000010, 1.000031), (11.5, 12.0)])
def test_wav_clip_is_the_source_samples_one_for_one(wav, window):
    start, end = window
    r = CountingReader(BytesReader(wav))
    data, c = wavclip.clip(r, start, end)
    rate, got = wav_samples(data)
    _, source = wav_samples(wav)
    first, stop = round(start * RATE), round(end * RATE)
    assert rate == RATE
    assert int.from_bytes(data[4:8], "little") == len(data) - 8  # a valid RIFF size
    assert len(data) == len(c.head) + 4 * (stop - first) and len(got) == stop - first
    assert (c.first, c.n) == (first, stop - first)
    assert got.tobytes() == source[first:stop].tobytes()  # bit for bit, float32
    assert r.reads == 2  # the header, then one range of the data chunk
    assert r.bytes_read - (stop - first) * 4 <= wavclip.HEAD_READ
    assert r.calls[1] == (c.offset, (stop - first) * 4)


def test_wav_clip_past_the_end_keeps_what_the_file_has(wav):
    data, c = wavclip.clip(BytesReader(wav), 11.0, 20.0)
    assert c.n == RATE  # 11 s .. 12 s
    with pytest.raises(MediaFormatError, match="no samples"):
        wavclip.clip(BytesReader(wav), 12.0, 13.0)


def test_wav_clip_of_a_truncated_file_says_so(wav):
    with pytest.raises(MediaFormatError, match="cut off"):
        wavclip.clip(BytesReader(wav[: len(wav) // 2]), 9.0, 10.0)


# ------------------------------------------------------------------------------------ npz
N_FRAMES = 360  # 12 s at 30 Hz


@pytest.fixture(scope="module")
def npz():
    arrays = media.feature_arrays(N_FRAMES, True, seed=3, smplh_n=N_FRAMES * 8)
    return media.npz_bytes({k: media.npy_bytes(a) for k, a in arrays.items()})


def _fps(group: str) -> float:
    return 240.0 if group == "smplh" else 30.0  # the planted #34 case: SMPL-H at 8 x 30 Hz


@pytest.mark.parametrize("window", [(0.0, 2.0), (3.3, 4.1), (11.9, 12.0), (5.0, 5.01)])
def test_npz_clip_frames_are_the_source_slice(npz, window):
    start, end = window
    clip = npzclip.clip(BytesReader(npz), start, end, _fps, strides=FRAME_STRIDE)
    with np.load(io.BytesIO(npz)) as src, np.load(io.BytesIO(clip.data)) as got:
        assert sorted(got.files) == sorted(src.files)
        for key in src.files:
            rate = _fps(key.split(":")[0])
            stride = FRAME_STRIDE.get(key, 1)
            # frame i is in the window when start <= i / rate < end (formats/npzclip.py)
            frames = [i for i in range(len(src[key]) * stride) if start <= i / rate < end]
            rows = sorted({i // stride for i in frames})
            assert got[key].tobytes() == src[key][rows].tobytes(), key
            assert got[key].dtype == src[key].dtype and got[key].shape[1:] == src[key].shape[1:]
            spelled = not key.endswith(("translation", "is_valid", "is_valid_box"))
            if got[key].dtype == np.float32 and spelled and len(rows):
                assert math.floor(got[key].flat[0]) == rows[0]  # the value spells its row
    assert clip.fps == {"smplh": 240.0, "boxes_and_keypoints": 30.0, "movement": 30.0}


def test_npz_clip_reads_only_the_wanted_members(npz):
    features = parse_features("smplh:body_pose,movement:emotion_valence")
    r = CountingReader(BytesReader(npz))
    clip = npzclip.clip(r, 1.0, 2.0, _fps, lambda k: feature_wanted(k, features), FRAME_STRIDE)
    with np.load(io.BytesIO(clip.data)) as got:
        assert sorted(got.files) == ["movement:emotion_valence", "smplh:body_pose"]
        assert (
            got["smplh:body_pose"].shape[0] == 240
            and got["movement:emotion_valence"].shape[0] == 30
        )
    with zipfile.ZipFile(io.BytesIO(npz)) as z:
        infos = sorted(z.infolist(), key=lambda i: i.header_offset)
        wanted = {"smplh:body_pose.npy", "movement:emotion_valence.npy"}
        ends = [i.header_offset for i in infos[1:]] + [z.start_dir]
        entries = [(i.header_offset, end) for i, end in zip(infos, ends) if i.filename in wanted]
    assert r.calls[0][0] == len(npz) - npzclip.TAIL_READ  # the directory, from the tail
    for offset, n in r.calls[1:]:  # every other read lies inside a wanted member's entry
        assert any(a <= offset and offset + n <= b for a, b in entries), (offset, n)
    assert clip.fetched == sum(n for _, n in r.calls[1:])
    assert clip.fetched <= sum(b - a for a, b in entries)


def test_npz_clip_groups_and_unknown_features(npz):
    groups = parse_features("boxes_and_keypoints")
    clip = npzclip.clip(BytesReader(npz), 0, 1, _fps, lambda k: feature_wanted(k, groups))
    assert sorted(clip.rows) == ["boxes_and_keypoints:box", "boxes_and_keypoints:is_valid_box",
                                 "boxes_and_keypoints:keypoints"]  # fmt: skip
    with pytest.raises(Exception, match="unknown features"):
        parse_features("smplx")
    with pytest.raises(MediaFormatError, match="none of the requested"):
        npzclip.clip(BytesReader(npz), 0, 1, _fps, lambda k: False)


# ------------------------------------------------------------------------------------ mp4
@pytest.fixture(scope="module", params=[True, False], ids=["moov-first", "moov-at-end"])
def mp4(request):
    video = pytest.importorskip("seamless_catalog.synth.video")
    if not video.available():
        pytest.skip("PyAV is not installed (pip install 'seamless-catalog[video]')")
    return video.mp4_h264(300, False, 45, request.param), 45  # 10 s at 30 Hz, 1.5 s GOPs


def _expected(start: float, end: float, gop: int, fps: float = 30.0) -> tuple[list[int], int]:
    """The GOP rule: the frames shown in [start, end), decoded from the keyframe before."""
    shown = [i for i in range(300) if start - 1e-9 <= i / fps < end - 1e-9]
    return shown, (shown[0] // gop) * gop


@pytest.mark.parametrize("window", [(0.0, 2.0), (3.3, 5.0), (4.5, 4.6), (8.2, 10.0)])
def test_mp4_clip_decodes_to_the_window_frames(mp4, window):
    data, gop = mp4
    start, end = window
    r = CountingReader(BytesReader(data))
    clip, c = mp4clip.clip(r, start, end)
    indices, times = decoded_indices(clip)
    shown, keyframe = _expected(start, end, gop)
    assert indices == shown  # the edit list hides the pre-roll from the keyframe
    assert times[0] == pytest.approx(0.0, abs=1e-3)  # presentation starts at start_s
    assert c.preroll_s == pytest.approx(start - keyframe / 30, abs=1e-3)
    boxes = top_boxes(clip)
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # a browser can start at once
    video = next(t for t in c.tracks if t.track.handler == b"vide")
    assert video.first == keyframe  # decode order: B-frames shown in the window come later
    assert shown[-1] + 1 <= video.stop <= shown[-1] + 4
    assert len(clip) == c.size
    # after the box headers and the moov, one read per run of adjacent samples, nothing else
    assert r.calls[-len(c.spans) :] == list(c.spans)
    assert len(r.calls) - len(c.spans) <= 3


def test_mp4_clip_of_nothing_shown_is_an_error(mp4):
    data, _ = mp4
    with pytest.raises(MediaFormatError, match="no video frame"):
        mp4clip.clip(BytesReader(data), 10.5, 11.0)


def _indices_ignoring_edits(data: bytes) -> list[int]:
    """What a player that ignores edit lists shows (FFmpeg's ``ignore_editlist``)."""
    import av

    from tests.media_helpers import frame_index

    with av.open(io.BytesIO(data), options={"ignore_editlist": "1"}) as c:
        return [frame_index(f.to_ndarray(format="gray")) for f in c.decode(video=0)]


def test_mp4_stream_copy_hides_the_preroll_with_its_edit_list(mp4):
    data, gop = mp4
    clip, _ = mp4clip.clip(BytesReader(data), 3.3, 4.0)
    shown, keyframe = _expected(3.3, 4.0, gop)
    ignoring = _indices_ignoring_edits(clip)
    assert ignoring[0] == keyframe < shown[0]  # without the edit list: from the GOP's start
    assert ignoring[ignoring.index(shown[0]) :][: len(shown)] == shown


def test_mp4_exact_clip_starts_on_the_first_frame(mp4):
    from seamless_catalog.formats import mp4exact
    from tests.media_helpers import keyframes

    data, gop = mp4
    clip, covers = mp4exact.clip(BytesReader(data), 3.3, 4.0)
    shown, _ = _expected(3.3, 4.0, gop)
    indices, times = decoded_indices(clip)
    assert indices == shown == _indices_ignoring_edits(clip)  # no pre-roll to hide
    assert times == pytest.approx([i / 30 for i in range(len(shown))], abs=1e-3)
    assert keyframes(clip)[0] == 0 and covers["frames"] == len(shown)
    boxes = top_boxes(clip)
    assert boxes.index(b"moov") < boxes.index(b"mdat")


def test_span_cache_reads_a_span_once_across_threads_and_stays_bounded():
    import threading
    import time

    from seamless_catalog.materialize.running.clipcut import SpanCache

    cache, loads = SpanCache(max_bytes=250), []

    def load(tag: bytes):
        def run() -> bytes:
            loads.append(tag)
            time.sleep(0.05)  # the others arrive while it is being read
            return tag * 100

        return run

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.read(("a",), load(b"a"))))
               for _ in range(8)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [b"a"] and got == [b"a" * 100] * 8
    cache.read(("b",), load(b"b"))
    cache.read(("c",), load(b"c"))  # 300 bytes > 250: the least recently used ("a") goes
    cache.read(("a",), load(b"a"))
    assert loads == [b"a", b"b", b"c", b"a"]
    with pytest.raises(OSError):
        cache.read(("d",), lambda: (_ for _ in ()).throw(OSError("network")))
    assert cache.read(("d",), lambda: b"ok") == b"ok"  # a failed read is not remembered


def test_ranges_read_only_what_they_do_not_hold():
    from seamless_catalog.materialize.running.spancache import SpanCache

    data = bytes(range(256)) * 40  # 10,240 bytes
    base = CountingReader(BytesReader(data))
    ranges = SpanCache().ranges(("src",))
    r = ranges.reader(base)
    assert r.read_at(100, 50) == data[100:150] and base.calls == [(100, 50)]
    assert r.read_at(120, 20) == data[120:140] and len(base.calls) == 1  # held
    assert r.read_at(0, 400) == data[:400]  # only the gaps around what is held
    assert base.calls[1:] == [(0, 100), (150, 250)]
    assert ranges.starts == [0] and ranges.size == 400  # touching ranges merged
    assert r.read_at(10_000, 1_000) == data[10_000:]  # a short read at the end
    assert r.read_at(300, 9_800) == data[300:10_100] and base.calls[-1] == (400, 9_600)
    assert ranges.size == len(data) and ranges.starts == [0]
