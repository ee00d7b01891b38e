"""Materialize benchmark on loopback: our materializer vs curl, aria2c and boto3, to disk.

    python scripts/bench_materialize.py                  # 64 files, mp4 padded to 6 MB each
    python scripts/bench_materialize.py --quick          # 12 small files: checks it runs
    python scripts/bench_materialize.py --ref-code DIR   # also ours from another checkout

What is measured (one generated release with media, mp4 members padded with an MP4 ``free``
box so that throughput is measurable; the catalog is ingested from the padded tars):

  tar     the Hub layout. ``tests.fakes.hub.HubServer`` answers the Hub API and ``/resolve``;
          its 302 points at **nginx** (sendfile on, tcp_nodelay on), which serves the tars.
          ours:  materialize(source="hf://datasets/...", all four modalities): one resolve per
                 tar, then one ranged GET per sample (its json+mp4+npz+wav members).
          curl:  the same byte ranges from the same nginx URLs, given for free (no resolve):
                 curl -s -S --fail -Z --parallel-max W -K ranges.cfg
                 (ranges.cfg: url = ..., range = A-B, output = ..., then "next", per request)
          curl+sync: the same, then ``sync FILE...`` (fsync of each file it wrote), timed:
                 as durable as ours, which syncs every file before it names it
  https   the per-file CDN layout, served by nginx: mp4 + wav of the same files.
          ours:  materialize(source="http://127.0.0.1:PORT/cdn", modalities="mp4,wav")
          curl:  curl -Z --parallel-max W -K files.cfg (curl+sync: then sync FILE...)
          aria2c: aria2c -i files.txt -j W -x 1 -s 1 --file-allocation=none
  s3      the same objects in a moto S3 server (a separate process).
          ours:  materialize(source="s3://bench-media", modalities="mp4,wav")
          boto3: client.download_file on W threads (its default TransferConfig)

Every method runs in its own process, W workers, interleaved over --repeat rounds after one
warm-up round; the median is reported with min..max and the load average. Before each run the
page cache is written back (``sync``, untimed): ours syncs each file it delivers (curl, aria2c
and boto3 do not), and must not also wait for the previous method's writes. Requests are
counted by nginx's access log; for "ours" they include the dry run that the child does
first to time the planning alone (per-file: one HEAD per object). ``whole-archive``
restates the upstream toolkit's unit of download: to get a sample it fetches the whole tar,
so its ratio is (bytes of the tars holding the selected samples) / (bytes of the selected
samples).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench_common import NOTE, load, machine, median, spread

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fakes.nginx import NginxServer  # noqa: E402  (the suite's servers, run here too)
from tests.fakes.process import ServerProcess, free_port  # noqa: E402

REPO = "bench/seamless-interaction"
BUCKET = "bench-media"
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}

# --------------------------------------------------------------------------- the release


def padded_mp4(data: bytes, target: int) -> bytes:
    """``data`` with a trailing MP4 ``free`` box so that it is ``target`` bytes long."""
    n = target - len(data)
    if n < 8:
        return data
    return data + struct.pack(">I", n) + b"free" + bytes(n - 8)


def _inflate(release: Path, mp4_bytes: int) -> None:
    for tar in sorted((release / "hf").rglob("*.tar")):
        tmp = tar.with_suffix(".tmp")
        with tarfile.open(tar) as src, tarfile.open(tmp, "w", format=src.format) as dst:
            for m in src:
                data = src.extractfile(m).read() if m.isfile() else None
                if data is not None and m.name.endswith(".mp4"):
                    data = padded_mp4(data, mp4_bytes)
                    m.size = len(data)
                dst.addfile(m, io.BytesIO(data) if data is not None else None)
        tmp.replace(tar)
    for mp4 in sorted((release / "cdn").rglob("video/*.mp4")):
        mp4.write_bytes(padded_mp4(mp4.read_bytes(), mp4_bytes))


def prepare(work: Path, n_files: int, mp4_bytes: int) -> tuple[Path, Path]:
    from seamless_catalog.ingestion.pipeline import ingest
    from seamless_catalog.synth import generate

    release, catalog = work / "release", work / "catalog"
    if not (release / ".inflated").exists():
        shutil.rmtree(release, ignore_errors=True)
        shutil.rmtree(catalog, ignore_errors=True)
        print(f"generating {n_files} files with media in {release} ...", file=sys.stderr)
        generate(release, n_files=n_files, seed=5, layouts=("hf", "cdn"))
        _inflate(release, mp4_bytes)
        (release / ".inflated").write_text(str(mp4_bytes))
    if not (catalog / "manifest.json").exists():
        ingest(
            catalog,
            [str(release / "hf")],
            filelist=str(release / "filelist.csv"),
            assets=str(release / "assets"),
        )
    return release, catalog


def selected(catalog: Path, release: Path) -> list[tuple[str, str, str]]:
    """(file_id, label, split) of every file that has its four members in a tar and its
    mp4 and wav in the per-file copy: the same samples for every source."""
    from seamless_catalog.catalog import Catalog

    with Catalog.open(catalog) as cat:
        rows = cat.sql(
            "select m.file_id, f.label, f.split from raw.members m join files f using (file_id) "
            "group by all having count(distinct m.ext) = 4 order by 1"
        ).fetchall()
    cdn = release / "cdn"
    return [
        r
        for r in rows
        if (cdn / r[1] / r[2] / "video" / f"{r[0]}.mp4").exists()
        and (cdn / r[1] / r[2] / "audio" / f"{r[0]}.wav").exists()
    ]


def selection_sql(ids: list[str]) -> str:
    return "select file_id from files where file_id in (" + ",".join(f"'{i}'" for i in ids) + ")"


# --------------------------------------------------------------------------- servers


class Nginx(NginxServer):
    """The suite's nginx (``tests.fakes.nginx``) with two workers, counted from its log."""

    def __init__(self, www: Path, state: Path) -> None:
        super().__init__(www, state, workers=2)

    @property
    def base(self) -> str:
        return self.http

    def mark(self) -> int:
        return len(self.requests())

    def since(self, mark: int) -> tuple[int, int]:
        """(requests, body bytes sent) logged after ``mark``."""
        time.sleep(0.05)
        logged = self.requests()[mark:]
        return len(logged), sum(r.sent for r in logged)


