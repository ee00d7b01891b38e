"""Merged ``{file_id}.json`` documents parsed many at a time, in Arrow.

The documents of a batch are concatenated and read by pyarrow's JSON reader against an
explicit schema, and their rows are flattened with Arrow compute: no Python object per
word. The fast path only keeps a document it can vouch for. Any other (a byte order mark,
invalid UTF-8, a top level that is not one object, an unexpected top-level key, a wrong
type, a null element, a missing required field, a non-finite, negative or inverted time,
an ``id`` that differs from the name, an annotation written as one object
rather than a list) is parsed alone by :func:`documents.parse_merged`,
which reports it exactly. So the rows and issues are those of parsing each document alone.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..layout import ANNOTATION_PREFIX, ANNOTATION_TYPES, TRANSCRIPT, VAD
from . import documents

F64 = pa.float64()
_WORD = pa.struct([("word", pa.string()), ("start", F64), ("end", F64), ("score", F64)])
_SEGMENT = pa.struct(
    [("words", pa.list_(_WORD)), ("start", F64), ("end", F64), ("transcript", pa.string())]
)
_VAD = pa.struct([("start", F64), ("end", F64)])
_ANNOTATION = pa.struct([("annotation", pa.string()), ("start_ts", F64), ("end_ts", F64)])
ANNOTATION_KEYS = tuple(ANNOTATION_PREFIX + k for k in ANNOTATION_TYPES)
DOC_SCHEMA = pa.schema(
    [("id", pa.string()), (TRANSCRIPT, pa.list_(_SEGMENT)), (VAD, pa.list_(_VAD))]
    + [(k, pa.list_(_ANNOTATION)) for k in ANNOTATION_KEYS]
)
BLOCK = 1 << 20  # pyarrow's block size: its reader is fastest around 1 MB
BOM = b"\xef\xbb\xbf"
# an annotations:* value written as one object (upstream's per-file download, see
# layout.annotation_items): the explicit schema wants a list, so such a document is parsed alone
_OBJECT_ANNOTATION = re.compile(rb'"annotations:[^"]*"\s*:\s*\{')
ANNOTATION_MARK = b'"annotations:'
EDGE = 256  # bytes at each end of a document that tell whether it is one object


@dataclass(frozen=True)
class Doc:
    data: bytes
    file_id: str
    label: str
    split: str
    location: str
    origin: str
    unit: str  # the source_unit its rows carry
    source: str  # and the source its issues name


class _Rows:
    """Arrow tables of the rows a batch yields, per catalog table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[pa.Table]] = {}

    def add(self, name: str, columns: dict[str, pa.Array]) -> None:
        if len(next(iter(columns.values()))):
            self.tables.setdefault(name, []).append(pa.Table.from_pydict(columns))


def parse(sink, docs: list[Doc]) -> None:
    """Rows of ``docs`` into ``sink`` (``add_arrow`` for the fast path, the usual ``add`` and
    ``issue`` for documents parsed alone)."""
    fast, slow = [], []
    # the documents that name an annotation key at all: one scan of each document's bytes,
    # shared by the checks below (most real documents have none)
    annotated = {id(d) for d in docs if ANNOTATION_MARK in d.data}
    for d in docs:
        (fast if _plain(d.data, id(d) in annotated) else slow).append(d)
    rows = _Rows()
    for part, table in _read(fast, slow):
        bad = _suspect(part, table, annotated)
        if bad.any():
            slow.extend(d for d, b in zip(part, bad) if b)
            part = [d for d, b in zip(part, bad) if not b]
            table = table.filter(pa.array(~bad))
        if part:
            _flatten(rows, part, table)
    for name, tables in rows.tables.items():
        sink.add_arrow(name, pa.concat_tables(tables))
    for d in slow:
        _parse_alone(sink, d)


def _parse_alone(sink, d: Doc) -> None:
    unit, source = sink.unit, sink.source
    sink.unit, sink.source = d.unit, d.source
    try:
        documents.parse_merged(sink, d.data, d.file_id, d.label, d.split, d.location, d.origin)
    finally:
        sink.unit, sink.source = unit, source


