"""A local, read-only Streamlit dashboard over a catalog.

Install with ``pip install 'seamless-catalog[dashboard]'``.

``app`` is the Streamlit entry; one module per page (``overview``, ``browse``, ``files``,
``sqlpage``, ``download``) renders from ``data`` (SQL through :class:`~seamless_catalog.Catalog`
with bound parameters), ``media`` (materialized files in the upstream layout), ``charts``
(Altair) and ``fetching`` (an adapter over :mod:`seamless_catalog.materialize`); Browse's
timeline and the moment it plays are ``player`` over ``moments`` (a moment's window of both
sides through ``Catalog.clips``, kept in a clip cache).
``server`` starts Streamlit (the click command is ``cli/dashboard.py``). Nothing here imports
Streamlit at package import time.
"""
