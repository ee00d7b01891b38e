"""Per-file metadata: the merged ``{file_id}.json`` of the tars and trees, and the
per-file JSON Lines of the CDN layout, both turned into the same rows.

One converter per element kind (transcript segment, VAD segment, annotation) serves
both formats; only how elements are located differs (``file#key[i]`` or ``file:line``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import BadRecord
from ..layout import ANNOTATION_PREFIX, TRANSCRIPT, VAD, annotation_items
from .sink import Sink

KNOWN_KEYS = {"id", TRANSCRIPT, VAD}

Located = Iterable[tuple[str, Any]]  # (location, element)


def _num(value: Any, name: str, nullable: bool = False) -> float | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(f"{name} is {type(value).__name__} {value!r}, expected a number")
    try:
        number = float(value)
    except OverflowError:  # an integer literal beyond the range of a double
        number = math.inf
    if not math.isfinite(number):
        raise BadRecord(f"{name} is {value}, expected a finite number")
    return number


def _interval(start: float | None, end: float | None) -> None:
    if start is not None and start < 0:
        raise BadRecord(f"negative start {start}")
    if start is not None and end is not None and end < start:
        raise BadRecord(f"inverted interval: end {end} < start {start}")


def _obj(item: Any, what: str) -> dict:
    if not isinstance(item, dict):
        raise BadRecord(f"{what} is {type(item).__name__}, expected an object")
    return item


def _valid(sink: Sink, file_id: str, items: Located, convert: Callable[[Any], Any]):
    """(index, location, converted) for each element ``convert`` accepts; the others are
    quarantined with their location. Indices stay those of the source list."""
    for i, (loc, item) in enumerate(items):
        try:
            yield i, loc, convert(item)
        except BadRecord as e:
            sink.issue(loc, str(e), file_id)


def _vad(item: Any) -> tuple[float, float]:
    seg = _obj(item, "VAD segment")
    start, end = _num(seg.get("start"), "start"), _num(seg.get("end"), "end")
    _interval(start, end)
    return start, end


def _word(item: Any) -> tuple[str, float | None, float | None, float | None]:
    w = _obj(item, "word")
    text = w.get("word")
    if not isinstance(text, str):
        raise BadRecord(f"word is {type(text).__name__}, expected text")
    start = _num(w.get("start"), "start", nullable=True)
    end = _num(w.get("end"), "end", nullable=True)
    _interval(start, end)
    return text, start, end, _num(w.get("score"), "score", nullable=True)


def _segment(item: Any) -> tuple[float | None, float | None, str | None, list]:
    seg = _obj(item, "transcript segment")
    start = _num(seg.get("start"), "start", nullable=True)
    end = _num(seg.get("end"), "end", nullable=True)
    _interval(start, end)
    text, words = seg.get("transcript"), seg.get("words")
    if text is not None and not isinstance(text, str):
        raise BadRecord(f"transcript is {type(text).__name__}, expected text")
    if words is not None and not isinstance(words, list):
        raise BadRecord(f"words is {type(words).__name__}, expected a list")
    return start, end, text, words or []


def _annotation(item: Any) -> tuple[str, float, float]:
    a = _obj(item, "annotation")
    text = a.get("annotation")
    if not isinstance(text, str):
        raise BadRecord(f"annotation is {type(text).__name__}, expected text")
    start, end = _num(a.get("start_ts"), "start_ts"), _num(a.get("end_ts"), "end_ts")
    _interval(start, end)
    return text, start, end


def add_vad(sink: Sink, file_id: str, label: str, split: str, items: Located) -> None:
    for i, _, (start, end) in _valid(sink, file_id, items, _vad):
        sink.add(
            "vad_segments",
            file_id=file_id,
            label=label,
            split=split,
            segment_idx=i,
            start_s=start,
            end_s=end,
        )


def add_transcript(sink: Sink, file_id: str, label: str, split: str, items: Located) -> None:
    for i, loc, (start, end, text, words) in _valid(sink, file_id, items, _segment):
        located = [(f"{loc}.words[{j}]", w) for j, w in enumerate(words)]
        n_words = 0
        for j, _, (word, w_start, w_end, score) in _valid(sink, file_id, located, _word):
            sink.add(
                "transcript_words",
                file_id=file_id,
                label=label,
                split=split,
                segment_idx=i,
                word_idx=j,
                word=word,
                start_s=w_start,
                end_s=w_end,
                score=score,
            )
            n_words += 1
        sink.add(
            "transcript_segments",
            file_id=file_id,
            label=label,
            split=split,
            segment_idx=i,
            start_s=start,
            end_s=end,
            text=text,
            n_words=n_words,
        )


def add_annotations(
    sink: Sink, file_id: str, label: str, split: str, kind: str, items: Located
) -> None:
    for i, _, (text, start, end) in _valid(sink, file_id, items, _annotation):
        sink.add(
            "annotations",
            file_id=file_id,
            label=label,
            split=split,
            annotation_type=kind,
            annotation_idx=i,
            text=text,
            start_s=start,
            end_s=end,
        )


def indent(data: bytes) -> int | None:
    """Indent width of a pretty-printed document (4, or 2 where re-written), else None."""
    nl = data.find(b"\n")
    if nl < 0:
        return None
    line = data[nl + 1 : nl + 41]
    return len(line) - len(line.lstrip(b" ")) or None


def _located(location: str, key: str, value: Any, sink: Sink, file_id: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        sink.issue(
            f"{location}#{key}", f"{key} is {type(value).__name__}, expected a list", file_id
        )
        return []
    return [(f"{location}#{key}[{i}]", v) for i, v in enumerate(value)]


def loads(data: bytes, location: str, sink: Sink, file_id: str | None) -> Any:
    """json.loads that reports instead of raising; a UTF-8 BOM is tolerated (and reported)."""
    if data.startswith(b"\xef\xbb\xbf"):
        sink.issue(location, "UTF-8 byte order mark removed", file_id, "warning")
        data = data[3:]
    try:
        value = json.loads(data)
        if b"\\ud" in data.lower():  # an escaped surrogate: refuse one left unpaired
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        sink.issue(location, "not valid JSON: unpaired surrogate escape in a string", file_id)
    except (ValueError, UnicodeDecodeError) as e:
        sink.issue(location, f"not valid JSON: {e}", file_id)
    return None


def parse_merged(
    sink: Sink, data: bytes, file_id: str, label: str, split: str, location: str, origin: str
) -> None:
    """One merged ``{file_id}.json``: id, metadata:transcript, metadata:vad, annotations:*."""
    doc = loads(data, location, sink, file_id)
    if doc is None:
        return
    if not isinstance(doc, dict):
        sink.issue(location, f"top level is {type(doc).__name__}, expected an object", file_id)
        return
    if doc.get("id") not in (None, file_id):
        sink.issue(
            location, f"id {doc.get('id')!r} differs from the name {file_id}", file_id, "warning"
        )
    args = (sink, file_id, label, split)
    add_transcript(*args, _located(location, TRANSCRIPT, doc.get(TRANSCRIPT), sink, file_id))
    add_vad(*args, _located(location, VAD, doc.get(VAD), sink, file_id))
    kinds = []
    for key in sorted(k for k in doc if k.startswith(ANNOTATION_PREFIX)):
        kind = key[len(ANNOTATION_PREFIX) :]
        kinds.append(kind)
        items = _located(location, key, annotation_items(doc[key]), sink, file_id)
        add_annotations(*args, kind, items)
    extra = sorted(k for k in doc if k not in KNOWN_KEYS and not k.startswith(ANNOTATION_PREFIX))
    sink.add(
        "documents",
        file_id=file_id,
        label=label,
        split=split,
        origin=origin,
        json_id=doc.get("id") if isinstance(doc.get("id"), str) else None,
        transcript_present=isinstance(doc.get(TRANSCRIPT), list),
        vad_present=isinstance(doc.get(VAD), list),
        annotation_types=kinds,
        extra_keys=extra,
        indent=indent(data),
        bytes=len(data),
    )


def jsonl(data: bytes, location: str, sink: Sink, file_id: str) -> list[tuple[str, Any]]:
    """The objects of a JSON Lines file with their ``file:line`` locations; bad lines reported."""
    if data.startswith(b"\xef\xbb\xbf"):
        sink.issue(location, "UTF-8 byte order mark removed", file_id, "warning")
        data = data[3:]
    out = []
    for n, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        loc = f"{location}:{n}"
        value = loads(line, loc, sink, file_id)
        if value is not None:
            out.append((loc, value))
    return out
