"""load_tagging reads both formats into a run-length vote structure; MV reproduces the reference figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab.errors import NotFittedError, ValidationError
from weaklab.sequence import (
    MajorityVoteTagger,
    TaggingDataset,
    TokenVotes,
    load_tagging,
    span_f1,
    span_f1_report,
    spans_to_tags,
)


def _write(folder, fmt):
    meta = {"lf": ["a", "b", "c"], "lf_rec": ["b", "a"], "entity_types": ["Dis", "Chem"]}
    (folder / "meta.json").write_text(json.dumps(meta))
    tokens = ["aspirin", "causes", "liver", "damage"]
    gold = [[0, 1, "Chem"], [2, 4, "Dis"]]
    weak = [[[0, 1, "Chem"]], [[2, 4, "Dis"]], [[3, 4, "Dis"]]]
    if fmt == "span":
        item = {"label": gold, "data": {"text": tokens}, "weak_labels": weak}
    else:
        cols = [spans_to_tags([tuple(s) for s in w], 4) for w in weak]
        item = {"len": 4, "data": {"text": tokens}, "label": spans_to_tags([tuple(g) for g in gold], 4),
                "weak_labels": [[c[i] for c in cols] for i in range(4)]}
    (folder / "valid.json").write_text(json.dumps({"7": item}))


@pytest.mark.parametrize("fmt", ["span", "token"])
def test_both_formats_read_to_the_same_dataset(tmp_path, fmt):
    """Span and token files with the same content load to the same tokens, gold and votes."""
    _write(tmp_path, fmt)
    ds = load_tagging(tmp_path, "valid")
    assert ds.format == fmt
    assert ds.ids == ["7"]
    assert ds.tokens == [["aspirin", "causes", "liver", "damage"]]
    assert ds.gold == [[(0, 1, "Chem"), (2, 4, "Dis")]]
    assert ds.votes.sentence_spans(0) == {"a": [(0, 1, "Chem")], "b": [(2, 4, "Dis")], "c": [(3, 4, "Dis")]}
    rec = load_tagging(tmp_path, "valid", sources="recommended")
    assert rec.source_names == ("b", "a")


def test_votes_are_run_length_and_expand_per_token():
    """A span is one stored row; token_votes expands it to one entry per token."""
    v = TokenVotes.from_spans([[[(0, 3, "A")], []], [[], [(0, 1, "A")]]], [4, 2], source_names=["s", "t"],
                              entity_types=["A"])
    assert v.n_spans == 2 and v.n_tokens == 6
    tok, src, typ = v.token_votes()
    assert tok.tolist() == [0, 1, 2, 4] and src.tolist() == [0, 0, 0, 1] and typ.tolist() == [0, 0, 0, 0]
    sub = v.subset([1])
    assert sub.n_tokens == 2 and sub.sentence_spans(0) == {"s": [], "t": [(0, 1, "A")]}


def test_loader_errors_name_the_parameter(tmp_path):
    """A missing split, unknown sources or a missing meta.json raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match="folder"):
        load_tagging(tmp_path, "valid")
    _write(tmp_path, "span")
    with pytest.raises(ValidationError, match=r"split: .*'train'"):
        load_tagging(tmp_path, "train")
    with pytest.raises(ValidationError, match=r"sources: .*'zzz'"):
        load_tagging(tmp_path, "valid", sources=["zzz"])


def test_majority_vote_follows_wrench():
    """O only where no source fires; ties go to the lowest type; a run of one type is one span."""
    v = TokenVotes.from_spans([[[(0, 2, "B"), (3, 4, "A")], [(1, 2, "A")], [(2, 3, "B")]]], [5],
                              source_names=["s", "t", "u"], entity_types=["A", "B"])
    mv = MajorityVoteTagger().fit(v)
    assert mv.predict_tags(v).tolist() == [2, 1, 2, 1, 0]
    assert mv.predict_spans(v) == [[(0, 1, "B"), (1, 2, "A"), (2, 3, "B"), (3, 4, "A")]]
    P = mv.predict_proba(v)
    assert np.allclose(P.sum(axis=1), 1) and P[4, 0] == 1


def test_tag_model_contract_errors():
    """Predicting before fit raises NotFittedError; votes of other sources are refused by name."""
    v = TokenVotes.from_spans([[[(0, 1, "A")]]], [2], source_names=["s"], entity_types=["A"])
    with pytest.raises(NotFittedError):
        MajorityVoteTagger().predict_spans(v)
    other = TokenVotes.from_spans([[[(0, 1, "A")]]], [2], source_names=["x"], entity_types=["A"])
    with pytest.raises(ValidationError, match="votes: expected votes of the fitted sources"):
        MajorityVoteTagger().fit(v).predict_spans(other)
    ds = TaggingDataset.from_spans([["a", "b"]], None, [[[(0, 1, "A")]]], source_names=["s"], entity_types=["A"])
    assert MajorityVoteTagger().fit(ds).predict_spans(ds) == [[(0, 1, "A")]]


def test_span_f1_is_strict():
    """Only exact (start, end, type) matches count; the report gives per-type and micro scores."""
    gold = [[(0, 2, "A"), (3, 4, "B")]]
    assert span_f1(gold, gold) == 1.0
    assert span_f1([[(0, 1, "A"), (3, 4, "A")]], gold) == 0.0
    r = span_f1_report([[(0, 2, "A"), (5, 6, "B")]], gold)
    assert r["A"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1.0}
    assert r["micro"]["precision"] == 0.5 and r["micro"]["recall"] == 0.5


REFERENCE_MV_F1 = {  # data/README.md: majority vote, lf_rec sources, WRENCH's convention, ties to the lowest type
    ("spans_ncbi_disease", "test"): 0.784,
    ("spans_bc5cdr", "test"): 0.835,
    ("spans_mit_restaurant", "test"): 0.482,
    ("spans_mit_restaurant", "valid"): 0.491,
}


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "split"), sorted(REFERENCE_MV_F1))
def test_majority_vote_matches_the_reference_figures(dataset, name, split):
    """MV span F1 on the shared sets equals the figures computed independently in data/README.md."""
    ds = load_tagging(dataset(name), split, sources="recommended")
    assert ds.votes.n_spans > 0
    f1 = span_f1(MajorityVoteTagger().fit(ds.votes).predict_spans(ds.votes), ds.gold)
    assert f1 == pytest.approx(REFERENCE_MV_F1[(name, split)], abs=5e-4)
