"""Offline first run: generate a sample release, ingest it, show what to ask next."""

from __future__ import annotations

from pathlib import Path

from ..catalog import Catalog
from ..ingestion.pipeline import IngestResult, ingest
from ..store.snapshots import record_source
from . import output

EXAMPLE_QUERIES = (
    (
        "Hours by label and split",
        "select label, split, sum(n_files) as files, round(sum(hours), 2) as hours "
        "from dataset_summary group by all order by all",
    ),
    (
        "Familiar pairs with their archives",
        "select interaction_key, file_id_a, file_id_b, archive_idx_a, archive_idx_b, "
        "relationship_detail from pairs where relationship = 'familiar' limit 5",
    ),
    (
        "Turn-taking per pair",
        "select interaction_key, round(speech_a_s, 1) as a_s, round(speech_b_s, 1) as b_s, "
        "round(overlap_s, 1) as overlap_s, n_gaps, fto_median_ms from turn_taking limit 5",
    ),
)


def quickstart(
    catalog_dir: Path, *, sample_dir: Path | None = None, n_files: int = 48, seed: int = 0
) -> tuple[IngestResult, str]:
    """Generate the embedded sample release, ingest its tars, return the result and a text."""
    from ..synth import generate

    catalog_dir = Path(catalog_dir)
    sample_dir = Path(sample_dir) if sample_dir else catalog_dir / "sample"
    if not (sample_dir / "release.json").exists():
        generate(sample_dir, n_files=n_files, seed=seed, layouts=("hf",))
    result = ingest(
        catalog_dir,
        [str(sample_dir / "hf")],
        filelist=str(sample_dir / "filelist.csv"),
        assets=str(sample_dir / "assets"),
    )
    record_source(catalog_dir, sample_dir / "hf")  # materialize, load, dashboard: offline
    lines = [f"Sample release: {sample_dir}", f"Catalog: {catalog_dir}", ""]
    with Catalog.open(catalog_dir) as cat:
        for title, sql in EXAMPLE_QUERIES:
            rel = cat.sql(sql)
            lines += [f"-- {title}", sql, output.format_table(rel.columns, rel.fetchall())]
    lines += [
        f"{result.n_errors} records quarantined during ingest "
        "(the sample plants bad records on purpose only in the test suite)."
        if result.n_errors
        else "Ingest finished with no quarantined records.",
        "",
        "Next:",
        f"  seamless-catalog views --catalog {catalog_dir}",
        f'  seamless-catalog query --catalog {catalog_dir} "select * from pairs limit 5"',
        f"  seamless-catalog stats --catalog {catalog_dir}",
    ]
    return result, "\n".join(lines)
