"""Short forms defined after an agreed span are voted where they recur; the HMM uses them only with tokens."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.sequence import (
    SHORT_FORM_SOURCE,
    HMMLabelModel,
    MajorityVoteTagger,
    TaggingDataset,
    add_short_form_source,
    load_tagging,
    short_form_spans,
    span_f1,
)

TOKENS = ["Von", "Hippel-Lindau", "disease", "(", "VHL", ")", "is", "rare", ";", "VHL", "carriers", "(", "the", ")"]


def _dataset(n=4):
    tokens = [TOKENS] * n + [["no", "VHL", "here"]]
    spans = [[[(0, 3, "Dis")], []]] * n + [[[], []]]
    gold = [[(0, 3, "Dis"), (4, 5, "Dis"), (9, 10, "Dis")]] * n + [[]]
    return TaggingDataset.from_spans(tokens, gold, spans, source_names=["dict", "other"], entity_types=["Dis"])


def test_short_forms_follow_the_long_form_and_stay_in_their_item():
    """Definition and reuse in the item are voted; the same letters in another item are not."""
    ds = _dataset(1)
    assert short_form_spans(ds.tokens, [[(0, 3, "Dis")], []]) == [[(4, 5, "Dis"), (9, 10, "Dis")], []]


@pytest.mark.parametrize("tokens", [
    ["cystic", "fibrosis", "(", "XY", ")"],          # initial matches no word of the long form
    ["cystic", "fibrosis", "(", "cf", ")"],          # no upper-case letter
    ["cystic", "fibrosis", "(", "CF", ";"],          # not closed
])
def test_non_definitions_are_ignored(tokens):
    """A parenthesised token that fails the short-form test adds no span."""
    assert short_form_spans([tokens], [[(0, 2, "Dis")]]) == [[]]


def test_added_source_and_errors():
    """The source is appended last; wrong tokens or a second addition raise naming the parameter."""
    ds = _dataset(2)
    v = add_short_form_source(ds.votes, ds.tokens)
    assert v.source_names[-1] == SHORT_FORM_SOURCE and v.n_spans == ds.votes.n_spans + 4
    assert add_short_form_source(ds.votes, None).n_spans == ds.votes.n_spans
    with pytest.raises(ValidationError, match="tokens"):
        add_short_form_source(ds.votes, ds.tokens[:1])
    with pytest.raises(ValidationError, match="votes"):
        add_short_form_source(v, ds.tokens)


def test_hmm_uses_short_forms_only_with_text():
    """With a dataset the HMM finds the short forms; with bare votes it equals the votes-only model."""
    ds = _dataset()
    model = HMMLabelModel(random_state=0).fit(ds)
    assert SHORT_FORM_SOURCE in model.source_names_
    assert model.predict_spans(ds)[0] == [(0, 3, "Dis"), (4, 5, "Dis"), (9, 10, "Dis")]
    assert model.predict_spans(ds)[-1] == []
    bare = HMMLabelModel(random_state=0, short_forms=False).fit(ds)
    assert SHORT_FORM_SOURCE not in bare.source_names_
    assert bare.predict_spans(ds)[0] == [(0, 3, "Dis")]
    assert model.predict_spans(ds.votes) == bare.predict_spans(ds.votes)
    loaded = HMMLabelModel.from_state(model.to_state())
    assert np.allclose(loaded.predict_proba(ds), model.predict_proba(ds))
    with pytest.raises(ValidationError, match="short_forms"):
        HMMLabelModel(short_forms="yes").fit(ds)


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["spans_ncbi_disease", "spans_bc5cdr"])
def test_default_hmm_above_majority_vote_on_valid(dataset, name):
    """Fit on train and scored on valid, the default HMM beats WRENCH-style majority vote by >= 1 point."""
    path = dataset(name)
    train = load_tagging(path, "train", sources="recommended")
    valid = load_tagging(path, "valid", sources="recommended")
    mv = span_f1(MajorityVoteTagger().fit(train).predict_spans(valid), valid.gold)
    hmm = span_f1(HMMLabelModel(random_state=0).fit(train).predict_spans(valid), valid.gold)
    assert hmm >= mv + 0.01, (hmm, mv)
