"""Clips by range vs the way users cut moments today, on loopback.

A generated release of realistic recordings (``durations="real"``: 60-600 s, mean ~226 s;
H.264 at a constant ~4.7 Mbit/s with 1-2 s GOPs; full-length 48 kHz float32 wav; deflated
npz) in Hub-layout tars, served by the suite's Hub-protocol server (``tests.fakes.hub``) and
read through the real ``huggingface_hub`` client. 100 windows of 5 s at seeded random places
in the recordings of at least 200 s.

* ours: ``Catalog.clips(sql, modalities="json,mp4,npz,wav")``: each window cut by range
  (wav header + one data range, the moov + the window's GOPs, the npz directory + its
  members, json from the catalog).
* baseline (in the same process): ``materialize`` the whole files of those windows (one
  ranged request per sample, the fastest whole-file path we have), then cut each window the
  way public code does: numpy for wav and npz (load, slice, write), the json filtered in
  Python, the mp4 by stream copy with the ffmpeg CLI when installed (``ffmpeg -ss S -t D -i
  F -c copy``), else PyAV's FFmpeg doing the same remux.

Bytes are what the server sent (its counters: the response bodies); requests are the
server's too. Printed: bytes fetched / bytes of the clips delivered per modality group,
requests per clip, and the baseline's bytes and wall time over ours.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_common import NOTE, machine  # noqa: E402

HUB = "hf://datasets/facebook/seamless-interaction"


def prepare(work: Path, quick: bool) -> tuple[Path, Path]:
    from seamless_catalog.ingestion.pipeline import ingest
    from seamless_catalog.synth import generate

    release, catalog = work / "release", work / "catalog"
    if not (catalog / "catalog.duckdb").exists():
        shutil.rmtree(work, ignore_errors=True)
        generate(release, n_files=12 if quick else 36, seed=11, layouts=("hf",),
                 durations="short" if quick else "real", video_kbps=4700)  # fmt: skip
        ingest(catalog, [str(release / "hf")], filelist=str(release / "filelist.csv"),
               assets=str(release / "assets"))  # fmt: skip
    return release, catalog


def windows_sql(catalog: Path, release: Path, n: int, seconds: float, min_s: float) -> str:
    """``n`` windows over the whole recordings of at least ``min_s`` (the planted truncated
    mp4 left out: its tail cannot be cut, by either method)."""
    from seamless_catalog.catalog import Catalog

    cut = json.loads((release / "release.json").read_text())["quirks"].get("truncated_mp4", [])
    with Catalog.open(catalog) as cat:
        files = cat.sql(
            "select file_id, duration_s from files where duration_s >= ? and file_id in "
            "(select file_id from raw.members where ext = 'mp4') and file_id not in "
            "(select file_id from raw.media where placeholder) "
            "and file_id not in (select unnest(?::varchar[])) order by file_id",
            [min_s, cut],
        ).fetchall()
    rng = random.Random(15)
    rows = []
    for i in range(n):
        fid, dur = files[i % len(files)]
        start = round(rng.uniform(0, dur - seconds - 0.1), 3)
        rows.append(f"('{fid}', {start}, {start + seconds})")
    return (
        "select file_id, start_s::double as start_s, end_s::double as end_s "
        f"from (values {', '.join(rows)}) t(file_id, start_s, end_s)"
    )


def group(ext: str) -> str:
    return "mp4" if ext == "mp4" else "wav+npz+json"


def ours(catalog: Path, sql: str, settings, server) -> dict:
    from seamless_catalog.catalog import Catalog

    server.stats.reset()
    t0 = time.perf_counter()
    delivered = {"mp4": 0, "wav+npz+json": 0}
    fetched = {"mp4": 0, "wav+npz+json": 0}
    n = 0
    with Catalog.open(catalog) as cat:
        for clip in cat.clips(sql, modalities="json,mp4,npz,wav", source=HUB, settings=settings):
            n += 1
            for ext, data in clip.blobs.items():
                delivered[group(ext)] += len(data)
                fetched[group(ext)] += clip.fetched_by.get(ext, 0)
    wall = time.perf_counter() - t0
    records = server.stats.snapshot()
    sent = sum(r.body_bytes for r in records)
    return {"wall": wall, "clips": n, "delivered": delivered, "client_fetched": fetched,
            "server_bytes": sent, "requests": len(records)}  # fmt: skip


def _ffmpeg_cut(src: Path, start: float, seconds: float, out: Path) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        subprocess.run([ffmpeg, "-v", "error", "-y", "-ss", str(start), "-t", str(seconds),
                        "-i", str(src), "-c", "copy", str(out)], check=True)  # fmt: skip
        return
    import av  # PyAV's FFmpeg: the same remux as `ffmpeg -ss -t -c copy`

    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        stream = inp.streams.video[0]
        ost = dst.add_stream_from_template(stream)
        inp.seek(int(start / stream.time_base), stream=stream, backward=True)
        for packet in inp.demux(stream):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * stream.time_base >= start + seconds:
                break
            packet.stream = ost
            dst.mux(packet)


def baseline(catalog: Path, sql: str, settings, server, work: Path) -> dict:
    from seamless_catalog.catalog import Catalog
    from seamless_catalog.materialize import materialize

    to = work / "whole"
    shutil.rmtree(to, ignore_errors=True)
    cuts = work / "cuts"
    shutil.rmtree(cuts, ignore_errors=True)
    cuts.mkdir(parents=True)
    with Catalog.open(catalog) as cat:
        wins = cat.sql(sql).fetchall()
    ids = sorted({w[0] for w in wins})
    server.stats.reset()
    t0 = time.perf_counter()
    r = materialize(catalog, ids=ids, to=to, source=HUB, settings=settings, workers=4)
    assert r.ok, r.failures
    paths = {(o.file_id, o.ext): to / o.path for o in r.outcomes if o.path}
    for i, (fid, start, end) in enumerate(wins):
        seconds = end - start
        raw = paths[(fid, "wav")].read_bytes()  # numpy: the whole file, sliced
        data = np.frombuffer(raw, "<f4", offset=58)
        piece = data[round(start * 48000) : round(end * 48000)]
        (cuts / f"{i}.wav").write_bytes(raw[:58] + piece.tobytes())  # header not fixed: as-is
        with np.load(paths[(fid, "npz")]) as z:
            arrays = {k: z[k][int(start * 30) : int(end * 30)] for k in z.files}
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        (cuts / f"{i}.npz").write_bytes(buf.getvalue())
        doc = json.loads(paths[(fid, "json")].read_text())
        words = [w for s in doc["metadata:transcript"] for w in s["words"]]
        words = [w for w in words if w.get("start") is not None and start < w["end"]]
        words = [w for w in words if w["start"] < end]
        (cuts / f"{i}.json").write_text(json.dumps(words))
        _ffmpeg_cut(paths[(fid, "mp4")], start, seconds, cuts / f"{i}.mp4")
    wall = time.perf_counter() - t0
    records = server.stats.snapshot()
    return {"wall": wall, "server_bytes": sum(rr.body_bytes for rr in records),
            "requests": len(records), "files": len(ids)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short recordings, 20 windows")
    ap.add_argument("--windows", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/seamless-bench-clips"))
    args = ap.parse_args()
    n = 20 if args.quick else args.windows
    work = args.work / ("quick" if args.quick else "real-36")
    print(machine())
    t0 = time.perf_counter()
    release, catalog = prepare(work, args.quick)
    print(f"release ready in {time.perf_counter() - t0:.0f} s: {release}")
    sql = windows_sql(catalog, release, n, args.seconds, 10.0 if args.quick else 200.0)

    from seamless_catalog.config import Settings
    from tests.fakes.hub import HubServer

    with HubServer(release / "hf") as server:
        settings = Settings(hf_endpoint=server.endpoint, progress=False)
        a = ours(catalog, sql, settings, server)
        b = baseline(catalog, sql, settings, server, work)
    delivered = sum(a["delivered"].values())
    print(f"\n{a['clips']} windows of {args.seconds:g} s over {b['files']} recordings "
          f"(ffmpeg CLI: {'yes' if shutil.which('ffmpeg') else 'no, PyAV remux'})")  # fmt: skip
    print(f"{'group':14} {'fetched':>12} {'delivered':>12} {'ratio':>6}")
    for g in ("wav+npz+json", "mp4"):
        f, d = a["client_fetched"][g], a["delivered"][g]
        print(f"{g:14} {f:12,} {d:12,} {f / d:6.2f}")
    print(
        f"ours: server sent {a['server_bytes']:,} bytes for {delivered:,} bytes of clips "
        f"(ratio {a['server_bytes'] / delivered:.2f}), {a['requests']} requests "
        f"({a['requests'] / a['clips']:.1f} per window of 4 clips), {a['wall']:.2f} s"
    )
    print(
        f"baseline: server sent {b['server_bytes']:,} bytes, {b['requests']} requests, "
        f"{b['wall']:.2f} s"
    )
    print(
        f"baseline / ours: bytes {b['server_bytes'] / a['server_bytes']:.1f}x, "
        f"wall time {b['wall'] / a['wall']:.1f}x"
    )
    print(NOTE)


if __name__ == "__main__":
    main()