def _plain(data: bytes, annotated: bool) -> bool:
    """One JSON object in UTF-8 without a BOM, as far as its ends and encoding tell, whose
    annotations (if any) are lists."""
    if data.startswith(BOM):
        return False
    # the ends without stripping (and so copying) the whole document
    head, tail = data[:EDGE].lstrip(), data[-EDGE:].rstrip()
    if not (head and tail):  # a document of more whitespace than the edges hold
        head = tail = data.strip()
    if not (head.startswith(b"{") and tail.endswith(b"}")):
        return False
    if annotated and _OBJECT_ANNOTATION.search(data):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _try_read(docs: list[Doc]) -> pa.Table | None:
    biggest = max(len(d.data) for d in docs)
    block = max(BLOCK, 1 << (2 * biggest + 1).bit_length())
    try:
        table = pj.read_json(
            io.BytesIO(b"\n".join(d.data for d in docs)),
            read_options=pj.ReadOptions(use_threads=False, block_size=block),
            parse_options=pj.ParseOptions(
                explicit_schema=DOC_SCHEMA,
                newlines_in_values=True,
                unexpected_field_behavior="infer",
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return table if table.num_rows == len(docs) else None


def _read(docs: list[Doc], slow: list[Doc]) -> list[tuple[list[Doc], pa.Table]]:
    """(documents, their table, one row each); a part that fails is halved until the
    documents at fault are alone, and those go to ``slow``."""
    out, todo = [], [docs] if docs else []
    while todo:
        part = todo.pop()
        table = _try_read(part)
        if table is not None:
            out.append((part, table.combine_chunks()))
        elif len(part) == 1:
            slow.append(part[0])
        else:
            mid = len(part) // 2
            todo += [part[mid:], part[:mid]]
    return out


# -- the checks that send a document to the slow path -------------------------------------
def _col(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _nested(lists: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(flattened elements, index of each one's list, its index inside that list)."""
    values = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False)
    starts = np.cumsum(lengths) - lengths
    return values, parents, np.arange(len(values), dtype=np.int64) - starts[parents]


def _field(values: pa.Array, name: str) -> pa.Array:
    return pc.struct_field(values, name)


def _np(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(float values with NaN for null, null mask)."""
    return (
        arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False),
        arr.is_null().to_numpy(zero_copy_only=False),
    )


def _bad_times(values: pa.Array, start: str, end: str, required: bool) -> np.ndarray:
    """Elements whose times documents._num/_interval would refuse."""
    s, s_null = _np(_field(values, start))
    e, e_null = _np(_field(values, end))
    with np.errstate(invalid="ignore"):
        bad = (~s_null & ~np.isfinite(s)) | (~e_null & ~np.isfinite(e)) | (s < 0) | (e < s)
    if required:
        bad |= s_null | e_null
    return bad


def _null(arr: pa.Array) -> np.ndarray:
    return arr.is_null().to_numpy(zero_copy_only=False)


def _suspect(part: list[Doc], table: pa.Table, annotated: set[int]) -> np.ndarray:
    """One flag per document: parse it alone (see the module docstring)."""
    n = len(part)
    bad = np.zeros(n, dtype=bool)
    ids = _col(table, "id").to_pylist()
    for i, (d, json_id) in enumerate(zip(part, ids)):
        if json_id is not None and json_id != d.file_id:
            bad[i] = True
    for name in table.column_names:
        if name not in DOC_SCHEMA.names:  # an extra key: reported by the slow path
            key = b'"' + name.encode() + b'"'
            bad |= ~_null(_col(table, name)) | np.array([key in d.data for d in part])
    segs, seg_doc, _ = _nested(_col(table, TRANSCRIPT))
    seg_bad = _null(segs) | _bad_times(segs, "start", "end", required=False)
    words, word_seg, _ = _nested(_field(segs, "words"))
    word_bad = (
        _null(words)
        | _null(_field(words, "word"))
        | _bad_times(words, "start", "end", required=False)
    )
    score, score_null = _np(_field(words, "score"))
    word_bad |= ~score_null & ~np.isfinite(score)
    seg_bad[word_seg[word_bad]] = True
    bad[seg_doc[seg_bad]] = True
    vad, vad_doc, _ = _nested(_col(table, VAD))
    bad[vad_doc[_null(vad) | _bad_times(vad, "start", "end", required=True)]] = True
    for key in ANNOTATION_KEYS:
        ann, ann_doc, _ = _nested(_col(table, key))
        ann_bad = _null(ann) | _null(_field(ann, "annotation"))
        bad[ann_doc[ann_bad | _bad_times(ann, "start_ts", "end_ts", required=True)]] = True
    bad |= _null_annotation_keys(part, table, annotated)
    return bad


def _null_annotation_keys(part: list[Doc], table: pa.Table, annotated: set[int]) -> np.ndarray:
    """Documents with an ``annotations:*`` key whose value is null: the Arrow table cannot
    tell null from absent, and ``annotation_types`` lists the key."""
    out = np.zeros(len(part), dtype=bool)
    nulls = {k: _null(_col(table, k)) for k in ANNOTATION_KEYS}
    for i, d in enumerate(part):
        if id(d) in annotated:
            out[i] = any(nulls[k][i] and b'"' + k.encode() + b'"' in d.data for k in nulls)
    return out


# -- rows ------------------------------------------------------------------------------------
def _flatten(rows: _Rows, part: list[Doc], table: pa.Table) -> None:
    per_doc = {
        "file_id": pa.array([d.file_id for d in part], pa.string()),
        "label": pa.array([d.label for d in part], pa.string()),
        "split": pa.array([d.split for d in part], pa.string()),
        "source_unit": pa.array([d.unit for d in part], pa.string()),
    }

    def keys(doc_index: np.ndarray) -> dict[str, pa.Array]:
        idx = pa.array(doc_index, pa.int64())
        return {k: v.take(idx) for k, v in per_doc.items()}

    def i32(values: np.ndarray) -> pa.Array:
        return pa.array(values.astype(np.int32, copy=False), pa.int32())

    transcript = _col(table, TRANSCRIPT)
    segs, seg_doc, seg_idx = _nested(transcript)
    words, word_seg, word_idx = _nested(_field(segs, "words"))
    rows.add(
        "transcript_words",
        {
            **keys(seg_doc[word_seg]),
            "segment_idx": i32(seg_idx[word_seg]),
            "word_idx": i32(word_idx),
            "word": _field(words, "word"),
            "start_s": _field(words, "start"),
            "end_s": _field(words, "end"),
            "score": _field(words, "score"),
        },
    )
    n_words = pc.list_value_length(_field(segs, "words")).fill_null(0)
    rows.add(
        "transcript_segments",
        {
            **keys(seg_doc),
            "segment_idx": i32(seg_idx),
            "start_s": _field(segs, "start"),
            "end_s": _field(segs, "end"),
            "text": _field(segs, "transcript"),
            "n_words": n_words.cast(pa.int32()),
        },
    )
    vad_col = _col(table, VAD)
    vad, vad_doc, vad_idx = _nested(vad_col)
    rows.add(
        "vad_segments",
        {
            **keys(vad_doc),
            "segment_idx": i32(vad_idx),
            "start_s": _field(vad, "start"),
            "end_s": _field(vad, "end"),
        },
    )
    kinds: list[list[str]] = [[] for _ in part]
    for kind, key in zip(ANNOTATION_TYPES, ANNOTATION_KEYS):
        col = _col(table, key)
        for i in np.flatnonzero(~_null(col)):
            kinds[i].append(kind)
        ann, ann_doc, ann_idx = _nested(col)
        rows.add(
            "annotations",
            {
                **keys(ann_doc),
                "annotation_type": pa.array([kind] * len(ann), pa.string()),
                "annotation_idx": i32(ann_idx),
                "text": _field(ann, "annotation"),
                "start_s": _field(ann, "start_ts"),
                "end_s": _field(ann, "end_ts"),
            },
        )
    rows.add(
        "documents",
        {
            **per_doc,
            "origin": pa.array([d.origin for d in part], pa.string()),
            "json_id": _col(table, "id"),
            "transcript_present": pc.is_valid(transcript),
            "vad_present": pc.is_valid(vad_col),
            "annotation_types": pa.array(kinds, pa.list_(pa.string())),
            "extra_keys": pa.array([[] for _ in part], pa.list_(pa.string())),
            "indent": pa.array([documents.indent(d.data) for d in part], pa.int32()),
            "bytes": pa.array([len(d.data) for d in part], pa.int64()),
        },
    )
