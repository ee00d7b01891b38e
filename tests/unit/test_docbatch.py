"""The Arrow batch parse of merged documents gives exactly the rows and issues of parsing
each document alone with ``documents.parse_merged`` (the reference), valid or not."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from seamless_catalog.ingestion import docbatch, documents
from seamless_catalog.ingestion.sink import RowSink
from seamless_catalog.ingestion.units import Unit

FID = "V00_S0001_I00000001_P0001"


def _doc(**over) -> dict:
    doc = {
        "id": FID,
        "metadata:transcript": [
            {
                "words": [
                    {"word": "Right.", "start": 69.668, "end": 69.928, "score": 0.504},
                    {"word": "so", "start": None, "end": None},
                ],
                "start": 69.668,
                "end": 69.928,
                "transcript": "Right. so",
            },
            {"words": [], "start": 70, "end": 71, "transcript": "é ü 漢字"},
        ],
        "metadata:vad": [{"start": 90.7539999999999, "end": 93.5340000000001}],
    }
    doc.update(over)
    return doc


def _text(doc, indent=4) -> bytes:
    return json.dumps(doc, indent=indent, ensure_ascii=False).encode()


ANN = [{"annotation": "sarcastic ", "start_ts": 234, "end_ts": 237}]
SEG_BAD = {"words": [{"word": 3, "start": 1, "end": 2}], "start": 1, "end": 2}
CASES = {
    "plain": _text(_doc()),
    "indent2": _text(_doc(), indent=2),
    "annotations": _text(_doc(**{"annotations:3P-IS": ANN, "annotations:1P-R": ANN})),
    "null_annotation_key": _text(_doc(**{"annotations:3P-V": None})),
    "extra_key": _text(_doc(**{"metadata:pipeline_version": "2"})),
    "extra_key_null": _text(_doc(**{"metadata:other": None})),
    "unknown_annotation_type": _text(_doc(**{"annotations:2P-X": ANN})),
    "nested_extra_field": _text(_doc(**{"metadata:vad": [{"start": 1, "end": 2, "conf": 0.5}]})),
    "id_mismatch": _text(_doc(id="V00_S0001_I00000001_P0002")),
    "id_missing": _text({k: v for k, v in _doc().items() if k != "id"}),
    "id_number": _text(_doc(id=7)),
    "no_transcript": _text({"id": FID, "metadata:vad": []}),
    "transcript_null": _text(_doc(**{"metadata:transcript": None})),
    "transcript_object": _text(_doc(**{"metadata:transcript": {"a": 1}})),
    "words_null": _text(_doc(**{"metadata:transcript": [{"words": None, "start": 1}]})),
    "word_not_text": _text(_doc(**{"metadata:transcript": [SEG_BAD]})),
    "word_missing": _text(_doc(**{"metadata:transcript": [{"words": [{"start": 1}]}]})),
    "word_null": _text(_doc(**{"metadata:transcript": [{"words": [None]}]})),
    "vad_bool": _text(_doc(**{"metadata:vad": [{"start": True, "end": 2}]})),
    "vad_missing_end": _text(_doc(**{"metadata:vad": [{"start": 1}, {"start": 1, "end": 2}]})),
    "vad_null_element": _text(_doc(**{"metadata:vad": [None, {"start": 1, "end": 2}]})),
    "vad_negative": _text(_doc(**{"metadata:vad": [{"start": -1, "end": 2}]})),
    "vad_inverted": _text(_doc(**{"metadata:vad": [{"start": 3, "end": 2}]})),
    "segment_inverted": _text(_doc(**{"metadata:transcript": [{"start": 3, "end": 2}]})),
    "vad_nan": _text(_doc()).replace(b"90.7539999999999", b"NaN"),
    "vad_huge": _text(_doc()).replace(b"90.7539999999999", b"1e999"),
    "vad_huge_integer": _text(_doc()).replace(b"90.7539999999999", b"1" + b"0" * 400),
    "score_infinity": _text(_doc()).replace(b"0.504", b"Infinity"),
    "annotation_no_text": _text(_doc(**{"annotations:3P-R": [{"start_ts": 1, "end_ts": 2}]})),
    "annotation_ts_null": _text(_doc(**{"annotations:3P-R": [{"annotation": "x", "end_ts": 2}]})),
    "duplicate_key": b'{"id": "%s", "id": "%s"}' % (FID.encode(), FID.encode()),
    "bom": b"\xef\xbb\xbf" + _text(_doc()),
    "invalid_utf8": _text(_doc()).replace(b"Right.", b"Ri\xffht."),
    "lone_surrogate": _text(_doc()).replace(b"Right.", b"\\ud800"),
    "truncated": _text(_doc())[:-40],
    "two_objects": _text(_doc()) + b"\n" + _text(_doc()),
    "top_level_array": b"[1, 2]",
    "empty": b"",
    "whitespace_around": b"\n  " + _text(_doc()) + b"\n\n",
    "empty_object": b"{}",
    "surrogate_pair": _text(_doc()).replace(b"Right.", b"\\ud83d\\ude00"),
    # one-line documents (no indent) beside the indented ones, valid or not
    "one_line": _text(_doc(), indent=None),
    "one_line_annotations": _text(_doc(**{"annotations:3P-V": ANN}), indent=None),
    "one_line_extra_key": _text(_doc(**{"metadata:pipeline_version": "2"}), indent=None),
    "one_line_truncated": _text(_doc(), indent=None)[:-25],
    "one_line_invalid_utf8": _text(_doc(), indent=None).replace(b"Right.", b"R\xc3ght."),
    # wrong types where the schema wants a number, a text or a list
    "vad_time_text": _text(_doc(**{"metadata:vad": [{"start": "1.5", "end": 2}]})),
    "word_score_text": _text(_doc()).replace(b"0.504", b'"0.504"'),
    "segment_text_number": _text(_doc(**{"metadata:transcript": [{"words": [], "transcript": 5}]})),
    "words_object": _text(_doc(**{"metadata:transcript": [{"words": {"word": "a"}}]})),
    "vad_list_of_lists": _text(_doc(**{"metadata:vad": [[1, 2]]})),
    "id_object": _text(_doc(id={"a": 1})),
    "truncated_in_a_string": _text(_doc())[: _text(_doc()).index(b"Right.") + 3],
    "extra_keys_two": _text(_doc(**{"metadata:a": [1], "metadata:b": {"c": 2}})),
}


def _unit(name: str) -> Unit:
    return Unit(f"tree:{name}", "tree", "/src", "fp", lambda sink: None)


def _rows(sink: RowSink) -> dict[str, list[tuple]]:
    out = {}
    for name, table in sink.tables().items():
        rows = [tuple(json.dumps(v, sort_keys=True) for v in r.values()) for r in table.to_pylist()]
        out[name] = sorted(rows)
    return out


def parse_both_ways(docs: list[tuple[str, bytes, str, str, str, str]]) -> tuple[dict, dict]:
    """The rows of ``(unit name, data, file_id, label, split, location)`` documents parsed
    in one Arrow batch, and parsed one by one by the reference."""
    batched, alone = RowSink("run"), RowSink("run")
    for name, data, fid, label, split, location in docs:
        args = (data, fid, label, split, location, "tree")
        batched.begin(_unit(name))
        batched.defer_document(docbatch.Doc(*args, batched.unit, batched.source))
        alone.begin(_unit(name))
        documents.parse_merged(alone, *args)
    return _rows(batched), _rows(alone)


def _both(cases: dict[str, bytes]) -> tuple[dict, dict]:
    return parse_both_ways(
        [(name, data, FID, "improvised", "dev", f"{name}.json") for name, data in cases.items()]
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_case_alone_matches_the_reference(case):
    batched, alone = _both({case: CASES[case]})
    assert batched == alone


def test_all_cases_in_one_batch_match_the_reference():
    batched, alone = _both(CASES)
    assert batched == alone
    assert len(batched["ingest_issues"]) > 20


def _slow_calls(monkeypatch) -> list:
    """The documents :mod:`docbatch` hands to the reference (its slow path), as they go."""
    calls, alone = [], docbatch._parse_alone

    def counted(sink, d):
        calls.append(d.location)
        alone(sink, d)

    monkeypatch.setattr(docbatch, "_parse_alone", counted)
    return calls


def test_one_line_and_indented_documents_share_the_fast_path(monkeypatch):
    slow = _slow_calls(monkeypatch)
    batched, alone = _both({k: CASES[k] for k in ("plain", "indent2", "one_line", "annotations")})
    assert batched == alone
    assert slow == []
    indents = {documents.indent(CASES[k]) for k in ("plain", "indent2", "one_line")}
    assert indents == {4, 2, None}  # the three layouts of a document's text


def test_homogeneous_generated_documents_take_the_fast_path(tmp_path, monkeypatch):
    """The generator's homogeneous shape (the ingest benchmark's): 4-space indent, three keys,
    dense words; every document is vouched for in Arrow and matches the reference."""
    from seamless_catalog.synth import generate

    rel = generate(tmp_path, n_files=30, seed=3, layouts=("tree",), metadata_only=True,
                   shape="homogeneous")  # fmt: skip
    paths = sorted(rel.tree.rglob("*.json"))
    docs = [(p.stem, p.read_bytes(), p.stem, "naturalistic", "train", p.name) for p in paths]
    assert all(documents.indent(d[1]) == 4 and b'"annotations:' not in d[1] for d in docs)
    assert sum(len(d[1]) for d in docs) / len(docs) > 40_000  # dense word lists
    slow = _slow_calls(monkeypatch)
    batched, alone = parse_both_ways(docs)
    assert batched == alone
    assert slow == []


def test_valid_documents_take_the_fast_path(monkeypatch):
    calls = []
    monkeypatch.setattr(documents, "parse_merged", lambda *a, **k: calls.append(a))
    sink = RowSink("run")
    sink.begin(_unit("x"))
    for i in range(50):
        data = CASES["annotations" if i % 7 == 0 else "plain"]
        sink.defer_document(docbatch.Doc(data, FID, "improvised", "dev", "x", "tree", "u", "s"))
    tables = sink.tables()
    assert calls == []
    assert tables["transcript_words"].num_rows == 100
    assert tables["documents"].column("annotation_types").to_pylist()[0] == ["1P-R", "3P-IS"]
    assert tables["documents"].schema.field("indent").type == pa.int32()
