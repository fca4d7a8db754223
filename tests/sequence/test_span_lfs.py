"""Span LF templates mark the right tokens; the applier reports time, fingerprints and faults."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import LFExecutionError, ValidationError
from weaklab.sequence import (
    TaggingDataset,
    apply_span_lfs,
    gazetteer_lf,
    model_span_lf,
    regex_span_lf,
    shape_lf,
    span_lf_summary,
)

SENTENCES = [
    ["Breast", "cancers", "and", "lung", "cancer", "in", "New", "York"],
    ["no", "disease", "here"],
    [],
    ["Diseases", "of", "the", "breast"],
]


def _spans(lfs, sentences=SENTENCES, **kw):
    votes, report = apply_span_lfs(lfs, sentences, **kw)
    return [votes.sentence_spans(i) for i in range(votes.n_sentences)], report


def test_gazetteer_is_leftmost_longest_case_and_plural_insensitive():
    """Multi-token phrases win over their prefixes; case and plural forms match; matches stay in a sentence."""
    lf = gazetteer_lf(["breast cancer", "breast", "cancer", "disease"], "Dis")
    spans, _ = _spans([lf])
    assert spans[0]["gazetteer_Dis"] == [(0, 2, "Dis"), (4, 5, "Dis")]
    assert spans[1]["gazetteer_Dis"] == [(1, 2, "Dis")]
    assert spans[3]["gazetteer_Dis"] == [(0, 1, "Dis"), (3, 4, "Dis")]
    strict = gazetteer_lf(["breast cancer"], "Dis", name="strict", case_sensitive=True, plurals=False)
    assert _spans([strict])[0][0]["strict"] == []


def test_gazetteer_mapping_gives_each_phrase_its_type():
    """A phrase -> type mapping emits several types from one LF."""
    lf = gazetteer_lf({"new york": "Loc", "lung cancer": "Dis"}, name="kb")
    votes, _ = apply_span_lfs([lf], SENTENCES)
    assert votes.sentence_spans(0)["kb"] == [(3, 5, "Dis"), (6, 8, "Loc")]
    assert set(votes.entity_types) == {"Dis", "Loc"}


def test_regex_maps_characters_to_whole_tokens_within_a_sentence():
    """A match covers every token it touches and never spans two sentences."""
    spans, _ = _spans([regex_span_lf(r"ancer", "Dis"), regex_span_lf(r"here\s+Diseases", "X", name="cross")])
    assert spans[0]["regex_Dis"] == [(1, 2, "Dis"), (4, 5, "Dis")]
    assert all(not s["cross"] for s in spans)


def test_shape_lf_marks_runs_within_length_bounds():
    """Runs of title-case tokens of length 2+ are marked; single ones are not."""
    spans, _ = _spans([shape_lf({"Xx"}, "Name", min_length=2)])
    assert spans[0]["shape_Name"] == [(6, 8, "Name")]
    assert spans[3]["shape_Name"] == []


def test_model_lf_faults_raise_with_name_and_sentence_or_are_counted():
    """A raising LF stops with its name and the sentence, or with on_error='abstain' counts the fault."""
    def flaky(tokens):
        if "disease" in tokens:
            raise RuntimeError("boom")
        return [(0, 1, "Dis")] if tokens else []

    lf = model_span_lf(flaky)
    with pytest.raises(LFExecutionError, match=r"'flaky' failed on sentence '1' \('no disease here'\)") as err:
        apply_span_lfs([lf], SENTENCES)
    assert err.value.lf_name == "flaky" and err.value.row == 1
    votes, report = apply_span_lfs([lf], SENTENCES, on_error="abstain")
    assert report.faults == {"flaky": 1} and report.fault_rows == {"flaky": [1]}
    assert votes.n_spans == 2 and report.n_spans == (2,)
    assert report.seconds[0] >= 0 and report.sentence_coverage == (0.5,)


def test_fingerprints_follow_parameters_and_names_are_unique():
    """Changing an LF's entries changes its fingerprint; duplicate names and bad inputs are refused."""
    a = gazetteer_lf(["flu"], "Dis")
    assert a.fingerprint == gazetteer_lf(["flu"], "Dis").fingerprint
    assert a.fingerprint != gazetteer_lf(["cold"], "Dis").fingerprint
    with pytest.raises(ValidationError, match="unique names"):
        apply_span_lfs([a, a], SENTENCES)
    with pytest.raises(ValidationError, match="pattern"):
        regex_span_lf("(", "Dis")
    with pytest.raises(ValidationError, match="entity_types"):
        apply_span_lfs([a], SENTENCES, entity_types=["Chem"])


def test_dataset_input_and_summary_against_gold():
    """A TaggingDataset's ids name faults; the summary scores each LF's spans against the gold."""
    gold = [[(0, 2, "Dis"), (3, 5, "Dis")], [(1, 2, "Dis")], [], [(0, 1, "Dis")]]
    ds = TaggingDataset.from_spans(SENTENCES, gold, [[[]] for _ in SENTENCES], source_names=["none"],
                                   entity_types=["Dis"], ids=["a", "b", "c", "d"])
    lfs = [gazetteer_lf(["breast cancer", "disease"], "Dis"), regex_span_lf("cancer", "Dis")]
    votes, _ = apply_span_lfs(lfs, ds)
    table = span_lf_summary(votes, gold)
    g = table.loc["gazetteer_Dis"]
    assert g["n_spans"] == 3 and g["precision"] == 1.0 and g["recall"] == pytest.approx(3 / 4)
    r = table.loc["regex_Dis"]  # "cancer" inside "Breast cancers" and "lung cancer": right tokens, wrong spans
    assert r["n_spans"] == 2 and r["precision"] == 0.0 and r["token_precision"] == 1.0 and r["overlap"] == 0.5
    assert np.isclose(table["token_coverage"].sum(), (4 + 2) / 15)
