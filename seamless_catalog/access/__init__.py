"""From catalog to training loop: load one sample, stream a selection, re-shard it.

Modules: ``decode`` (json/npz/wav bytes -> Python objects, the :class:`Sample`), ``raw``
(a sample's member bytes from a materialized folder or, by byte range, from the source,
through the materializer's plan), ``load`` (one sample, a pair), ``stream`` (ordered,
sharded, prefetched iteration), ``torchdata`` (a PyTorch ``IterableDataset``; imports
torch), ``export`` (new WebDataset shards plus an index), ``upstream`` (the calls users
of the upstream ``SeamlessInteractionFS`` reach for, as SQL over the catalog).
"""
