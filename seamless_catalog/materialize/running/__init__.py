"""Running a plan: what the destination holds, fetching, writing, receipts, engines.

``local`` (verified files, resumable temp files, merged outputs' facts), ``runner`` (settle
and run one plan or shard, then write its receipt), ``fetch`` (the worker pool), ``write``
(temp file, fsync, verify, rename; the destination lock), ``merge`` (npy / JSON Lines ->
npz / json as upstream writes them), ``receipts``, ``shards`` (one shard of a plan file,
under its locks), ``engines`` (local, Ray, Dask schedule shards), ``status``.
"""
