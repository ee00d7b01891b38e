"""The catalog on disk and the SQL over it.

``schema`` (every table declared once), ``snapshots`` (immutable Parquet files named by one
manifest; atomic commits, the writer lock, garbage collection), ``portable`` (the profile
other engines read), ``sql/`` (one view per file, over logical names only), ``views`` (base
views over the snapshot's files, the view files applied, ``catalog.duckdb``), ``derive``
(the expensive views' rows stored at ingest), ``catalogdb`` (a snapshot opened for SQL,
read-only user queries).
"""
