"""Clips by range vs the way users cut moments today, on loopback.

The release: a generated base release of realistic recordings (``durations="real"``: 60-600
s; H.264 at a constant ~4.7 Mbit/s with 1-2 s GOPs; full-length 48 kHz float32 wav;
deflated npz) whose recordings of at least 200 s are reused under many file_ids (one per
window: 100 windows in 100 recordings), in Hub-layout tars. Encoding is what is slow and the
disk is shared, so those tars are *virtual*: their member data are the base release's bytes
(read where the base tars hold them), their headers and json members are written for each
new file_id; the suite's Hub-protocol server (``tests.fakes.hub``) serves them, and the
catalog is ingested from it through the real ``huggingface_hub`` client. 100 windows of 5 s
at seeded random places, one per recording (``--per-recording K``: K in each of 100 / K
recordings, which shows the windows of one recording sharing their reads).

* ours: ``Catalog.clips(sql, modalities="json,mp4,npz,wav")``: each window cut by range
  (wav header + one data range, the moov + the window's GOPs, the npz directory + the
  prefix of each member up to the window's end, json from the catalog).
* baseline (in the same process): ``materialize`` the whole files of those windows (one
  ranged request per sample, the fastest whole-file path we have), then cut each window the
  way public code does: numpy for wav and npz (load, slice, write), the json filtered in
  Python, the mp4 by stream copy with the ffmpeg CLI when installed (``ffmpeg -ss S -t D -i
  F -c copy``), else PyAV's FFmpeg doing the same remux. The whole files are written in
  chunks of ``--chunk`` recordings and deleted once cut (the disk is shared); that costs the
  baseline nothing it would not pay anyway.

Bytes are what the server sent (its counters: the response bodies); requests are the
server's too. Printed: bytes fetched / bytes of the clips delivered per modality group,
requests per clip, and the baseline's bytes and wall time over ours. ``--profile`` runs ours
once more under cProfile with one worker and prints where its time goes.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import csv
import io
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_common import NOTE, machine  # noqa: E402

HUB = "hf://datasets/facebook/seamless-interaction"
EXTS = ("json", "mp4", "npz", "wav")  # member order in the release's tars
PER_TAR = 8  # samples per virtual tar (the release has 4 to 10)


# ------------------------------------------------------------------------ virtual tars
class Segments(io.RawIOBase):
    """A read-only file made of byte strings and ranges of other files (read with pread)."""

    _fds: dict[str, int] = {}
    _lock = threading.Lock()

    def __init__(self, parts: list[tuple[int, bytes | tuple[str, int, int]]], size: int):
        super().__init__()
        self.starts = [a for a, _ in parts]
        self.parts = [p for _, p in parts]
        self.size, self.pos = size, 0

    @classmethod
    def _fd(cls, path: str) -> int:
        with cls._lock:
            if path not in cls._fds:
                cls._fds[path] = os.open(path, os.O_RDONLY)
            return cls._fds[path]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        out = []
        while n > 0:
            i = bisect.bisect_right(self.starts, self.pos) - 1
            part, rel = self.parts[i], self.pos - self.starts[i]
            if isinstance(part, bytes):
                chunk = part[rel : rel + n]
            else:
                path, offset, length = part
                chunk = os.pread(self._fd(path), min(n, length - rel), offset + rel)
            out.append(chunk)
            self.pos += len(chunk)
            n -= len(chunk)
        return b"".join(out)


class VirtualPath:
    """What the Hub server opens to serve a virtual tar (it only calls ``open("rb")``)."""

    def __init__(self, parts, size: int) -> None:
        self.parts, self.size = parts, size

    def open(self, mode: str = "rb") -> Segments:
        return Segments(self.parts, self.size)


def _tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, 1_700_000_000, 0o644, 0, 0
    return info.tobuf(tarfile.USTAR_FORMAT)


def virtual_tar(samples: list[tuple[str, dict]]) -> tuple[list, int]:
    """The parts and size of a tar of ``samples`` (file_id -> ext -> bytes or a base range),
    laid out as tarfile writes it: 512-byte headers, data padded to 512, two zero blocks,
    the whole padded to 10,240 bytes."""
    parts, pos = [], 0
    for fid, members in samples:
        for ext in EXTS:
            data = members[ext]
            size = len(data) if isinstance(data, bytes) else data[2]
            for piece in (_tar_header(f"{fid}.{ext}", size), data, b"\0" * (-size % 512)):
                n = len(piece) if isinstance(piece, bytes) else piece[2]
                if n:
                    parts.append((pos, piece))
                    pos += n
    end = pos + 1024
    end += -end % tarfile.RECORDSIZE
    parts.append((pos, b"\0" * (end - pos)))
    return parts, end


def _base_members(base: Path) -> dict[str, dict[str, tuple[str, int, int]]]:
    """file_id -> ext -> (base tar, data offset, size)."""
    out: dict = {}
    for tar_path in sorted((base / "hf").rglob("*.tar")):
        with tarfile.open(tar_path) as tar:
            for m in tar.getmembers():
                fid, ext = m.name.rsplit(".", 1)
                out.setdefault(fid, {})[ext] = (str(tar_path), m.offset_data, m.size)
    return out


def _new_id(fid: str, copy: int) -> str:
    """The copy's file_id: another session of the same vendor (a new interaction)."""
    vendor, _session, rest = fid.split("_", 2)
    return f"{vendor}_S{9000 + copy:04d}_{rest}"


