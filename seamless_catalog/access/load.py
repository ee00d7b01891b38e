"""One sample, or both sides of one interaction, by id."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import UsageError
from ..layout import EXTENSIONS, parse_file_id
from ..select.selection import select
from ..store.catalogdb import CatalogDB
from .decode import Sample, decode
from .raw import SampleReader


def load_many(
    cat: CatalogDB,
    file_ids: list[str],
    modalities: str | tuple[str, ...] = EXTENSIONS,
    media: str | Path | None = None,
    source: str | None = None,
    settings: Settings | None = None,
) -> list[Sample]:
    """The samples of ``file_ids``, in that order (materialized files first, else the source)."""
    for fid in file_ids:
        parse_file_id(fid)
    chosen = select(cat, ids=list(file_ids))
    if chosen.unknown:
        raise UsageError(f"not in the catalog: {', '.join(chosen.unknown)}")
    rows = {r.file_id: r for r in chosen.files}
    reader = SampleReader(cat, modalities, source, media, settings)
    plans = reader.plan([rows[f] for f in file_ids])
    out = []
    for fid in file_ids:
        raw = reader.fetch(rows[fid], plans[fid])
        sample = decode(raw.row, raw.blobs, raw.paths)
        sample.sources = raw.sources
        out.append(sample)
    return out


def pair_file_ids(cat: CatalogDB, interaction_key: str) -> list[str]:
    """The files of one interaction, a then b as in the ``pairs`` view (file_id order)."""
    ids = [
        r[0]
        for r in cat.sql(
            "select file_id from files where interaction_key = ? order by file_id",
            [interaction_key],
        ).fetchall()
    ]
    if not ids:
        raise UsageError(f"interaction {interaction_key!r} is not in the catalog")
    return ids
