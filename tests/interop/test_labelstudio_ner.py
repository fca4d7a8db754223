"""Label Studio NER exchange: token spans out as character regions and back, errors naming the place."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.interop.labelstudio import (
    char_to_token_spans,
    ner_labeling_config,
    parse_label_studio_ner,
    to_label_studio_ner_tasks,
    token_char_offsets,
)

TYPES = ["Chemical", "Disease"]


def _random_items(seed, n=40):
    rng = np.random.default_rng(seed)
    words = ["aspirin", "Crohn", "'s", "disease", "(", "CD", ")", "of", "the", "caf\u00e9", "-", "x2", "."]
    tokens, spans = [], []
    for _ in range(n):
        toks = [str(w) for w in rng.choice(words, size=int(rng.integers(1, 12)))]
        pos, sp = 0, []
        while pos < len(toks):
            if rng.random() < 0.4:
                end = min(len(toks), pos + int(rng.integers(1, 4)))
                sp.append((pos, end, TYPES[int(rng.integers(0, 2))]))
                pos = end + 1
            else:
                pos += 1
        tokens.append(toks)
        spans.append(sp)
    return tokens, spans


def _annotate(tasks):
    """What Label Studio exports after a person accepts every pre-annotation, in JSON and JSON_MIN."""
    full, flat = [], []
    for k, task in enumerate(tasks):
        result = task["predictions"][0]["result"]
        full.append({"id": k + 1, "data": task["data"], "annotations": [
            {"id": 100 + k, "completed_by": 1, "was_cancelled": False, "result": result}]})
        flat.append({**task["data"], "id": k + 1, "annotator": 1, "annotation_id": 100 + k,
                     "label": [r["value"] for r in result]})
    return json.loads(json.dumps(full)), json.loads(json.dumps(flat))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_json_and_json_min(seed):
    """Spans exported as regions and read back from both export formats are the same token spans."""
    tokens, spans = _random_items(seed)
    tasks = to_label_studio_ner_tasks(tokens, spans, item_ids=[f"d{i}" for i in range(len(tokens))],
                                      entity_types=TYPES)
    for task, toks, sp in zip(tasks, tokens, spans):
        text = task["data"]["text"]
        assert [text[r["value"]["start"]:r["value"]["end"]] for r in task["predictions"][0]["result"]] == \
            [" ".join(toks[s:e]) for s, e, _ in sp]
    for export in _annotate(tasks):
        back = parse_label_studio_ner(export, entity_types=TYPES, snap="strict")
        assert [a.item_id for a in back] == [f"d{i}" for i in range(len(tokens))]
        assert [list(a.spans) for a in back] == [sorted(sp) for sp in spans]
        assert {a.annotator for a in back} == {"1"}


def test_partial_word_selection_expands_or_fails_strictly():
    """A region over part of a word covers that word; strict mode refuses it, naming the region."""
    text = "Crohn 's disease with aspirin"
    offsets = token_char_offsets(text, text.split())
    assert char_to_token_spans(offsets, [(2, 12, "Disease")]) == [(0, 3, "Disease")]
    with pytest.raises(ValidationError, match=r"regions\[0\].*token boundaries"):
        char_to_token_spans(offsets, [(2, 12, "Disease")], snap="strict")
    with pytest.raises(ValidationError, match="no token"):
        char_to_token_spans(offsets, [(5, 6, "Disease")])


def test_text_without_tokens_is_split_on_whitespace():
    """A task made in Label Studio (text only) is tokenised on whitespace; skipped annotations are kept."""
    export = [{"id": 5, "data": {"text": "take  aspirin daily"}, "annotations": [
        {"id": 1, "completed_by": {"email": "a@b"}, "result": [
            {"from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": 6, "end": 13, "text": "aspirin", "labels": ["Chemical"]}}]},
        {"id": 2, "completed_by": 3, "was_cancelled": True, "result": []}]},
        {"id": 6, "data": {"text": "nothing"}, "annotations": []}]
    got = parse_label_studio_ner(export, entity_types=TYPES)
    assert [(a.item_id, a.annotator, a.spans, a.status) for a in got] == [
        (5, "a@b", ((1, 2, "Chemical"),), "answer"), (5, "3", (), "skipped")]


def test_errors_name_what_was_wrong():
    """Unknown label, bad offsets, tokens not in the text and bad spans raise ValidationError with the place."""
    region = {"from_name": "label", "to_name": "text", "type": "labels",
              "value": {"start": 0, "end": 4, "labels": ["Drug"]}}
    export = [{"id": 1, "data": {"text": "take it"}, "annotations": [{"id": 1, "result": [region]}]}]
    with pytest.raises(ValidationError, match=r"export\[0\]\.annotations\[0\]\.result\[0\].*Drug"):
        parse_label_studio_ner(export, entity_types=TYPES)
    region["value"] = {"start": 4, "end": 2, "labels": ["Chemical"]}
    with pytest.raises(ValidationError, match="start < end"):
        parse_label_studio_ner(export, entity_types=TYPES)
    export[0]["data"]["tokens"] = ["take", "that"]
    with pytest.raises(ValidationError, match=r"tokens\[1\]"):
        parse_label_studio_ner(export, entity_types=TYPES)
    with pytest.raises(ValidationError, match="JSON list"):
        parse_label_studio_ner({"a": 1}, entity_types=TYPES)
    with pytest.raises(ValidationError, match=r"spans\[0\]\[0\]"):
        to_label_studio_ner_tasks([["a", "b"]], [[(1, 5, "Chemical")]])
    with pytest.raises(ValidationError, match="type among"):
        to_label_studio_ner_tasks([["a", "b"]], [[(0, 1, "Drug")]], entity_types=TYPES)
    with pytest.raises(ValidationError, match="item_ids"):
        to_label_studio_ner_tasks([["a"]], item_ids=[1, 2])


def test_config_names_every_type():
    """The config holds one Label per entity type under the Labels control the regions refer to."""
    xml = ner_labeling_config(["A&B", "C"])
    assert '<Labels name="label" toName="text">' in xml and '<Label value="A&amp;B"/>' in xml
    assert '<Text name="text" value="$text"/>' in xml
