from __future__ import annotations

import gzip
import io
import random
import tarfile

import pytest

from seamless_catalog.errors import SourceFormatError
from seamless_catalog.formats.readers import BytesReader, CountingReader, FileReader
from seamless_catalog.formats.tarindex import TarMember, TarProblem, iter_entries, iter_members

FID = "V00_S0809_I00000582_P0947"
LONG = "deep/" * 25 + FID + ".wav"  # 155 chars: ustar prefix, GNU L, pax path
SIZES = [0, 1, 511, 512, 513, 70_000]


def make_tar(entries, fmt=tarfile.PAX_FORMAT, **kwargs) -> bytes:
    """entries: (name, size) for files, or ready TarInfo objects."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, **kwargs) as tf:
        for e in entries:
            info = e if isinstance(e, tarfile.TarInfo) else _file_info(*e)
            tf.addfile(info, io.BytesIO(b"\xab" * info.size) if info.isreg() else None)
    return buf.getvalue()


def _file_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = size, 1_720_000_000
    return info


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


def entries(data: bytes) -> list[TarMember | TarProblem]:
    return list(iter_entries(BytesReader(data)))


def problems(data: bytes) -> list[TarProblem]:
    return [e for e in entries(data) if isinstance(e, TarProblem)]


def fix_checksum(data: bytearray, header: int) -> None:
    block = data[header : header + 512]
    block[148:156] = b" " * 8
    data[header + 148 : header + 156] = b"%06o\0 " % sum(block)


def as_tuple(m):
    return (m.name.rstrip("/"), m.offset, m.offset_data, m.size, m.mtime, m.linkname)


def assert_same_as_tarfile(data: bytes) -> list[TarMember]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        ref = [as_tuple(t) for t in tf]
    got = [e for e in entries(data) if isinstance(e, TarMember)]
    mine = [(m.name.rstrip("/"), m.offset_header, m.offset_data, m.size, m.mtime, m.linkname)
            for m in got]  # fmt: skip
    assert mine == ref
    return got


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_offsets_and_sizes_match_tarfile(fmt):
    files = [(f"{FID}.{i}.mp4", size) for i, size in enumerate(SIZES)]
    files += [(LONG, 700), ("x" * 100, 3)]
    data = make_tar(files, fmt=fmt)
    got = assert_same_as_tarfile(data)
    assert [m.name for m in got] == [name for name, _ in files]
    assert {m.type for m in got} == {"file"}


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_names_longer_than_ustar_allows(fmt):
    names = ["n" * 300 + ".json", "dir/" + "é" * 120 + ".wav"]
    got = assert_same_as_tarfile(make_tar([(n, 10) for n in names], fmt=fmt))
    assert [m.name for m in got] == names
    assert got[0].offset_header < got[0].offset_data - 512  # offset is the L/x header


def test_pax_global_header_and_overrides():
    data = make_tar([(f"{FID}.json", 40), (LONG, 5)], pax_headers={"comment": "hi"})
    assert data[156:157] == b"g"
    assert_same_as_tarfile(data)
    assert problems(data) == []


def test_pax_size_overrides_the_header_size():
    info = _file_info(f"{FID}.mp4", 700)
    info.pax_headers = {"size": "700"}
    data = bytearray(make_tar([info, (f"{FID}.npz", 9)]))
    header = 1024  # after the x header and its one-block record
    assert data[156:157] == b"x" and data[header : header + 3] == b"V00"
    data[header + 124 : header + 136] = b"00000000000\0"
    fix_checksum(data, header)
    got = assert_same_as_tarfile(bytes(data))
    assert got[0].size == 700


def test_gnu_base256_numbers():
    data = bytearray(make_tar([(f"{FID}.wav", 600), (f"{FID}.json", 2)], fmt=tarfile.GNU_FORMAT))
    data[124:136] = b"\x80" + (600).to_bytes(11, "big")
    fix_checksum(data, 0)
    assert assert_same_as_tarfile(bytes(data))[0].size == 600


def test_directories_links_and_devices_are_reported():
    members = [
        special("d/", tarfile.DIRTYPE),
        special("s", tarfile.SYMTYPE, "../../etc/passwd"),
        special("h", tarfile.LNKTYPE, f"{FID}.json"),
        special("c", tarfile.CHRTYPE),
        special("f", tarfile.FIFOTYPE),
        (f"{FID}.json", 3),
    ]
    data = make_tar(members)
    got = assert_same_as_tarfile(data)
    assert [m.type for m in got] == ["dir", "symlink", "hardlink", "device", "device", "file"]
    found = [(p.kind, p.name) for p in problems(data)]
    assert found == [("link", "s"), ("link", "h"), ("device", "c"), ("device", "f")]


@pytest.mark.parametrize(
    "name,reason",
    [("../x", "'..'"), ("a/../../x", "'..'"), ("/etc/passwd", "absolute"), ("a\nb", "control")],
)
def test_unsafe_names_are_reported_not_trusted(name, reason):
    data = make_tar([(name, 4), (f"{FID}.json", 1)])
    found = problems(data)
    assert [(p.kind, p.name, p.fatal) for p in found] == [("unsafe_name", name, False)]
    assert reason in found[0].message
    assert [m.name for m in iter_members(BytesReader(data))] == [name, f"{FID}.json"]


def test_problem_comes_before_its_member_and_iter_members_collects():
    data = make_tar([("ok", 1), ("../bad", 1)])
    kinds = [type(e).__name__ for e in entries(data)]
    assert kinds == ["TarMember", "TarProblem", "TarMember"]
    found: list[TarProblem] = []
    assert len(list(iter_members(BytesReader(data), found))) == 2
    assert [p.kind for p in found] == ["unsafe_name"]


def test_truncated_inside_member_data():
    data = make_tar([(f"{FID}.json", 100), (f"{FID}.mp4", 5000)])
    cut = entries(data[:3000])
    assert [m.name for m in cut if isinstance(m, TarMember)] == [f"{FID}.json", f"{FID}.mp4"]
    assert cut[-1].kind == "truncated" and cut[-1].fatal and cut[-1].name == f"{FID}.mp4"


def test_truncated_inside_a_header():
    data = make_tar([(f"{FID}.json", 100), (f"{FID}.mp4", 5000)])
    cut = entries(data[: 1024 + 200])
    assert [type(e).__name__ for e in cut] == ["TarMember", "TarProblem"]
    assert (cut[-1].kind, cut[-1].offset, cut[-1].fatal) == ("truncated", 1024, True)


def test_missing_end_marker_is_a_warning():
    data = make_tar([(f"{FID}.json", 100)])
    found = problems(data[:1024])
    assert [(p.kind, p.fatal) for p in found] == [("no_end_marker", False)]


def test_gzip_named_tar():
    found = entries(gzip.compress(make_tar([(f"{FID}.json", 100)])))
    assert [(p.kind, p.fatal) for p in found] == [("compressed", True)]
    assert "gzip data named .tar: decompress first" in found[0].message


def test_bad_checksum_mid_archive_stops_with_a_problem():
    data = bytearray(make_tar([("a", 10), ("b", 10), ("c", 10)]))
    data[1024 + 5] ^= 0xFF  # corrupt the name of "b" without fixing the checksum
    found = entries(bytes(data))
    assert [m.name for m in found if isinstance(m, TarMember)] == ["a"]
    assert (found[-1].kind, found[-1].offset, found[-1].fatal) == ("bad_header", 1024, True)
    assert "checksum" in found[-1].message


def test_garbage_after_members_is_a_problem():
    data = make_tar([("a", 10)])[:1024] + b"garbage!" * 64
    assert [p.kind for p in problems(data)] == ["bad_header"]


@pytest.mark.parametrize("data", [b"", b"hello world\n" * 100, b"\0" * 100 + b"x" * 412])
def test_not_a_tar_raises(data):
    with pytest.raises(SourceFormatError):
        entries(data)


def test_all_zero_file_is_an_empty_archive():
    assert entries(b"\0" * 10240) == []


def test_walk_reads_one_header_per_member_and_never_the_data(tmp_path):
    files = [(f"V00_S0001_I{i:08d}_P0001.{ext}", 20_000 + i)
             for i in range(50) for ext in ("json", "mp4", "npz", "wav")]  # fmt: skip
    path = tmp_path / "0000.tar"
    path.write_bytes(make_tar(files, fmt=tarfile.GNU_FORMAT))
    with FileReader(path) as f:
        r = CountingReader(f)
        got = list(iter_members(r))
    assert len(got) == 200
    headers = {m.offset_header for m in got}
    assert r.reads == 201  # 200 headers + the end marker
    assert all(n == 512 and (off in headers or off == got[-1].offset_end + 511 & ~511)
               for off, n in r.calls)  # fmt: skip
    assert r.bytes_read == 201 * 512


def test_long_names_cost_one_extra_read_for_the_name():
    data = make_tar([("n" * 150, 10_000), ("m" * 150, 10_000)], fmt=tarfile.GNU_FORMAT)
    r = CountingReader(BytesReader(data))
    assert len(list(iter_members(r))) == 2
    assert r.reads == 2 * 3 + 1  # L header, name data, header; then the end marker


def test_corrupt_tars_never_raise_anything_else():
    rng = random.Random(42)
    seed = make_tar([("a" * 150, 700), ("b", 3), ("é" * 10, 0)])
    for _ in range(500):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            if rng.random() < 0.8:
                data[at] = rng.randrange(256)
            else:
                del data[at:]
        try:
            found = entries(bytes(data))
        except SourceFormatError:
            continue
        assert all(not e.fatal for e in found[:-1] if isinstance(e, TarProblem))