def build_release(base: Path, out: Path, n: int, min_s: float) -> dict:
    """``n`` file_ids over the base recordings of at least ``min_s`` s: the filelist and
    assets on disk, the tars as a layout (path -> base ranges and json bytes) in
    ``layout.json``; the server's root gets sparse placeholders of the tars' sizes."""
    with (base / "filelist.csv").open(newline="") as fh:
        rows = {r["file_id"]: r for r in csv.DictReader(fh)}
    with (base / "truth.csv").open(newline="") as fh:
        truth = {r["file_id"]: r for r in csv.DictReader(fh)}
    quirks = json.loads((base / "release.json").read_text())["quirks"]
    bad = {f for q in ("truncated_mp4", "placeholder") for f in quirks.get(q, [])}
    members = _base_members(base)
    chosen = sorted(
        f for f, r in truth.items()
        if int(r["duration_ms"]) >= min_s * 1000 and f in rows and f not in bad
        and set(members.get(f, {})) == set(EXTS)
    )  # fmt: skip
    if not chosen:
        raise SystemExit(f"no base recording of at least {min_s} s: generate a larger base")
    shutil.rmtree(out, ignore_errors=True)
    (out / "hf").mkdir(parents=True)
    filelist, tars, placed = [], {}, Counter()
    for i in range(n):
        fid, copy = chosen[i % len(chosen)], i // len(chosen)
        new, where = _new_id(fid, copy), (rows[fid]["label"], rows[fid]["split"])
        batch = 50 + placed[where] // PER_TAR  # PER_TAR samples a tar, as in the release
        placed[where] += 1
        row = dict(rows[fid], file_id=new, batch_idx=str(batch), archive_idx="0")
        filelist.append(row)
        tars.setdefault(f"{where[0]}/{where[1]}/{batch:04d}/0000.tar", []).append((new, fid))
    with (out / "filelist.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(filelist[0]))
        w.writeheader()
        w.writerows(filelist)
    shutil.copytree(base / "assets", out / "assets")
    layout = {}
    for path, samples in tars.items():
        listed = []
        for new, fid in samples:
            doc = json.loads(_read_range(members[fid]["json"]))
            doc["id"] = new
            listed.append((new, fid, json.dumps(doc, indent=4)))
        layout[path] = listed
        parts, size = _tar_parts(listed, members)
        placeholder = out / "hf" / path
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        with placeholder.open("wb") as fh:
            fh.truncate(size)  # sparse: no disk used; the server serves the virtual bytes
    (out / "layout.json").write_text(json.dumps(layout))
    return {"recordings": len(chosen), "files": n}


def _read_range(ref: tuple[str, int, int]) -> bytes:
    path, offset, size = ref
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _tar_parts(listed, members) -> tuple[list, int]:
    samples = [(new, {**{e: tuple(members[fid][e]) for e in EXTS}, "json": doc.encode()})
               for new, fid, doc in listed]  # fmt: skip
    return virtual_tar(samples)


def virtual_hub(release: Path, base: Path):
    """The suite's Hub server over ``release/hf``, serving each tar's virtual bytes."""
    import hashlib

    from tests.fakes import repo
    from tests.fakes.hub import HubServer

    def digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
        # the placeholders are sparse: name a tar by its path and size, not its zeros
        return hashlib.new(algorithm, prefix + f"{path}:{path.stat().st_size}".encode()).hexdigest()

    repo._file_digest = digest
    members = _base_members(base)
    layout = json.loads((release / "layout.json").read_text())

    class VirtualHub(HubServer):
        def refresh(self) -> None:
            super().refresh()
            for rel, f in list(self.snapshot.files.items()):
                if rel in layout:
                    parts, size = _tar_parts(layout[rel], members)
                    assert size == f.size, rel  # noqa: S101
                    f = _with_path(f, VirtualPath(parts, size))
                    self.snapshot.files[rel] = f
                    if f.sha256:
                        self.snapshot.by_sha256[f.sha256] = f

    return VirtualHub(release / "hf")


def _with_path(f, path):
    import dataclasses

    return dataclasses.replace(f, disk_path=path)


def prepare(work: Path, quick: bool, n: int) -> tuple[Path, Path, Path]:
    from seamless_catalog.config import Settings
    from seamless_catalog.ingestion.pipeline import ingest
    from seamless_catalog.synth import generate

    base, release, catalog = work / "base", work / "release", work / "catalog"
    if not (base / "release.json").exists():
        generate(base, n_files=12, seed=14, layouts=("hf",),
                 durations="short" if quick else "real", video_kbps=4700)  # fmt: skip
    if not (catalog / "catalog.duckdb").exists():
        shutil.rmtree(catalog, ignore_errors=True)
        built = build_release(base, release, n, 10.0 if quick else 200.0)
        print(f"release: {built['files']} file_ids over {built['recordings']} base recordings")
        with virtual_hub(release, base) as server:
            settings = Settings(hf_endpoint=server.endpoint, progress=False)
            ingest(catalog, [HUB], filelist=str(release / "filelist.csv"),
                   assets=str(release / "assets"), settings=settings)  # fmt: skip
    return base, release, catalog


def windows_sql(catalog: Path, n: int, seconds: float, per: int = 1) -> str:
    """``n`` windows of ``seconds`` at seeded random places, ``per`` in each recording (one
    by default: ``n`` recordings), ordered by recording and start as a query gives them."""
    from seamless_catalog.catalog import Catalog

    with Catalog.open(catalog) as cat:
        files = cat.sql(
            "select file_id, duration_s from files where file_id in "
            "(select file_id from raw.members) order by file_id"
        ).fetchall()
    rng = random.Random(15)
    rows = []
    for fid, dur in files[: -(-n // per)]:
        starts = sorted(round(rng.uniform(0, dur - seconds - 0.1), 3) for _ in range(per))
        rows += [f"('{fid}', {start}, {start + seconds})" for start in starts]
    rows = rows[:n]
    return (
        "select file_id, start_s::double as start_s, end_s::double as end_s "
        f"from (values {', '.join(rows)}) t(file_id, start_s, end_s)"
    )


def group(ext: str) -> str:
    return "mp4" if ext == "mp4" else "wav+npz+json"


def ours(catalog: Path, sql: str, settings, server, workers: int = 4) -> dict:
    from seamless_catalog.catalog import Catalog

    server.stats.reset()
    t0 = time.perf_counter()
    delivered = {"mp4": 0, "wav+npz+json": 0}
    fetched = {"mp4": 0, "wav+npz+json": 0}
    by_ext, got_ext = dict.fromkeys(EXTS, 0), dict.fromkeys(EXTS, 0)
    n = 0
    with Catalog.open(catalog) as cat:
        for clip in cat.clips(sql, modalities="json,mp4,npz,wav", source=HUB, settings=settings,
                              workers=workers):  # fmt: skip
            n += 1
            for ext, data in clip.blobs.items():
                delivered[group(ext)] += len(data)
                fetched[group(ext)] += clip.fetched_by.get(ext, 0)
                by_ext[ext] += clip.fetched_by.get(ext, 0)
                got_ext[ext] += len(data)
    wall = time.perf_counter() - t0
    records = server.stats.snapshot()
    sent = sum(r.body_bytes for r in records)
    kinds = dict(sorted(Counter(r.kind for r in records).items()))
    return {"wall": wall, "clips": n, "delivered": delivered, "client_fetched": fetched,
            "by_ext": by_ext, "got_ext": got_ext, "server_bytes": sent, "requests": len(records),
            "kinds": kinds}  # fmt: skip


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


def _cut_whole(paths: dict, i: int, fid: str, start: float, end: float, cuts: Path) -> None:
    """One window cut the way public code does, from the whole files."""
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
    _ffmpeg_cut(paths[(fid, "mp4")], start, end - start, cuts / f"{i}.mp4")


def baseline(catalog: Path, sql: str, settings, server, work: Path, chunk: int) -> dict:
    from seamless_catalog.catalog import Catalog
    from seamless_catalog.materialize import materialize

    to, cuts = work / "whole", work / "cuts"
    shutil.rmtree(cuts, ignore_errors=True)
    cuts.mkdir(parents=True)
    with Catalog.open(catalog) as cat:
        wins = cat.sql(sql).fetchall()
    ids = sorted({w[0] for w in wins})
    server.stats.reset()
    t0 = time.perf_counter()
    for k in range(0, len(ids), chunk):
        shutil.rmtree(to, ignore_errors=True)
        part = set(ids[k : k + chunk])
        r = materialize(catalog, ids=sorted(part), to=to, source=HUB, settings=settings,
                        workers=4)  # fmt: skip
        assert r.ok, r.failures  # noqa: S101
        paths = {(o.file_id, o.ext): to / o.path for o in r.outcomes if o.path}
        for i, (fid, start, end) in enumerate(wins):
            if fid in part:
                _cut_whole(paths, i, fid, start, end, cuts)
    wall = time.perf_counter() - t0
    shutil.rmtree(to, ignore_errors=True)
    records = server.stats.snapshot()
    return {"wall": wall, "server_bytes": sum(rr.body_bytes for rr in records),
            "requests": len(records), "files": len(ids)}  # fmt: skip


def _offsets_map(data: bytes, step: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """(compressed, uncompressed) offsets every ``step`` compressed bytes of a raw deflate
    stream: how far into the member a given output offset is."""
    import zlib

    d, comp, out = zlib.decompressobj(-15), [0], [0]
    for a in range(0, len(data), step):
        out.append(out[-1] + len(d.decompress(data[a : a + step])))
        comp.append(min(len(data), a + step))
    return np.array(comp), np.array(out)


def index_estimate(base: Path, release: Path, sql: str, catalog: Path, spacing: int) -> dict:
    """What the npz clips of the run would fetch (a) by partial inflate from the member's
    start, (b) with a zran-style access-point index every ``spacing`` compressed bytes
    (from the point before the window's first row to its last row, plus the point's 32 kB
    window, which the index would hold), (c) whole members; and the index's size."""
    import zipfile

    from seamless_catalog.catalog import Catalog
    from seamless_catalog.formats import npzclip
    from seamless_catalog.layout import FRAME_STRIDE

    members = _base_members(base)
    layout = json.loads((release / "layout.json").read_text())
    origin = {new: fid for samples in layout.values() for new, fid, _ in samples}
    with Catalog.open(catalog) as cat:
        wins = cat.sql(sql).fetchall()
    maps: dict = {}
    out = {"prefix": 0, "index": 0, "whole": 0, "index_bytes": 0, "recordings": 0}
    for fid, start, end in wins:
        src = origin[fid]
        if src not in maps:
            raw = _read_range(members[src]["npz"])
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                infos = z.infolist()
            entries = []
            for info in infos:
                begin = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
                data = raw[begin : begin + info.compress_size]
                comp, unc = _offsets_map(data)
                head = npzclip.npy_head(info.filename, zlib_head(data))
                entries.append((info, comp, unc, head))
            maps[src] = entries
            out["recordings"] += 1
            out["index_bytes"] += sum(
                (info.compress_size // spacing) * 32_768 for info, *_ in entries
            )
        for info, comp, unc, head in maps[src]:
            stride = FRAME_STRIDE.get(info.filename[:-4], 1)
            first, stop = npzclip.frame_range(start, end, 30.0, head.shape[0], stride)
            a = head.size + first * head.row
            b = head.size + stop * head.row
            c_end = int(comp[min(len(comp) - 1, np.searchsorted(unc, b))])
            c_start = int(comp[max(0, np.searchsorted(unc, a) - 1)])
            point = (c_start // spacing) * spacing
            out["prefix"] += c_end
            out["index"] += c_end - point + (32_768 if point else 0)
            out["whole"] += info.compress_size
    return out


def zlib_head(data: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(-15).decompress(data[:4096], 4096)


class _Inline:
    """A ThreadPoolExecutor stand-in that runs each task at once, in the calling thread, so
    that cProfile (which sees one thread) sees the cutting too."""

    def __init__(self, workers: int = 1) -> None:
        pass

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def submit(self, fn, *args):
        from concurrent.futures import Future

        f: Future = Future()
        try:
            f.set_result(fn(*args))
        except Exception as e:  # as a pool would: raised by result()
            f.set_exception(e)
        return f


def profile(catalog: Path, sql: str, settings, server, top: int = 30) -> None:
    """Ours again, every task inline in the main thread under cProfile: where the time of
    cutting goes, by cumulative and by own time (the server's threads are not profiled)."""
    from seamless_catalog.access import clips as access_clips

    prof = cProfile.Profile()
    pool, access_clips.ThreadPoolExecutor = access_clips.ThreadPoolExecutor, _Inline
    try:
        prof.enable()
        got = ours(catalog, sql, settings, server, workers=1)
        prof.disable()
    finally:
        access_clips.ThreadPoolExecutor = pool
    print(f"\nprofile: ours in one thread, {got['wall']:.2f} s under cProfile")
    stats = pstats.Stats(prof).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short recordings, 20 windows")
    ap.add_argument("--windows", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--chunk", type=int, default=10, help="whole files on disk at once")
    ap.add_argument("--per-recording", type=int, default=1, help="windows in each recording")
    ap.add_argument("--profile", action="store_true", help="profile ours (in one thread)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/seamless-bench-clips"))
    args = ap.parse_args()
    n = 20 if args.quick else args.windows
    work = args.work / ("quick" if args.quick else "real")
    print(machine())
    t0 = time.perf_counter()
    base, release, catalog = prepare(work, args.quick, n)
    print(f"release ready in {time.perf_counter() - t0:.0f} s: {release}")
    sql = windows_sql(catalog, n, args.seconds, args.per_recording)

    from seamless_catalog.catalog import Catalog
    from seamless_catalog.config import Settings

    with Catalog.open(catalog) as cat:
        mean_s = cat.value("select avg(duration_s) from files")
        whole = cat.value("select sum(size) from raw.members")
    with virtual_hub(release, base) as server:
        settings = Settings(hf_endpoint=server.endpoint, progress=False)
        a = ours(catalog, sql, settings, server)
        b = baseline(catalog, sql, settings, server, work, args.chunk)
        if args.profile:
            profile(catalog, sql, settings, server)
    est = index_estimate(base, release, sql, catalog, 1 << 20)
    delivered = sum(a["delivered"].values())
    print(f"\n{a['clips']} windows of {args.seconds:g} s in {b['files']} recordings "
          f"(mean {mean_s:.0f} s, {whole / 1e9:.1f} GB of members; ffmpeg CLI: "
          f"{'yes' if shutil.which('ffmpeg') else 'no, PyAV remux'})")  # fmt: skip
    print(f"{'group':14} {'fetched':>12} {'delivered':>12} {'ratio':>6}")
    for g in ("wav+npz+json", "mp4"):
        f, d = a["client_fetched"][g], a["delivered"][g]
        print(f"{g:14} {f:12,} {d:12,} {f / d:6.2f}")
    print("fetched / delivered by modality: " + ", ".join(
        f"{e} {v:,} / {a['got_ext'][e]:,}" for e, v in a["by_ext"].items()))  # fmt: skip
    print(
        f"ours: server sent {a['server_bytes']:,} bytes for {delivered:,} bytes of clips "
        f"(ratio {a['server_bytes'] / delivered:.2f}), {a['requests']} requests "
        f"({a['requests'] / a['clips']:.1f} per window of 4 clips; {a['kinds']}), "
        f"{a['wall']:.2f} s"
    )
    print(
        f"baseline: server sent {b['server_bytes']:,} bytes, {b['requests']} requests, "
        f"{b['wall']:.2f} s"
    )
    print(
        f"baseline / ours: bytes {b['server_bytes'] / a['server_bytes']:.1f}x, "
        f"wall time {b['wall'] / a['wall']:.1f}x"
    )
    print(
        f"npz, estimated from the base members: from the member start (ours) "
        f"{est['prefix']:,} bytes; with an access-point index every 1 MiB "
        f"{est['index']:,}; whole members {est['whole']:,}; the index "
        f"{est['index_bytes'] / max(1, est['recordings']):,.0f} bytes per recording"
    )
    print(NOTE)


if __name__ == "__main__":
    main()