def hub_to_nginx(root: Path, www: Path, nginx_base: str):
    """The test Hub server over ``root``, whose LFS redirects point at nginx."""
    from tests.fakes.hub import HubServer

    def served(sha: str) -> str:  # where nginx serves an LFS object, under www
        return f"repos/{sha[:2]}/{sha[2:4]}/{sha}"

    class NginxHub(HubServer):
        def _signed_cdn_url(self, f, expired: bool) -> str:
            return f"{nginx_base}/{served(f.sha256)}"

    hub = NginxHub(root, REPO, lfs_threshold=1 << 40)
    urls = {}
    for path, f in hub.snapshot.files.items():
        if f.is_lfs:
            link = www / served(f.sha256)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(f.disk_path.resolve())
            urls[path] = f"{nginx_base}/{served(f.sha256)}"
    return hub, urls


class Moto(ServerProcess):
    """moto's S3 server in its own process (so that it does not share our GIL)."""

    name = "moto"

    def __init__(self) -> None:
        self.port = free_port()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Moto:
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.wait_listening((self.port,), 30.0)
        return self

    def upload(self, cdn: Path, keys: list[str]) -> None:
        import boto3

        os.environ.update(AWS)
        s3 = boto3.client("s3", endpoint_url=self.base)
        s3.create_bucket(Bucket=BUCKET)
        for key in keys:
            s3.upload_file(str(cdn / key), BUCKET, key)


# --------------------------------------------------------------------------- children


def child(kind: str, spec: dict) -> dict:
    """Run one method in this (fresh) process; return its timing and counters."""
    out = Path(spec["out"])
    if kind == "ours":
        from seamless_catalog import config
        from seamless_catalog.materialize import materialize

        settings = config.from_env(dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0"))
        t = time.perf_counter()
        materialize(  # the planning alone (catalog, selection, resolves/HEADs)
            spec["catalog"],
            sql=spec["sql"],
            to=out,
            source=spec["source"],
            modalities=spec["modalities"],
            workers=spec["workers"],
            settings=settings,
            dry_run=True,
        )
        plan_s = time.perf_counter() - t
        t = time.perf_counter()
        r = materialize(
            spec["catalog"],
            sql=spec["sql"],
            to=out,
            source=spec["source"],
            modalities=spec["modalities"],
            workers=spec["workers"],
            settings=settings,
        )
        seconds = time.perf_counter() - t
        return {
            "seconds": seconds,
            "plan_s": plan_s,
            "bytes": r.bytes_fetched,
            "needed": r.plan.bytes_needed,
            "plan_requests": r.plan.n_requests,
            "failed": len(r.failures),
            "delivered": r.count("delivered"),
        }
    if kind == "boto3":
        from concurrent.futures import ThreadPoolExecutor

        import boto3

        t = time.perf_counter()
        s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])

        def get(key: str) -> int:
            dest = out / key
            dest.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(BUCKET, key, str(dest))
            return dest.stat().st_size

        with ThreadPoolExecutor(spec["workers"]) as pool:
            total = sum(pool.map(get, spec["keys"]))
        return {"seconds": time.perf_counter() - t, "bytes": total}
    raise SystemExit(f"unknown child {kind}")


