"""Plan items for a tar source (the Hub, or a local folder of its tars).

Member byte ranges come from the catalog's ``raw.members``; a tar the catalog has not
indexed is indexed here, once, by walking its headers through the store's reader.
"""

from __future__ import annotations

from collections import defaultdict

from ...errors import CatalogError
from ...formats.readers import CountingReader
from ...formats.tarindex import TarMember, iter_entries
from ...layout import FileRef, split_name
from ...remote import ObjectStore
from ...store.catalogdb import CatalogDB
from .items import MEMBER, Item, Part, Plan

Member = tuple[int, int, int]  # (member_idx, offset_data, size)


def _catalog_members(
    cat: CatalogDB, archives: list[str]
) -> dict[str, dict[tuple[str, str], Member]]:
    if "members" not in cat.tables():
        return {}
    rows = cat.sql(
        "select archive_path, file_id, ext, member_idx, offset_data, size from raw.members "
        "where archive_path in (select unnest(?::varchar[]))",
        [archives],
    ).fetchall()
    out: dict[str, dict[tuple[str, str], Member]] = defaultdict(dict)
    for arch, file_id, ext, idx, offset, size in rows:
        out[arch][(file_id, ext)] = (idx, offset, size)
    return out


def index_tar(store: ObjectStore, key: str, plan: Plan) -> dict[tuple[str, str], Member] | None:
    """The sample members of one tar, read from its headers; None when the tar is absent."""
    info = store.info(key)
    if info is None:
        return None
    reader = CountingReader(store.reader(key, info))
    members: dict[tuple[str, str], Member] = {}
    try:
        idx = 0
        for entry in iter_entries(reader):
            if not isinstance(entry, TarMember) or entry.type != "file":
                continue
            named = split_name(entry.name)
            if named is not None:
                members[named] = (idx, entry.offset_data, entry.size)
                idx += 1
    finally:
        plan.index_requests += reader.reads
        plan.index_bytes += reader.bytes_read
        close = getattr(reader.base, "close", None)
        if close:
            close()
    return members


def plan_tars(
    cat: CatalogDB, store: ObjectStore, rows: list[FileRef], exts: list[str], plan: Plan
) -> None:
    """Append to ``plan`` one item per (file, ext), located in its tar."""
    by_archive: dict[str, list[FileRef]] = defaultdict(list)
    for row in rows:
        by_archive[row.archive_path].append(row)
    known = _catalog_members(cat, sorted(by_archive))
    for arch, arch_rows in sorted(by_archive.items()):
        members = known.get(arch)
        reason = ""
        if members is None:
            try:
                members = index_tar(store, arch, plan)
            except CatalogError as e:
                members, reason = None, f"cannot index {arch}: {e}"
            if members is None:
                reason = reason or f"archive {arch} is absent from {store.uri}"
        for row in arch_rows:
            for ext in exts:
                item = Item(row.file_id, ext, ext, row.path(ext), MEMBER, store.uri)
                found = members.get((row.file_id, ext)) if members is not None else None
                if found is None:
                    item.state = "failed"
                    item.reason = reason or f"{arch} has no member {row.file_id}.{ext}"
                else:
                    idx, offset, size = found
                    item.parts = (Part(arch, offset, size, ext),)
                    item.size, item.order = size, idx
                plan.items.append(item)
