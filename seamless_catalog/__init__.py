"""seamless_catalog: a queryable Parquet catalog of Meta's Seamless Interaction dataset."""

from __future__ import annotations

__version__ = "0.1.0"