def run_python_child(kind: str, spec: dict, env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode:
        sys.exit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_tool(argv: list[str], out: Path, sync: bool = False) -> dict:
    """Run a download tool; with ``sync``, then fsync what it wrote (``sync FILE...``), in the
    time: the durability ours gives every file it delivers."""
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    if sync and not proc.returncode:
        subprocess.run(["sync", *(str(p) for p in out.rglob("*") if p.is_file())], check=True)
    seconds = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"{argv[0]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"seconds": seconds, "bytes": total}


def curl_config(entries: list[tuple[str, str | None, Path]], cfg: Path) -> None:
    lines = []  # "next" starts a new set of options (a range is per transfer)
    for url, rng, dest in entries:
        if lines:
            lines.append("next")
        lines.append(f'url = "{url}"')
        if rng:
            lines.append(f'range = "{rng}"')
        lines.append(f'output = "{dest}"')
    cfg.write_text("\n".join(lines) + "\n")


def curl_argv(cfg: Path, workers: int) -> list[str]:
    return ["curl", "-s", "-S", "--fail", "-Z", "--parallel-max", str(workers), "-K", str(cfg)]


def aria2_argv(urls: list[tuple[str, str]], listing: Path, out: Path, workers: int) -> list[str]:
    listing.write_text("".join(f"{u}\n  out={name}\n" for u, name in urls))
    return [
        "aria2c", "-q", "-i", str(listing), "-d", str(out), "-j", str(workers), "-x", "1",
        "-s", "1", "--file-allocation=none", "--allow-overwrite=true",
        "--auto-file-renaming=false", "--console-log-level=warn",
    ]  # fmt: skip


# --------------------------------------------------------------------------- the benchmark


def whole_archive(catalog: Path, release: Path, ids: list[str]) -> tuple[int, int]:
    """(bytes of the selected samples' members, bytes of the tars that hold them)."""
    from seamless_catalog.catalog import Catalog

    with Catalog.open(catalog) as cat:
        rows = cat.sql(
            "select archive_path, sum(size) from raw.members "
            "where file_id in (select unnest(?::varchar[])) group by 1",
            [ids],
        ).fetchall()
    needed = sum(int(n) for _, n in rows)
    tars = sum((release / "hf" / arch).stat().st_size for arch, _ in rows)
    return needed, tars


def subsets(catalog: Path, ids: list[str]) -> dict[str, list[str]]:
    from seamless_catalog.catalog import Catalog

    with Catalog.open(catalog) as cat:
        pair = cat.sql(
            "select file_id_a, file_id_b from pairs "
            "where file_id_a in (select unnest(?::varchar[])) "
            "and file_id_b in (select unnest(?::varchar[])) order by 1 limit 1",
            [ids, ids],
        ).fetchall()[:1]
    out = {"one file": ids[:1]}
    if pair:
        out["one pair"] = list(pair[0])
    out["10% of files"] = ids[:: max(1, len(ids) // max(1, len(ids) // 10))][
        : max(1, len(ids) // 10)
    ]
    out["every file"] = ids
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="12 small files, one round")
    ap.add_argument("--n-files", type=int, default=64)
    ap.add_argument("--mp4-mb", type=float, default=6.0, help="pad each mp4 to this size")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sources", default="tar,https,s3")
    ap.add_argument("--work", type=Path, default=Path("/tmp/seamless-bench-materialize"))
    ap.add_argument(
        "--ref-code",
        type=Path,
        help="also run ours from the package in this folder (a checkout of another version, "
        "put first on PYTHONPATH), interleaved with the rest, as method ours@ref",
    )
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], json.loads(args.child[1]))))
        return
    n_files = 12 if args.quick else args.n_files
    mp4_bytes = int((0.25 if args.quick else args.mp4_mb) * 1e6)
    repeat = 1 if args.quick else args.repeat
    warmup = 0 if args.quick else 1
    sources = args.sources.split(",")
    work = args.work / f"n{n_files}-mp4-{mp4_bytes}"
    release, catalog = prepare(work, n_files, mp4_bytes)
    rows = selected(catalog, release)
    ids = [r[0] for r in rows]
    if not ids:
        sys.exit("no file has all its members in the generated release")
    sql = selection_sql(ids)
    keys = [f"{lab}/{spl}/{g}/{fid}.{e}" for fid, lab, spl in rows for g, e in VIDEO_AUDIO]
    print(machine(), file=sys.stderr)
    missing = [t for t in ("nginx", "curl", "aria2c") if shutil.which(t) is None]
    if missing:
        print(f"{', '.join(missing)} not installed: their parts are skipped", file=sys.stderr)
    www = work / "www"
    (www / "repos").mkdir(parents=True, exist_ok=True)
    if not (www / "cdn").exists():
        (www / "cdn").symlink_to((release / "cdn").resolve())
    scratch = Path(tempfile.mkdtemp(prefix="bench-mat-", dir=work))
    results: dict[str, dict[str, list[dict]]] = {}
    env = dict(os.environ, SEAMLESS_CATALOG_PROGRESS="0")
    try:
        if "nginx" in missing:
            sources = [s for s in sources if s == "s3"]
        with _maybe(Nginx(www, work / "nginx") if "nginx" not in missing else None) as ngx:
            methods, hub = _methods(args, sources, ngx, release, catalog, www, sql, keys, scratch)
            with _maybe(hub), _maybe(Moto() if "s3" in sources else None) as moto:
                if moto is not None:
                    moto.upload(release / "cdn", keys)
                    env.update(AWS, AWS_ENDPOINT_URL=moto.base)
                if hub is not None:
                    env["HF_ENDPOINT"] = hub.endpoint
                for rnd in range(warmup + repeat):
                    for (source, name), run in methods.items():
                        out = scratch / "out"
                        shutil.rmtree(out, ignore_errors=True)
                        out.mkdir()
                        os.sync()  # no method waits for the writeback of the one before
                        before, mark = load(), ngx.mark() if ngx else 0
                        r = run(out, env)
                        if ngx is not None and source != "s3":
                            r["requests"], r["sent"] = ngx.since(mark)
                        r["load"] = before
                        if rnd >= warmup:
                            results.setdefault(source, {}).setdefault(name, []).append(r)
                        print(
                            f"  {source}/{name}: {r['seconds']:.2f} s, load {before}",
                            file=sys.stderr,
                        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(results, len(ids), args.workers, missing)
    print("\nwhole-archive approach (upstream toolkit's unit) vs ours, all four modalities:")
    print(f"{'selection':<14}{'samples':>8}{'needed MB':>11}{'tars MB':>9}{'whole/needed':>14}")
    for label, sub in subsets(catalog, ids).items():
        needed, tars = whole_archive(catalog, release, sub)
        print(
            f"{label:<14}{len(sub):>8}{needed / 1e6:>11.1f}{tars / 1e6:>9.1f}{tars / needed:>14.2f}"
        )


VIDEO_AUDIO = (("video", "mp4"), ("audio", "wav"))


class _maybe:
    """``with _maybe(x)``: enter ``x`` unless it is None."""

    def __init__(self, obj) -> None:
        self.obj = obj

    def __enter__(self):
        return self.obj.__enter__() if self.obj is not None else None

    def __exit__(self, *exc) -> None:
        if self.obj is not None:
            self.obj.__exit__(*exc)


def _methods(args, sources, ngx, release, catalog, www, sql, keys, scratch):
    """{(source, method): run(out, env) -> result} and the Hub server (not yet started)."""
    from seamless_catalog import config
    from seamless_catalog.materialize import materialize

    methods = {}
    hub = None
    w = args.workers
    have = {t: shutil.which(t) is not None for t in ("curl", "aria2c")}

    def ours(source: str, modalities: str, code: Path | None = None):
        spec = {"catalog": str(catalog), "sql": sql, "source": source,
                "modalities": modalities, "workers": w}  # fmt: skip
        path = {"PYTHONPATH": str(code.resolve())} if code is not None else {}
        return lambda out, env: run_python_child("ours", dict(spec, out=str(out)), env | path)

    def add_ours(source: str, uri: str, modalities: str) -> None:
        methods[source, "ours"] = ours(uri, modalities)
        if args.ref_code is not None:
            methods[source, "ours@ref"] = ours(uri, modalities, args.ref_code)

    if "tar" in sources and ngx is not None:
        hub, urls = hub_to_nginx(release / "hf", www, ngx.base)
        add_ours("tar", f"hf://datasets/{REPO}", "json,mp4,npz,wav")
        if have["curl"]:
            with hub:  # a dry run gives the byte ranges ours reads; curl gets them for free
                settings = config.from_env({"HF_ENDPOINT": hub.endpoint})
                plan = materialize(
                    catalog, sql=sql, to=scratch / "dry", source=f"hf://datasets/{REPO}",
                    dry_run=True, settings=settings,
                ).plan  # fmt: skip
            ranges = [
                (urls[r.key], f"{r.offset}-{r.offset + r.length - 1}", i)
                for i, r in enumerate(plan.requests)
            ]

            def curl_tar(out: Path, env: dict, sync: bool = False) -> dict:
                cfg = scratch / "tar.cfg"
                curl_config([(u, rng, out / f"r{i:05d}") for u, rng, i in ranges], cfg)
                return run_tool(curl_argv(cfg, w), out, sync)

            methods["tar", "curl"] = curl_tar
            methods["tar", "curl+sync"] = lambda out, env: curl_tar(out, env, sync=True)
    if "https" in sources and ngx is not None:
        add_ours("https", f"{ngx.base}/cdn", "mp4,wav")
        if have["curl"]:

            def curl_files(out: Path, env: dict, sync: bool = False) -> dict:
                cfg = scratch / "files.cfg"
                entries = [(f"{ngx.base}/cdn/{k}", None, out / k.replace("/", "_")) for k in keys]
                curl_config(entries, cfg)
                return run_tool(curl_argv(cfg, w), out, sync)

            methods["https", "curl"] = curl_files
            methods["https", "curl+sync"] = lambda out, env: curl_files(out, env, sync=True)
        if have["aria2c"]:

            def aria2(out: Path, env: dict) -> dict:
                urls = [(f"{ngx.base}/cdn/{k}", k.replace("/", "_")) for k in keys]
                return run_tool(aria2_argv(urls, scratch / "aria2.txt", out, w), out)

            methods["https", "aria2c"] = aria2
    if "s3" in sources:
        add_ours("s3", f"s3://{BUCKET}", "mp4,wav")

        def boto(out: Path, env: dict) -> dict:
            return run_python_child("boto3", {"out": str(out), "keys": keys, "workers": w}, env)

        methods["s3", "boto3"] = boto
    return methods, hub


def report(results: dict, n_samples: int, workers: int, missing: list[str]) -> None:
    print(f"\n{machine()}\n{n_samples} samples, {workers} workers each; {NOTE}")
    if missing:
        print(f"skipped (not installed): {', '.join(missing)}")
    head = (
        f"{'source':<7}{'method':<10}{'MB':>8}{'s (median)':>11}{'min..max':>14}{'MB/s':>8}"
        f"{'requests':>9}{'req/sample':>11}{'fetched/needed':>15}  load at start"
    )
    print(head)
    for source, methods in results.items():
        for name, runs in methods.items():
            secs = [r["seconds"] for r in runs]
            last = runs[-1]
            mb = last["bytes"] / 1e6
            reqs = last.get("requests")
            ratio = ""
            if "needed" in last and last["needed"]:
                sent = last.get("sent", last["bytes"])
                ratio = f"{sent / last['needed']:.4f}"
            print(
                f"{source:<7}{name:<10}{mb:>8.1f}{median(secs):>11.3f}{spread(secs):>14}"
                f"{mb / median(secs):>8.1f}{reqs if reqs is not None else 'n/a':>9}"
                f"{(reqs / n_samples) if reqs is not None else float('nan'):>11.2f}"
                f"{ratio:>15}  {last['load']}"
            )
    print()
    for source, methods in results.items():
        for mine in [m for m in methods if m.startswith("ours")]:
            ours = median([r["seconds"] for r in methods[mine]])
            for name, runs in methods.items():
                if name != mine and (mine == "ours" or not name.startswith("ours")):
                    base = median([r["seconds"] for r in runs])
                    print(f"{source}: {mine} throughput vs {name}: {base / ours:.2f}x")
            o = methods[mine][-1]
            plan_s = median([r["plan_s"] for r in methods[mine]])
            print(
                f"{source}: {mine} planning alone (a dry run, same process before the run): "
                f"{plan_s:.3f} s median"
            )
            print(
                f"{source}: {mine} plan requests {o['plan_requests']} for {n_samples} samples, "
                f"{o['delivered']} files delivered, {o['failed']} failed"
            )


if __name__ == "__main__":
    main()
