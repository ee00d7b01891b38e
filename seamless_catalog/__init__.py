"""seamless_catalog: a queryable Parquet catalog of Meta's Seamless Interaction dataset.

>>> from seamless_catalog import Catalog, ingest        # doctest: +SKIP
>>> ingest("cat", ["hf/"], filelist="filelist.csv", assets="assets/")  # doctest: +SKIP
>>> Catalog.open("cat").sql("select * from pairs").pl()  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from .catalog import Catalog  # noqa: E402
from .ingest.run import IngestResult, ingest  # noqa: E402

__all__ = ["Catalog", "IngestResult", "ingest", "__version__"]
