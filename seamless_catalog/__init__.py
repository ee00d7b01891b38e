"""seamless_catalog: a queryable Parquet catalog of Meta's Seamless Interaction dataset.

>>> from seamless_catalog import Catalog, ingest        # doctest: +SKIP
>>> ingest("cat", ["hf/"], filelist="filelist.csv", assets="assets/")  # doctest: +SKIP
>>> Catalog.open("cat").sql("select * from pairs").pl()  # doctest: +SKIP

Importing the package is cheap (a query from a fresh process pays for duckdb only): the
ingest pipeline and pyarrow load when ``ingest`` is first used (PEP 562 ``__getattr__``).
The stages live in subpackages named after them: ``ingestion`` (sources -> rows), ``store``
(Parquet snapshots, schema, views), ``select``, ``materialize``, ``access``; see
docs/architecture.md.
"""

from __future__ import annotations

from .catalog import Catalog

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in ("ingest", "IngestResult"):
        from .ingestion import pipeline

        value = getattr(pipeline, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Catalog", "IngestResult", "ingest", "__version__"]
