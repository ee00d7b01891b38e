"""Planning: selected files -> items (output files) and the byte ranges they are made of.

``items`` (Item, Part, Request, Plan; adjacent tar members grouped into one read),
``sources`` (:func:`~.sources.plan_files`, the public planning API), ``tars`` (members from
the catalog's index or tar headers), ``perfile`` (per-file objects by HEAD), ``planfile``
(a plan as a Parquet file any engine can shard). Nothing here looks at the destination.
"""
