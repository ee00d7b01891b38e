"""seamless_catalog: a queryable Parquet catalog of Meta's Seamless Interaction dataset.

>>> from seamless_catalog import Catalog, ingest        # doctest: +SKIP
>>> ingest("cat", ["hf/"], filelist="filelist.csv", assets="assets/")  # doctest: +SKIP
>>> Catalog.open("cat").sql("select * from pairs").pl()  # doctest: +SKIP

Importing the package is cheap (a query from a fresh process pays for duckdb only): the
ingest pipeline, pyarrow and the table declarations load when first used.
"""

from __future__ import annotations

import importlib.util
import sys

__version__ = "0.1.0"


def _lazy_module(name: str):
    """Register ``name`` so that it executes on its first attribute access, not on import
    (the stdlib recipe): ``schema`` imports pyarrow, which opening a catalog does not need."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


schema = _lazy_module(f"{__name__}.schema")

from . import ingest as _ingest_package  # noqa: E402
from .catalog import Catalog  # noqa: E402

# ``ingest`` names both the subpackage and the function users call. The subpackage is loaded
# above (its __init__ is empty), so importing its modules later never rebinds the name; the
# name is dropped here and resolved to the function on first use by ``__getattr__``.
del globals()["ingest"], _ingest_package

_LAZY = {"ingest": "ingest", "IngestResult": "IngestResult"}


def __getattr__(name: str):
    if name in _LAZY:
        from .ingest import run

        value = getattr(run, _LAZY[name])
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Catalog", "IngestResult", "ingest", "__version__"]
