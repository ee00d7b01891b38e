"""A materialization as a file: one Parquet row per output item, readable by any engine.

Each row says where the item's bytes are (``source``, ``parts``: object key, offset, length,
name and version of each byte range), where it goes (``dest``, relative to the destination
recorded in the file's metadata), what it is (``kind``, ``ext``, ``name``) and what it must be
(``size``, ``sha256`` when the source publishes them, ``etag``). Items the plan already knows
cannot be had are rows in state ``failed`` with a ``reason``; keys the catalog does not know
(file ids, interaction or session keys) are rows of kind ``unknown``, and the selection rows
that give no window (an invalid window of a window selection) rows of kind ``invalid`` with
the row and reason, so that a run of the plan reports them as the plain run and the dry run
do.

Shards. ``shard_hash`` is the interaction's stable bucket (:func:`.shard.shard_hash`: 63 bits
of the md5 of its key, a non-negative int64); the shard of a row for *any* N is
``shard_hash % N + 1``, so N is chosen when running, both sides of a pair always land in the
same shard, and adding items to a plan never moves the existing ones. A row that names no
interaction (a session key, a malformed row) has bucket 0: shard 1 of any N reports it.

Portable types only (int64/int32, plain strings, LIST<STRUCT>, LIST<VARCHAR>; no unsigned,
no MAP, no dictionary types). The file is written to a temp file beside it, then renamed.
The plan's identity (``plan_id``) is a hash of its rows: the same selection planned twice
gets the same id, and receipts name it.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import SourceFormatError, SourceNotFound, disk_errors
from ...select.shard import key_bucket, shard_of_hash
from ...store.snapshots import write_atomic
from .items import Item, Part

FORMAT = "seamless-catalog plan 1"
META_KEY = b"seamless_catalog.plan"
UNKNOWN = "unknown"  # kind of a row whose key (file id, interaction, session) is not known
INVALID = "invalid"  # kind of a selection row that gives no window (``reason`` says why)

PART = pa.struct(
    [
        ("key", pa.string()),
        ("offset", pa.int64()),
        ("length", pa.int64()),
        ("name", pa.string()),
        ("etag", pa.string()),
    ]
)
SCHEMA = pa.schema(
    [
        ("shard_hash", pa.int64()),
        ("interaction_key", pa.string()),
        ("file_id", pa.string()),
        ("ext", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("source", pa.string()),
        ("dest", pa.string()),
        ("parts", pa.list_(PART)),
        ("size", pa.int64()),
        ("sha256", pa.string()),
        ("etag", pa.string()),
        ("member_idx", pa.int32()),
        ("absent", pa.list_(pa.string())),
        ("state", pa.string()),
        ("reason", pa.string()),
        ("clip", pa.string()),  # a clip's window and rules as JSON (kind "clip"), else null
    ]
)


@dataclass
class PlanFile:
    """A plan read back: its items (with their buckets) and what it was made for."""

    path: Path
    plan_id: str
    source: str
    layout: str
    to: Path
    items: list[Item]
    buckets: list[int]  # shard_hash of each item
    unknown: list[tuple[str, int]]  # (key, shard_hash) the catalog does not know
    archives: dict[str, int] = field(default_factory=dict)  # folder -> files extracted
    invalid: list[tuple[str, str, int]] = field(default_factory=list)  # (key, reason, bucket)

    def shard(self, shard: tuple[int, int] | None) -> tuple[list[Item], list[str]]:
        """The items and unknown keys of shard ``(k, n)`` (everything when None)."""
        items = [i for i, b in zip(self.items, self.buckets) if _in(b, shard)]
        return items, [f for f, b in self.unknown if _in(b, shard)]

    def invalid_of(self, shard: tuple[int, int] | None) -> list[tuple[str, str]]:
        """The invalid selection rows (key, reason) shard ``(k, n)`` reports."""
        return [(key, why) for key, why, b in self.invalid if _in(b, shard)]


def _in(bucket: int, shard: tuple[int, int] | None) -> bool:
    return shard is None or shard_of_hash(bucket, shard[1]) == shard[0]


def _row(item: Item) -> dict:
    key = _interaction(item.file_id)
    parts = [
        {"key": p.key, "offset": p.offset, "length": p.length, "name": p.name, "etag": p.etag}
        for p in item.parts
    ]
    return {
        "shard_hash": key_bucket(item.file_id), "interaction_key": key, "file_id": item.file_id,
        "ext": item.ext, "name": item.name, "kind": item.kind, "source": item.source,
        "dest": item.dest, "parts": parts, "size": item.size, "sha256": item.sha256,
        "etag": item.parts[0].etag if len(item.parts) == 1 else None, "member_idx": item.order,
        "absent": list(item.absent), "state": "failed" if item.state == "failed" else "todo",
        "reason": item.reason,
        "clip": None if item.clip is None else json.dumps(item.clip, sort_keys=True),
    }  # fmt: skip


def _interaction(key: str) -> str | None:
    parts = key.split(" ", 1)[0].split("_")
    return "_".join(parts[:3]) if key_bucket(key) else None


def _unknown_row(key: str, source: str, kind: str = UNKNOWN,
                 reason: str = "not in the catalog") -> dict:  # fmt: skip
    """A row that is no item: a key the catalog does not know, or an invalid window."""
    row = dict.fromkeys(SCHEMA.names)
    row.update(shard_hash=key_bucket(key), interaction_key=_interaction(key), file_id=key,
               kind=kind, source=source, parts=[], absent=[], member_idx=0, state="failed",
               reason=reason)  # fmt: skip
    return row


def _rows(
    items: list[Item], unknown: list[str], source: str, invalid: list[tuple[str, str]]
) -> list[dict]:
    return (
        [_row(i) for i in items]
        + [_unknown_row(f, source) for f in unknown]
        + [_unknown_row(key, source, INVALID, why) for key, why in invalid]
    )


def plan_id_of(rows: list[dict]) -> str:
    """A hash of what the rows ask for (not of when they were planned)."""
    h = hashlib.sha256()
    for r in sorted(rows, key=lambda r: (r["dest"] or "", r["file_id"])):
        h.update(json.dumps([r[c] for c in SCHEMA.names], sort_keys=True).encode())
    return h.hexdigest()[:16]


def items_plan_id(
    items: list[Item], unknown: list[str], source: str, invalid: list[tuple[str, str]] = ()
) -> str:
    """The id :func:`write_plan` gives the same plan (a plain run names its receipt by it)."""
    return plan_id_of(_rows(items, unknown, source, list(invalid)))


def write_plan(
    path: Path,
    items: list[Item],
    unknown: list[str],
    *,
    source: str,
    layout: str,
    to: Path,
    archives: dict[str, int] | None = None,
    invalid: list[tuple[str, str]] = (),
) -> str:
    """Write the plan atomically (temp file beside ``path``, then rename); return its id.
    ``unknown``: keys the catalog does not know; ``invalid``: (key, reason) of the selection
    rows that give no window; ``archives``: the files each archive folder it touches
    extracts to (:mod:`.archives`)."""
    rows = _rows(items, unknown, source, list(invalid))
    plan_id = plan_id_of(rows)
    meta = {
        "format": FORMAT, "plan_id": plan_id, "source": source, "layout": layout,
        "to": str(Path(to).resolve()), "items": len(rows),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "archives": archives or {},
    }  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=False)
    path = Path(path)
    with disk_errors(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, buf.getvalue())
    return plan_id


def _item(r: dict) -> Item:
    parts = tuple(
        Part(p["key"], p["offset"], p["length"], p["name"], p["etag"]) for p in r["parts"]
    )
    return Item(
        r["file_id"], r["ext"], r["name"], r["dest"], r["kind"], r["source"], parts,
        size=r["size"], sha256=r["sha256"], order=r["member_idx"] or 0,
        absent=tuple(r["absent"] or ()), state=r["state"], reason=r["reason"] or "",
        clip=json.loads(r["clip"]) if r.get("clip") else None,
    )  # fmt: skip


def read_plan(path: str | Path, to: str | Path | None = None) -> PlanFile:
    """Read a plan file; ``to`` overrides its destination (another mount of the same folder)."""
    path = Path(path)
    if not path.is_file():
        raise SourceNotFound(path, "no plan file here: write one with `materialize plan`")
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[META_KEY])
    except (pa.ArrowException, KeyError, ValueError, OSError) as e:
        raise SourceFormatError(path, f"not a materialize plan ({e})") from None
    if meta.get("format") != FORMAT:
        raise SourceFormatError(path, f"plan format {meta.get('format')!r}, expected {FORMAT!r}")
    items, buckets, unknown, invalid = [], [], [], []
    for r in table.to_pylist():
        if r["kind"] == UNKNOWN:
            unknown.append((r["file_id"], r["shard_hash"]))
        elif r["kind"] == INVALID:
            invalid.append((r["file_id"], r["reason"] or "", r["shard_hash"]))
        else:
            items.append(_item(r))
            buckets.append(r["shard_hash"])
    dest = Path(to) if to is not None else Path(meta["to"])
    return PlanFile(
        path, meta["plan_id"], meta["source"], meta["layout"], dest, items, buckets, unknown,
        meta.get("archives") or {}, invalid,
    )  # fmt: skip
