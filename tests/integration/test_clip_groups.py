"""Windows of one recording cut together: Catalog.clips and materialize read each source's
wav header, mp4 moov and npz directory once for all its windows, the bytes two windows share
once, and each npz member once up to the last window's end, instead of once per window. The
suite's Hub server (the real huggingface_hub client) counts the requests and their ranges;
the clips are the same bytes as when each window is cut alone."""

from __future__ import annotations

import re

import numpy as np
import pytest

from seamless_catalog.catalog import Catalog
from seamless_catalog.config import Settings
from seamless_catalog.materialize import materialize
from tests.access_helpers import IN_TARS, by_id, tree_path, wav_samples

HUB = "hf://datasets/facebook/seamless-interaction"


@pytest.fixture(scope="module")
def chosen(hf_catalog) -> tuple[list[tuple[str, float, float]], dict]:
    """Three windows of one recording (two overlapping), one of another; and each file's
    members: (ext) -> (tar path, data start, data end)."""
    with Catalog.open(hf_catalog) as cat:
        ids = cat.sql(
            f"{IN_TARS} and file_id not in (select file_id from raw.media where placeholder) "
            "and file_id in (select file_id from files where duration_s >= 8) "
            "and file_id in (select file_id from raw.members where ext = 'mp4') order by 1"
        ).fetchall()
        a, b = ids[0][0], ids[1][0]
        d = cat.value("select duration_s from files where file_id = ?", [a])
        members = {
            (fid, ext): (path, offset, offset + size)
            for fid, ext, path, offset, size in cat.sql(
                "select file_id, ext, archive_path, offset_data, size from raw.members "
                "where file_id in (?, ?)",
                [a, b],
            ).fetchall()
        }
    windows = [(a, 1.0, 2.5), (a, 2.0, 3.5), (a, d - 3.0, d - 1.0), (b, 2.0, 4.0)]
    return windows, members


def _sql(windows) -> str:
    rows = ", ".join(f"('{f}', {s}, {e})" for f, s, e in windows)
    return f"select * from (values {rows}) t(file_id, start_s, end_s)"


def _reads(server, members) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """The server's ranged reads, by the (file_id, ext) member they fall in."""
    out: dict = {}
    for r in server.stats.snapshot():
        if r.range is None or r.file is None:
            continue
        a, b = (int(x) for x in re.fullmatch(r"bytes=(\d+)-(\d+)", r.range).groups())
        for key, (path, start, end) in members.items():
            if r.file.endswith(path.split("/", 1)[-1]) and start <= a < end:
                out.setdefault(key, []).append((a, b + 1 - a))
    return out


def _cut(hf_catalog, windows, settings) -> dict:
    with Catalog.open(hf_catalog) as cat:
        got = cat.clips(_sql(windows), modalities="wav,mp4,npz", source=HUB, settings=settings)
        return {(c.file_id, c.window.start_s): c.blobs for c in got}


def test_windows_of_one_recording_share_its_reads(make_hub_server, hf_catalog, release, chosen):
    pytest.importorskip("av")
    windows, members = chosen
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    alone, alone_reads, alone_bytes, per_window = {}, {}, 0, []
    for w in windows:  # each window cut on its own: one fetch of everything per window
        server.stats.reset()
        alone.update(_cut(hf_catalog, [w], settings))
        per_window.append(_reads(server, members))
        for key, reads in per_window[-1].items():
            alone_reads.setdefault(key, []).extend(reads)
        alone_bytes += server.stats.bytes_sent
    server.stats.reset()
    together = _cut(hf_catalog, windows, settings)
    reads = _reads(server, members)
    assert together == alone  # the same clips, byte for byte
    a = windows[0][0]
    rate, source = wav_samples(tree_path(release, by_id(release)[a], "wav").read_bytes())
    _, got = wav_samples(together[(a, 1.0)]["wav"])
    assert got.tobytes() == source[rate : round(2.5 * rate)].tobytes()
    # wav: the header once, the two overlapping windows' samples as one range, the third's
    assert len(reads[(a, "wav")]) == 3 and len(alone_reads[(a, "wav")]) == 6
    spans = sorted(reads[(a, "wav")])[1:]
    assert spans[0][1] == (round(3.5 * rate) - rate) * 4  # 1.0 .. 3.5 s, once
    # mp4 and npz: the reads every window makes alone (the box walk and moov, the
    # directory) are made once; no sample or member byte is read twice
    for ext in ("mp4", "npz"):
        shared = set.intersection(*(set(p[(a, ext)]) for p in per_window[:3]))
        assert shared and all(reads[(a, ext)].count(x) == 1 for x in shared), ext
        assert len(reads[(a, ext)]) <= len(alone_reads[(a, ext)]) - 2 * len(shared), ext
        spans = sorted(x for x in reads[(a, ext)] if x not in shared)
        assert all(x + n <= y for (x, n), (y, _) in zip(spans, spans[1:])), (ext, spans)
    b = windows[3][0]  # the other recording's single window costs what it costs alone
    assert sorted(reads[(b, "wav")]) == sorted(alone_reads[(b, "wav")])
    assert server.stats.bytes_sent < alone_bytes


