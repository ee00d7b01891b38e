"""Plan items for a local tree in the upstream layout (``{folder}/{file_id}.{ext}``: what the
upstream toolkit extracts or downloads per file, and what ``materialize`` writes).

Each output is a whole file of the tree at the same relative path. A folder that holds some
archives extracted and others still as tars is one source: a file the tree has is copied
from it, any other is left to the tar planner (:mod:`.tars`), which reads it from
``{folder}.tar`` or says that neither is there.
"""

from __future__ import annotations

from ...layout import FileRef
from ...remote import ObjectStore
from .items import OBJECT, Item, Part, Plan


def plan_tree(
    store: ObjectStore, rows: list[FileRef], exts: list[str], plan: Plan
) -> list[tuple[FileRef, str]]:
    """Append to ``plan`` one item per (file, ext) found in the tree (one ``stat`` each);
    return the (file, ext) it does not hold."""
    rest = []
    for row in rows:
        for ext in exts:
            key = row.path(ext)
            info = store.info(key)
            if info is None:
                rest.append((row, ext))
                continue
            item = Item(row.file_id, ext, ext, key, OBJECT, store.uri)
            item.parts = (Part(key, 0, info.size, ext, info.etag),)
            item.size, item.sha256 = info.size, info.sha256
            plan.items.append(item)
    return rest
