"""Tag label models follow the contract; the HMM and token DS beat majority vote where sources differ."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab.errors import NotFittedError, ValidationError
from weaklab.sequence import (
    HMMLabelModel,
    MajorityVoteTagger,
    TokenDawidSkene,
    TokenVotes,
    load_tagging,
    span_f1,
)

MODELS = [MajorityVoteTagger, HMMLabelModel, TokenDawidSkene]
TYPES = ["A", "B", "C"]


def synthetic(n_sentences=300, seed=0):
    """Sentences with one reliable source and two that give the next type instead 45 % of the time."""
    rng = np.random.default_rng(seed)
    gold, spans, lengths = [], [], []
    for _ in range(n_sentences):
        n = int(rng.integers(8, 16))
        g = []
        pos = int(rng.integers(0, 3))
        while pos + 2 < n:
            length = int(rng.integers(1, 3))
            g.append((pos, pos + length, TYPES[int(rng.integers(0, 3))]))
            pos += length + int(rng.integers(1, 4))
        good = [s for s in g if rng.random() < 0.9]
        noisy1, noisy2 = ([(s, e, TYPES[(TYPES.index(t) + 1) % 3]) if rng.random() < 0.45 else (s, e, t)
                           for s, e, t in g if rng.random() < 0.8] for _ in range(2))
        gold.append(g)
        spans.append([good, noisy1, noisy2])
        lengths.append(n)
    votes = TokenVotes.from_spans(spans, lengths, source_names=["good", "noisy1", "noisy2"], entity_types=TYPES)
    return votes, gold


@pytest.mark.parametrize("Model", MODELS)
def test_contract(Model):
    """fit returns self; proba rows sum to 1; predict leaves the model unchanged; state round-trips as JSON."""
    votes, _ = synthetic(60)
    model = Model(random_state=0) if Model is not MajorityVoteTagger else Model()
    with pytest.raises(NotFittedError):
        model.predict_proba(votes)
    assert model.fit(votes) is model
    state = model.to_state()
    P = model.predict_proba(votes)
    assert P.shape == (votes.n_tokens, len(TYPES) + 1)
    assert np.allclose(P.sum(axis=1), 1.0) and np.isfinite(P).all()
    again = model.to_state()
    for name, arr in state["arrays"].items():
        assert np.array_equal(arr, again["arrays"][name])
    json.dumps({k: v for k, v in state.items() if k != "arrays"})
    loaded = Model.from_state(state)
    assert np.allclose(loaded.predict_proba(votes), P)
    assert loaded.predict_spans(votes) == model.predict_spans(votes)


@pytest.mark.parametrize("Model", [HMMLabelModel, TokenDawidSkene])
def test_deterministic_and_source_order_free(Model):
    """Same random_state gives the same posteriors; reordering the sources changes nothing."""
    votes, _ = synthetic(80)
    P = Model(random_state=3).fit(votes).predict_proba(votes)
    assert np.array_equal(P, Model(random_state=3).fit(votes).predict_proba(votes))
    swapped = votes.select_sources(["noisy2", "good", "noisy1"])
    assert np.allclose(Model(random_state=3).fit(swapped).predict_proba(swapped), P, atol=1e-6)


@pytest.mark.parametrize("Model", [HMMLabelModel, TokenDawidSkene])
def test_beats_majority_vote_when_sources_differ(Model):
    """A reliable source outvoted by two noisy ones wins under the learned confusions (MV follows the pair)."""
    train, _ = synthetic(300, seed=1)
    test, gold = synthetic(200, seed=2)
    mv = span_f1(MajorityVoteTagger().fit(train).predict_spans(test), gold)
    learned = span_f1(Model(random_state=0).fit(train).predict_spans(test), gold)
    assert learned >= mv + 0.05, (learned, mv)


def test_parameters_are_validated_by_name():
    """A bad parameter raises ValidationError naming it."""
    votes, _ = synthetic(10)
    with pytest.raises(ValidationError, match="support"):
        HMMLabelModel(support="some").fit(votes)
    with pytest.raises(ValidationError, match="o_weight"):
        HMMLabelModel(o_weight=2.0).fit(votes)
    with pytest.raises(ValidationError, match="votes"):
        HMMLabelModel().fit([[0, 1]])


@pytest.mark.realdata
def test_hmm_not_below_majority_vote_on_ncbi(dataset):
    """Fit on train votes and scored on test, the default HMM's span F1 is at least majority vote's."""
    path = dataset("spans_ncbi_disease")
    train, test = load_tagging(path, "train", sources="recommended"), load_tagging(path, "test", sources="recommended")
    mv = span_f1(MajorityVoteTagger().fit(train).predict_spans(test), test.gold)
    hmm = span_f1(HMMLabelModel(random_state=0).fit(train.votes).predict_spans(test.votes), test.gold)
    assert hmm >= mv - 1e-9 and mv > 0.7


def test_crf_end_model_learns_and_round_trips():
    """The CRF trained on a label model's posteriors tags unseen sentences, and its state restores it."""
    pytest.importorskip("pycrfsuite")
    from weaklab.sequence import CRFTagger, TaggingDataset

    sentences = [["take", "aspirin", "daily"], ["ibuprofen", "helps"], ["no", "aspirin", "today"]] * 6
    spans = [[[(1, 2, "Chem")]], [[(0, 1, "Chem")]], [[]]] * 6
    ds = TaggingDataset.from_spans(sentences, None, spans, source_names=["kb"], entity_types=["Chem"])
    P = HMMLabelModel(random_state=0).fit(ds).predict_proba(ds)
    crf = CRFTagger(max_iterations=30).fit(ds.tokens, P, entity_types=ds.entity_types)
    unseen = [["take", "aspirin", "now"]]
    assert crf.predict_spans(unseen) == [[(1, 2, "Chem")]]
    assert CRFTagger.from_state(crf.to_state()).predict_spans(unseen) == crf.predict_spans(unseen)
    probs = crf.predict_proba(unseen)[0]
    assert probs.shape == (3, len(crf.labels_)) and np.allclose(probs.sum(axis=1), 1.0)
    with pytest.raises(ValidationError, match="votes"):
        CRFTagger(use_votes=True).fit(ds.tokens, P, entity_types=ds.entity_types)
    voting = CRFTagger(use_votes=True, max_iterations=30).fit(ds.tokens, P, entity_types=ds.entity_types, votes=ds)
    assert voting.predict_spans(ds.tokens[:2], votes=ds.votes.subset([0, 1])) == [[(1, 2, "Chem")], [(0, 1, "Chem")]]
    with pytest.raises(NotFittedError):
        CRFTagger().predict_spans(unseen)


