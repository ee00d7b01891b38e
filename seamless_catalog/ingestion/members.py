"""One sample file (json, mp4, npz, wav) turned into rows, wherever its bytes live.

Tars and local trees both call :func:`add_sample_file` with a random-access reader
over the file's bytes: the merged JSON is parsed, media are probed from their
headers only.
"""

from __future__ import annotations

from ..errors import MediaFormatError
from ..formats.probes import probe_mp4, probe_npz, probe_wav
from ..formats.readers import RangeReader
from . import docbatch, documents
from .sink import Sink


def add_sample_file(
    sink: Sink,
    file_id: str,
    ext: str,
    label: str,
    split: str,
    reader: RangeReader,
    location: str,
    origin: str,
) -> None:
    base = dict(
        file_id=file_id, label=label, split=split, ext=ext, bytes=reader.size, origin=origin
    )
    try:
        if ext == "json":
            data = reader.read_at(0, reader.size)
            add_merged(sink, data, file_id, label, split, location, origin)
            sink.add("media", **base)
        elif ext == "wav":
            add_wav(sink, base, reader)
        elif ext == "mp4":
            add_mp4(sink, base, reader)
        elif ext == "npz":
            add_npz(sink, base, reader)
    except MediaFormatError as e:
        sink.issue(location, str(e), file_id)


def add_merged(
    sink: Sink, data: bytes, file_id: str, label: str, split: str, location: str, origin: str
) -> None:
    """One merged ``{file_id}.json``: held for a batch parse when the sink can, else now."""
    defer = getattr(sink, "defer_document", None)
    if defer is None:
        documents.parse_merged(sink, data, file_id, label, split, location, origin)
    else:
        defer(docbatch.Doc(data, file_id, label, split, location, origin, sink.unit, sink.source))


def add_wav(sink: Sink, base: dict, reader: RangeReader) -> None:
    w = probe_wav(reader)
    sink.add(
        "media",
        **base,
        sample_rate=w.sample_rate,
        channels=w.channels,
        sample_format=w.sample_format,
        n_samples=w.n_samples,
        duration_s=w.duration_s,
        placeholder=w.placeholder,
    )


def add_mp4(sink: Sink, base: dict, reader: RangeReader) -> None:
    m = probe_mp4(reader)
    sink.add("media", **base, duration_s=m.duration_s, placeholder=m.placeholder)


def add_npz(sink: Sink, base: dict, reader: RangeReader) -> None:
    arrays = probe_npz(reader)
    for a in arrays:
        add_feature(sink, base, a.key, a.dtype, a.shape, a.n_frames)
    frames = [a.n_frames for a in arrays if a.n_frames is not None]
    sink.add(
        "media",
        **base,
        n_samples=max(frames, default=None),
        placeholder=not frames or max(frames) == 0,
    )


def add_feature(
    sink: Sink, base: dict, key: str, dtype: str, shape: tuple[int, ...], n_frames: int | None
) -> None:
    sink.add(
        "features",
        file_id=base["file_id"],
        label=base["label"],
        split=base["split"],
        key=key,
        dtype=dtype,
        shape=list(shape),
        n_frames=n_frames,
    )
