"""How many files each whole archive holds once extracted: what tells a partially filled
archive folder from a complete one.

The upstream toolkit's ``download_archive_from_hf(extract=True)`` decides "already
extracted" from the existence of ``{label}/{split}/{batch:04d}/{archive:04d}/`` alone, so a
folder that ``materialize`` filled with part of an archive keeps the other samples missing if
upstream's script later runs on the same destination. A plan records, for each archive it
touches, the number of files that archive extracts to, and ``materialize status`` compares.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...layout import EXTENSIONS, FileRef
from ...store.catalogdb import CatalogDB


def archive_files(cat: CatalogDB, refs: Iterable[FileRef]) -> dict[str, int]:
    """``{archive folder: files it extracts to}`` for the archives of ``refs``: its tar's
    members when the catalog indexed the tar (strays included, as extraction writes them),
    else four per file the filelist places in it. Archives unknown to both are left out."""
    folders = {r.archive_path: r.folder for r in refs}
    if not folders:
        return {}
    tables = cat.tables()
    counts = {}
    if "files" in tables:
        counts = {a: n * len(EXTENSIONS) for a, n in _count(cat, "files", folders)}
    if "members" in tables:
        counts.update(_count(cat, "members", folders))
    return {folders[a]: n for a, n in sorted(counts.items()) if n}


def _count(cat: CatalogDB, table: str, archives: Iterable[str]) -> list[tuple[str, int]]:
    return cat.sql(
        f"select archive_path, count(*) from raw.{table} "
        "where archive_path in (select unnest(?::varchar[])) group by 1",
        [sorted(archives)],
    ).fetchall()
