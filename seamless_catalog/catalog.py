"""The Python API: open a catalog, run SQL over its views, get DuckDB/Polars/Arrow back, and
load, stream, export or draw from what a query selects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import Settings
from .errors import MissingDependency, UsageError
from .layout import EXTENSIONS
from .store.catalogdb import CatalogDB


class Catalog(CatalogDB):
    """A snapshot of a catalog directory, queryable with SQL; the samples it selects, loaded.

    >>> cat = Catalog.open("catalog")                            # doctest: +SKIP
    >>> cat.sql("select * from pairs limit 5").pl()              # doctest: +SKIP
    """

    def load(self, file_id: str, modalities=EXTENSIONS, media=None,
             source=None, settings=None):  # fmt: skip
        """One :class:`~seamless_catalog.access.decode.Sample`: parsed JSON, NPZ arrays, float32
        audio with its rate, video path or bytes. Reads the materialized files under ``media``
        when present, else byte ranges of ``source`` (default: the Hub)."""
        from .access.load import load_many

        return load_many(self, [file_id], modalities, media, source, settings)[0]

    def load_pair(self, interaction_key: str, modalities=EXTENSIONS,
                  media=None, source=None, settings=None):  # fmt: skip
        """(a, b): both sides of one interaction, in file_id order as in ``pairs``."""
        from .access.load import load_many, pair_file_ids

        ids = pair_file_ids(self, interaction_key)
        if len(ids) != 2:
            raise UsageError(f"{interaction_key} has {len(ids)} file(s), not a pair")
        a, b = load_many(self, ids, modalities, media, source, settings)
        return a, b

    def stream(
        self,
        sql: str,
        *,
        modalities: str | tuple[str, ...] = EXTENSIONS,
        source: str | None = None,
        media: str | Path | None = None,
        shuffle: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pairs_together: bool = False,
        start: int = 0,
        prefetch: int = 4,
        errors: str = "raise",
        decode: bool = True,
        settings: Settings | None = None,
        pad: float = 0.0,
        before: float | None = None,
        after: float | None = None,
        features: str | tuple[str, ...] | None = None,
        exact: bool = False,
    ):
        """Samples of a selection by byte-range reads: ordered, sharded, resumable.

        A query whose result also has ``start_s``/``end_s`` selects windows (as
        :meth:`clips`): each item is then a :class:`~seamless_catalog.access.clips.Clip` of
        one window and side (``clip.audio``, ``clip.npz``, ``clip.words``, ``clip.vad``,
        ``clip.record``...), cut by range; ``stream.invalid`` lists the rows that give none.

        Args:
            sql: a SELECT with a ``file_id``, ``interaction_key`` or ``session_key`` column
                (windows: ``file_id`` or ``interaction_key`` plus ``start_s`` and ``end_s``).
            modalities: ``"json,wav"`` or a tuple of json, mp4, npz, wav (default: all four).
            source: where the bytes come from (``hf://...``, ``s3://...``, ``https://...`` or
                a local mirror; default: the Hub dataset).
            media: a materialized folder (upstream layout) read first, before ``source``.
            shuffle, seed: the seeded ``md5(seed|key)`` order instead of file_id order.
            rank, world_size: this process's part of the order (every ``world_size``-th).
            pairs_together: both sides of an interaction (of an interaction window) next to
                each other, in one part.
            start: skip this many samples of the part (resume after ``stream.position``).
            prefetch: samples read ahead in the background (at least 1).
            errors: ``"raise"`` on a sample that cannot be read, or ``"skip"`` it (listed
                in ``stream.skipped``).
            decode: :class:`~seamless_catalog.access.decode.Sample` s (parsed JSON, arrays,
                float32 audio); False gives the members' raw bytes.
            settings: retries, timeouts and endpoints (default: from the environment).
            pad, before, after: seconds added to each window (both sides, or one each).
            features: the npz features of a window (``"smplh,movement:emotion_valence"``).
            exact: mp4 windows re-encoded to start on their first frame (else stream copy).
        """
        from .access.stream import SampleStream

        return SampleStream(
            self, sql, modalities=modalities, source=source, media=media, shuffle=shuffle,
            seed=seed, rank=rank, world_size=world_size, pairs_together=pairs_together,
            start=start, prefetch=prefetch, errors=errors, decode=decode, settings=settings,
            pad=pad, before=before, after=after, features=features, exact=exact,
        )  # fmt: skip

    def torch_dataset(self, sql: str, **options: Any):
        """A PyTorch ``IterableDataset`` over ``stream(sql, **options)`` (the same keyword
        arguments: a window selection gives one clip per item), split by rank and DataLoader
        worker. Needs torch installed."""
        try:
            from .access.torchdata import SeamlessIterableDataset
        except ImportError as e:
            if (e.name or "").split(".")[0] != "torch":
                raise
            raise MissingDependency(
                "torch_dataset", "torch", "pip install torch (pytorch.org lists the build for "
                "your machine); stream() gives the same samples without it"
            ) from None  # fmt: skip

        return SeamlessIterableDataset(self.root, sql, **options)

    def clips(self, sql: str | None = None, **options: Any):
        """The clips of the windows ``sql`` selects (rows with ``file_id`` or
        ``interaction_key`` plus ``start_s``/``end_s``), cut by range as they are iterated:
        ``pad``/``before``/``after``, ``modalities``, ``features``, ``source``, ``exact``;
        see :mod:`seamless_catalog.access.clips`. ``.invalid`` lists the rows that give no
        window and why.

        >>> for clip in cat.clips("select file_id, start_s, end_s from turn_shifts limit 3",
        ...                       pad=1.0, modalities="wav,json"):  # doctest: +SKIP
        ...     clip.sample.audio, clip.words
        """
        from .access.clips import clips

        return clips(self, sql, **options)

    def export(self, sql: str, to: str | Path, **options: Any):
        """Write the selection as WebDataset shards under ``to``, and their index in
        ``to/.seamless-catalog/index.json``."""
        from .access.export import export_webdataset

        return export_webdataset(self, sql, to, **options)

    def folds(self, k: int, seed: int = 0, by: str = "person"):
        """Speaker-disjoint folds: whole groups of people linked by shared interactions, one
        fold each, balanced by hours. ``.files`` (a relation: ``fold`` per file) and
        ``.balance`` (per fold: groups, people, interactions, files, hours); see select.folds."""
        from .select.folds import folds

        return folds(self, k, seed=seed, by=by)

    # ------------------------------------------------- upstream equivalents (select.upstream)

    def random_file_ids(self, n: int = 1, seed: int = 0, label=None, split=None) -> list[str]:
        from .select import upstream

        return upstream.random_file_ids(self, n, seed, label, split)

    def interaction_pairs(self, n: int = 1, seed: int = 0, interaction_keys=None, label=None,
                          split=None) -> list[tuple[str, str]]:  # fmt: skip
        from .select import upstream

        return upstream.interaction_pairs(self, n, seed, interaction_keys, label, split)

    def session_groups(self, n: int = 1, seed: int = 0, session_keys=None,
                       interactions_per_session=None, label=None, split=None):  # fmt: skip
        from .select import upstream

        return upstream.session_groups(
            self, n, seed, session_keys, interactions_per_session, label, split
        )

    def batches(self, label=None, split=None):
        from .select import upstream

        return upstream.batches(self, label, split)

    def archives(self, label=None, split=None, batch=None):
        from .select import upstream

        return upstream.archives(self, label, split, batch)
