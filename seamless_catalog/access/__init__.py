"""From catalog to training loop: load one sample, stream a selection, re-shard it.

Modules: ``decode`` (json/npz/wav bytes -> Python objects, the :class:`Sample`), ``raw``
(a sample's member bytes from a materialized folder or, by byte range, from the source,
through the materializer's public planning API), ``load`` (one sample, a pair), ``stream``
(ordered, sharded, prefetched iteration), ``torchdata`` (a PyTorch ``IterableDataset``;
imports torch), ``export`` (new WebDataset shards plus an index).
"""
