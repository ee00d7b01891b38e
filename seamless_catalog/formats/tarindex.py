"""Index a tar archive without extracting it: one small read per header, member data skipped.

``iter_entries`` yields, in archive order, a :class:`TarMember` for every member and a
:class:`TarProblem` for everything a catalog should record: unsafe names, links and devices
(yielded just before the member they concern), bad headers, compressed data named ``.tar``,
truncation. A problem with ``fatal=True`` ends the walk. Only a file that is not a tar at all
raises :class:`~seamless_catalog.errors.SourceFormatError`. Names are reported, never trusted.

Formats: v7, ustar (with ``prefix``), GNU (``L``/``K`` long names, base-256 numbers) and pax
(``x``/``g`` records ``path``, ``linkpath``, ``size``, ``mtime``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import SourceFormatError
from .readers import RangeReader

BLOCK = 512
MAX_META_SIZE = 1 << 20  # a long name or pax header larger than this is garbage

_TYPES = {
    b"0": "file", b"\0": "file", b"7": "file",
    b"5": "dir", b"2": "symlink", b"1": "hardlink",
    b"3": "device", b"4": "device", b"6": "device",
}  # fmt: skip
_DATALESS = {"dir", "symlink", "hardlink", "device"}
_META = {b"L", b"K", b"x", b"g"}
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


@dataclass(frozen=True)
class TarMember:
    """One archive member. ``offset_data`` and ``size`` locate its bytes in the archive."""

    name: str
    type: str  # "file", "dir", "symlink", "hardlink", "device", "other"
    offset_header: int  # first header of the member: its L/K/x header if any (tarfile's offset)
    offset_data: int
    size: int
    mtime: float
    linkname: str = ""

    @property
    def offset_end(self) -> int:
        return self.offset_data + self.size


@dataclass(frozen=True)
class TarProblem:
    """Something wrong found at ``offset``; ``name`` is the member concerned, if any.

    ``kind`` is one of ``compressed``, ``bad_header``, ``bad_pax``, ``truncated``,
    ``no_end_marker``, ``unsafe_name``, ``link``, ``device``, ``other_type``.
    ``fatal`` problems end the walk: no member after them was seen.
    """

    kind: str
    offset: int
    message: str
    name: str | None = None
    fatal: bool = False


class _BadHeader(Exception):
    pass


def iter_entries(reader: RangeReader) -> Iterator[TarMember | TarProblem]:
    """Walk the headers of ``reader``'s tar, yielding members and problems in archive order."""
    if reader.size == 0:
        raise SourceFormatError(reader, "empty file, not a tar: re-download it")
    walk = _Walk(reader)
    yield from walk.run()


def iter_members(
    reader: RangeReader, problems: list[TarProblem] | None = None
) -> Iterator[TarMember]:
    """The members of ``reader``'s tar; problems are appended to ``problems`` when given."""
    for entry in iter_entries(reader):
        if isinstance(entry, TarMember):
            yield entry
        elif problems is not None:
            problems.append(entry)


class _Walk:
    def __init__(self, reader: RangeReader) -> None:
        self.r = reader
        self.pax_global: dict[str, str] = {}
        self._reset_pending()

    def _reset_pending(self) -> None:
        self.start: int | None = None  # offset of the first L/K/x header of the next member
        self.long_name: str | None = None
        self.long_link: str | None = None
        self.pax: dict[str, str] = {}

    def run(self) -> Iterator[TarMember | TarProblem]:
        pos = 0
        while True:
            hdr = self._header_at(pos)
            if not isinstance(hdr, _Header):
                if hdr is not None:
                    yield hdr
                return  # end marker, or a fatal problem
            data_off = pos + BLOCK
            if hdr.typeflag in _META:
                problem = self._read_meta(hdr, pos, data_off)
                if problem is not None:
                    yield problem
                    if problem.fatal:
                        return
                pos = data_off + _padded(hdr.size)
                continue
            member = self._member(hdr, pos, data_off)
            yield from _member_problems(member)
            yield member
            if member.offset_end > self.r.size:
                yield _truncated_member(member, self.r.size)
                return
            pos = data_off + _padded(member.size)

    def _header_at(self, pos: int) -> _Header | TarProblem | None:
        """The header block at ``pos``; None at the end marker (tarfile also takes one block)."""
        size = self.r.size
        block = self.r.read_at(pos, BLOCK) if pos < size else b""
        if block.count(0) == BLOCK:
            return None
        try:
            if len(block) < BLOCK:
                raise _BadHeader(f"{len(block)} bytes left, need a {BLOCK}-byte header")
            return _parse_header(block)
        except _BadHeader as exc:
            if pos == 0:
                return self._bad_first(block, str(exc))
            return _end_problem(pos, size) if len(block) < BLOCK else _bad(pos, str(exc))

    def _bad_first(self, block: bytes, reason: str) -> TarProblem:
        for magic, codec in _COMPRESSED.items():
            if block.startswith(magic):
                msg = f"{codec} data named .tar: decompress first"
                return TarProblem("compressed", 0, msg, fatal=True)
        raise SourceFormatError(self.r, f"not a tar archive ({reason})")

    def _read_meta(self, hdr: _Header, pos: int, data_off: int) -> TarProblem | None:
        if hdr.typeflag != b"g" and self.start is None:
            self.start = pos
        if hdr.size > MAX_META_SIZE:
            return _bad(pos, f"{hdr.typeflag!r} header of {hdr.size} bytes is implausible")
        data = self.r.read_at(data_off, hdr.size)
        if len(data) < hdr.size:
            return TarProblem("truncated", pos, "extended header cut off by EOF", fatal=True)
        if hdr.typeflag == b"L":
            self.long_name = _decode(data.split(b"\0", 1)[0])
        elif hdr.typeflag == b"K":
            self.long_link = _decode(data.split(b"\0", 1)[0])
        else:
            records, error = _parse_pax(data)
            (self.pax if hdr.typeflag == b"x" else self.pax_global).update(records)
            if error:
                return TarProblem("bad_pax", pos, error)
        return None

    def _member(self, hdr: _Header, pos: int, data_off: int) -> TarMember:
        pax = {**self.pax_global, **self.pax}
        name = pax.get("path") or self.long_name or hdr.name
        linkname = pax.get("linkpath") or self.long_link or hdr.linkname
        kind = _TYPES.get(hdr.typeflag, "other")
        if kind == "file" and hdr.typeflag == b"\0" and name.endswith("/"):
            kind = "dir"  # old tars mark directories only by the slash
        size = _pax_number(pax, "size", hdr.size)
        if kind in _DATALESS:
            size = 0
        mtime = _pax_number(pax, "mtime", hdr.mtime)
        start = pos if self.start is None else self.start
        self._reset_pending()
        return TarMember(name, kind, start, data_off, int(size), float(mtime), linkname)


