"""The plan: every output file, where its bytes come from, and the requests that fetch them.

An :class:`Item` is one output file (``{file_id}.wav``; a merged ``{file_id}.npz``; in the
per-file layout one ``.npy``). Its :class:`Part` s are byte ranges of objects in the source
store. A :class:`Request` is one ranged read: for a tar it may serve several adjacent
members of one sample (the 512-byte headers between them are read and dropped).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...remote import ObjectInfo

# item kinds
MEMBER = "member"  # a member of a tar, copied as is
OBJECT = "object"  # a whole object of the per-file layout, copied as is
MERGE_NPZ = "merge-npz"  # per-feature .npy objects merged into one npz
MERGE_JSON = "merge-json"  # transcript/VAD/annotation JSON Lines merged into one json
CLIP = "clip"  # a window of a member or object, cut by range (``Item.clip`` says how)
MERGED = (MERGE_NPZ, MERGE_JSON, CLIP)  # outputs built in memory from their parts


@dataclass(frozen=True)
class Part:
    key: str  # object key in the source store
    offset: int
    length: int
    name: str  # "smplh:body_pose", "metadata:vad", or the tar member's extension
    etag: str | None = None

    def whole_object(self) -> ObjectInfo:
        """The object as planned, for a part that is a whole object (per-file layout): given
        to the store's read, it spares the store a HEAD of its own."""
        return ObjectInfo(self.key, self.offset + self.length, self.etag)


@dataclass
class Item:
    file_id: str
    ext: str  # extension of the output file
    name: str  # what it is: "wav", "npz", "smplh:body_pose", "metadata:vad"...
    dest: str  # path relative to the target folder
    kind: str
    source: str  # URI of the source store
    parts: tuple[Part, ...] = ()
    size: int | None = None  # expected size (None for merged outputs: known once built)
    sha256: str | None = None
    order: int = 0  # member index in its tar (adjacency), else 0
    absent: tuple[str, ...] = ()  # optional parts that the source does not have
    state: str = "todo"  # "todo", "present" (verified on disk), "failed"
    reason: str = ""
    partial: int = 0  # bytes of a resumable temp file left by an interrupted run
    clip: dict | None = None  # a clip's window and rules (planning/clips.py), JSON-able

    @property
    def needed(self) -> int:
        """Bytes of the source this file is made of (a clip: the planner's estimate)."""
        if self.clip is not None and "estimate" in self.clip:
            return int(self.clip["estimate"])
        return sum(p.length for p in self.parts)

    @property
    def version(self) -> str:
        """Tag of the bytes this file is copied from (object, range, ETag): a temp file left by
        an interrupted run is resumed only when the source still has the same version."""
        p = self.parts[0] if self.parts else None
        text = f"{p.key}\t{p.offset}\t{p.length}\t{p.etag or ''}" if p else ""
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def fingerprint(self) -> str:
        """Identity of a merged output's inputs (their keys, sizes and versions)."""
        text = "\n".join(f"{p.key}\t{p.length}\t{p.etag or ''}" for p in self.parts)
        if self.clip is not None:  # another window, rate or feature list is another clip
            text += "\n" + json.dumps(self.clip, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Request:
    """One read of ``key`` from ``offset``: serves ``items`` (tar members or a whole object)."""

    key: str
    offset: int
    length: int
    items: list[Item]

    @property
    def known(self) -> ObjectInfo | None:
        """The object's size and version when this read is of a whole object (None for tar
        members: the store resolves the tar once and keeps what it learned)."""
        first = self.items[0]
        return first.parts[0].whole_object() if first.kind == OBJECT else None


@dataclass
class Plan:
    source: str
    layout: str  # "tar" or "per-file"
    items: list[Item]
    requests: list[Request] = field(default_factory=list)
    merged: list[Item] = field(default_factory=list)  # merged outputs to build (own requests)
    index_requests: int = 0  # reads spent indexing tars on the fly
    index_bytes: int = 0

    @property
    def todo(self) -> list[Item]:
        return [i for i in self.items if i.state == "todo"]

    @property
    def n_requests(self) -> int:
        merged = sum(len(i.parts) for i in self.merged)
        return len(self.requests) + merged + self.index_requests

    @property
    def bytes_needed(self) -> int:
        return sum(i.needed - i.partial for i in self.todo)

    @property
    def bytes_to_fetch(self) -> int:
        merged = sum(i.needed for i in self.merged)
        return sum(r.length for r in self.requests) + merged + self.index_bytes

    def requests_of(self, item: Item) -> int:
        """Requests that start with ``item`` (a merged tar read counts for its first member)."""
        if item.kind in MERGED:
            return len(item.parts) if item.state == "todo" else 0
        return sum(1 for r in self.requests if r.items[0] is item)


def build_requests(items: Iterable[Item]) -> list[Request]:
    """Group the items still to fetch: adjacent members of one sample of a tar share a read.
    A member with a temp file to resume starts a read of its own (a run killed while its
    commits were pending leaves several of one sample, each whole or nearly)."""
    todo = [i for i in items if i.state == "todo" and i.kind not in MERGED]
    todo.sort(key=lambda i: (i.parts[0].key, i.parts[0].offset))
    requests: list[Request] = []
    for item in todo:
        part = item.parts[0]
        last = requests[-1] if requests else None
        joins = (
            last is not None
            and item.kind == MEMBER
            and last.items[-1].kind == MEMBER
            and last.key == part.key
            and last.items[-1].file_id == item.file_id
            and last.items[-1].order + 1 == item.order
            and not item.partial
        )
        if joins:
            assert last is not None
            last.length = part.offset + part.length - last.offset
            last.items.append(item)
        else:
            start = part.offset + item.partial
            requests.append(Request(part.key, start, part.length - item.partial, [item]))
    return requests
