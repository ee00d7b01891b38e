"""From a question to the files that answer it.

``selection`` (SQL, a selection file or ids -> :class:`~seamless_catalog.layout.FileRef` s,
each id checked), ``shard`` (a selection split by interaction over N machines), ``order``
(the seeded ``md5(seed|key)`` order every random draw uses), ``draw`` (``sample``: N files,
pairs or sessions), ``upstream`` (the draws of the upstream toolkit, as SQL).
"""