@dataclass(frozen=True)
class _Header:
    name: str
    linkname: str
    typeflag: bytes
    size: int
    mtime: int


def _parse_header(block: bytes) -> _Header:
    stored = _number(block[148:156])
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - 256 * sum(1 for b in block[:148] + block[156:] if b > 127)
    if stored not in (unsigned, signed):
        raise _BadHeader(f"header checksum {stored} != computed {unsigned}")
    name = _cstr(block[0:100])
    magic = block[257:265]
    if magic[:6] == b"ustar\0":  # POSIX ustar: the prefix field extends the name
        prefix = _cstr(block[345:500])
        if prefix:
            name = f"{prefix}/{name}"
    typeflag = block[156:157]
    size = _number(block[124:136])
    if size < 0:
        raise _BadHeader(f"negative member size {size}")
    return _Header(name, _cstr(block[157:257]), typeflag, size, _number(block[136:148]))


def _number(field: bytes) -> int:
    if field[:1] in (b"\x80", b"\xff"):  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise _BadHeader(f"numeric field {field!r} is not octal") from None


def _cstr(field: bytes) -> str:
    return _decode(field.split(b"\0", 1)[0])


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _parse_pax(data: bytes) -> tuple[dict[str, str], str | None]:
    """Records ``"<len> <key>=<value>\\n"``; returns what parsed and the first error, if any."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        digits = data[pos:space] if space > pos else b""
        length = int(digits) if digits.isdigit() else 0
        record = data[space + 1 : pos + length]
        if pos + length > len(data) or not record.endswith(b"\n") or b"=" not in record:
            return records, f"malformed pax record at byte {pos}"
        key, value = record[:-1].split(b"=", 1)
        records[_decode(key)] = _decode(value)
        pos += length
    return records, None


def _pax_number(pax: dict[str, str], key: str, default: int) -> float:
    try:
        return float(pax[key]) if key == "mtime" else int(pax[key])
    except (KeyError, ValueError):
        return default


def _padded(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


def _bad(pos: int, reason: str) -> TarProblem:
    return TarProblem("bad_header", pos, f"no valid tar header at {pos}: {reason}", fatal=True)


def _truncated_member(m: TarMember, size: int) -> TarProblem:
    msg = f"member data ends at {m.offset_end} but the archive has {size} bytes"
    return TarProblem("truncated", m.offset_header, msg, m.name, fatal=True)


def _end_problem(pos: int, size: int) -> TarProblem:
    if pos == size:
        msg = "archive ends without the zero-block end marker (possibly truncated)"
        return TarProblem("no_end_marker", pos, msg)
    msg = f"archive ends {size - pos} bytes into a header block at {pos}"
    return TarProblem("truncated", pos, msg, fatal=True)


def unsafe_name_reason(name: str) -> str | None:
    """Why ``name`` must not be used as a path, or None when it is a plain relative name."""
    if not name:
        return "empty name"
    if name.startswith("/") or name[1:3] == ":\\" or name.startswith("\\"):
        return "absolute path"
    if any(c in name for c in "\n\r\0"):
        return "control character in name"
    if "\ufffd" in name:
        return "name is not valid UTF-8"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' component"
    return None


def _member_problems(m: TarMember) -> Iterator[TarProblem]:
    reason = unsafe_name_reason(m.name)
    if reason:
        yield TarProblem("unsafe_name", m.offset_header, f"{reason}: {m.name!r}", m.name)
    if m.type in ("symlink", "hardlink"):
        msg = f"{m.type} {m.name!r} -> {m.linkname!r}"
        yield TarProblem("link", m.offset_header, msg, m.name)
    elif m.type in ("device", "other"):
        kind = "device" if m.type == "device" else "other_type"
        yield TarProblem(kind, m.offset_header, f"{m.type} member {m.name!r}", m.name)