def test_windows_of_one_recording_in_several_batches_read_its_npz_once(
    make_hub_server, hf_catalog, release, chosen
):
    # one worker: batches of 4 windows, so these 10 windows of one recording are cut in 3
    # groups; the npz directory and every member byte are still read once (the run's cache)
    windows, members = chosen
    a = windows[0][0]
    d = windows[2][2] + 1.0
    many = [
        (a, round(i * (d - 1.0) / 10, 3), round(i * (d - 1.0) / 10 + 0.5, 3)) for i in range(10)
    ]
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    server.stats.reset()
    with Catalog.open(hf_catalog) as cat:
        got = list(cat.clips(_sql(many), modalities="npz", source=HUB, settings=settings,
                             workers=1))  # fmt: skip
    reads = _reads(server, members)[(a, "npz")]
    tail = members[(a, "npz")][2]
    directory = [x for x in reads if x[0] + x[1] == tail]
    spans = sorted(x for x in reads if x not in directory)
    assert len(directory) == 1
    assert all(x + n <= y for (x, n), (y, _) in zip(spans, spans[1:]))  # no byte twice
    assert sum(c.fetched for c in got) == sum(n for _, n in reads)
    rows = by_id(release)
    with np.load(tree_path(release, rows[a], "npz")) as src:
        for clip in got:
            key = "smplh:body_pose"
            first = int(np.ceil(clip.window.start_s * 30 - 1e-9))
            n = len(clip.sample.npz[key])
            assert np.array_equal(clip.sample.npz[key], src[key][first : first + n])


def test_materialize_cuts_the_windows_of_one_recording_together(
    make_hub_server, hf_catalog, release, chosen, tmp_path
):
    windows, members = chosen
    server = make_hub_server(root=release / "hf")
    settings = Settings(hf_endpoint=server.endpoint, progress=False)
    server.stats.reset()
    r = materialize(hf_catalog, sql=_sql(windows), to=tmp_path / "c", source=HUB,
                    modalities="wav,npz", settings=settings, workers=2)  # fmt: skip
    assert r.ok and r.count("delivered") == 8
    reads = _reads(server, members)
    a = windows[0][0]
    assert len(reads[(a, "wav")]) == 3  # one header, the overlapping pair once, the third
    tail = members[(a, "npz")][2]  # the directory's read ends there; member reads follow
    npz = sorted(x for x in reads[(a, "npz")] if x[0] + x[1] != tail)
    assert len(npz) == len(reads[(a, "npz")]) - 1  # one directory read
    assert all(x + n <= y for (x, n), (y, _) in zip(npz, npz[1:]))  # no member byte twice
    rows = by_id(release)
    rate, source = wav_samples(tree_path(release, rows[a], "wav").read_bytes())
    for o in r.outcomes:
        if o.ext == "wav" and o.file_id == a and "_t0002000-" in o.path:
            _, got = wav_samples((tmp_path / "c" / o.path).read_bytes())
            assert got.tobytes() == source[2 * rate : round(3.5 * rate)].tobytes()
            break
    else:
        pytest.fail("the 2.0-3.5 s wav clip is missing")