def test_crf_with_label_model_marginals():
    """With use_marginals the CRF reads the label model's posteriors at fit and needs them to predict."""
    pytest.importorskip("pycrfsuite")
    from weaklab.sequence import CRFTagger, TaggingDataset

    sentences = [["take", "aspirin", "daily"], ["ibuprofen", "helps"], ["no", "aspirin", "today"]] * 6
    spans = [[[(1, 2, "Chem")]], [[(0, 1, "Chem")]], [[]]] * 6
    ds = TaggingDataset.from_spans(sentences, None, spans, source_names=["kb"], entity_types=["Chem"])
    lm = HMMLabelModel(random_state=0).fit(ds)
    P = lm.predict_proba(ds)
    crf = CRFTagger(use_marginals=True, max_iterations=30).fit(ds.tokens, P, entity_types=ds.entity_types)
    assert crf.predict_spans(ds.tokens[:2], marginals=P[:5]) == [[(1, 2, "Chem")], [(0, 1, "Chem")]]
    with pytest.raises(ValidationError, match="marginals"):
        crf.predict_spans(ds.tokens[:2])
    with pytest.raises(ValidationError, match="marginals"):
        crf.predict_spans(ds.tokens[:2], marginals=P[:5, :1])
    loaded = CRFTagger.from_state(crf.to_state())
    assert loaded.predict_spans(ds.tokens[:2], marginals=P[:5]) == crf.predict_spans(ds.tokens[:2], marginals=P[:5])


def test_crf_io_scheme_keeps_the_label_models_runs():
    """By default the CRF learns IO tags, so a run of one type predicted by it is one span, as in its labels."""
    pytest.importorskip("pycrfsuite")
    from weaklab.sequence import CRFTagger

    X = [["under", "15", "dollars", "please"], ["cheap", "eats"]] * 8
    y = [[(0, 1, "Price"), (1, 3, "Price")], [(0, 1, "Price")]] * 8
    io = CRFTagger(max_iterations=30).fit(X, y)
    assert io.labels_ == ["I-Price", "O"]
    assert io.predict_spans(X[:1]) == [[(0, 3, "Price")]]
    bio = CRFTagger(max_iterations=30, scheme="bio").fit(X, y)
    assert bio.predict_spans(X[:1]) == [[(0, 1, "Price"), (1, 3, "Price")]]
    with pytest.raises(ValidationError, match="scheme"):
        CRFTagger(scheme="iob").fit(X, y)
