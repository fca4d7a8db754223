"""Multi-label label models recover known truth on synthetic multi-label votes."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import MultiLabelDawidSkene, MultiLabelMatrix, NotFittedError, OneVsRestLabelModel, ValidationError
from weaklab.evaluation import hamming_loss, micro_f1
from weaklab.models import MajorityVote
from weaklab.synthetic import make_multilabel_matrix


@pytest.fixture(scope="module")
def data():
    return make_multilabel_matrix(2500, 8, 5, correlation=0.8, coverage=(0.05, 0.3), random_state=3)


@pytest.fixture(scope="module")
def baseline(data):
    """One-vs-rest majority vote: the simplest baseline on the same votes."""
    return OneVsRestLabelModel(MajorityVote()).fit(data.L).predict(data.L)


@pytest.mark.parametrize("model", [
    OneVsRestLabelModel(),
    MultiLabelDawidSkene(cooccurrence="independent"),
    MultiLabelDawidSkene(cooccurrence="full"),
], ids=["one-vs-rest DS", "shared, independent labels", "shared, co-occurrence"])
def test_models_beat_majority_vote(data, baseline, model):
    """Every model has a Hamming loss at least 2 points below one-vs-rest majority vote's."""
    pred = model.fit(data.L).predict(data.L)
    assert pred.shape == data.y.shape
    assert hamming_loss(data.y, pred) < hamming_loss(data.y, baseline) - 0.02


def test_cooccurrence_helps_on_correlated_labels(data, baseline):
    """With correlated labels, the learned label-set prior beats independent labels (same accuracies)."""
    full = MultiLabelDawidSkene(cooccurrence="full").fit(data.L)
    indep = MultiLabelDawidSkene(cooccurrence="independent").fit(data.L)
    assert hamming_loss(data.y, full.predict(data.L)) < hamming_loss(data.y, indep.predict(data.L))
    assert micro_f1(data.y, full.predict(data.L)) > micro_f1(data.y, indep.predict(data.L)) + 0.02
    assert micro_f1(data.y, full.predict(data.L)) > micro_f1(data.y, baseline) + 0.02
    planted = (data.y[:, 0] * data.y[:, 1]).mean()
    assert full.cooccurrence_[0, 1] == pytest.approx(planted, abs=0.03)
    assert full.cooccurrence_[0, 1] > full.label_prior_[0] * full.label_prior_[1] + 0.03


def test_per_label_rates_pool_towards_the_shared_ones(data):
    """label_strength=0 fits rates per label; a large strength gives back the shared rates."""
    free = MultiLabelDawidSkene(label_strength=0.0).fit(data.L)
    pooled = MultiLabelDawidSkene(label_strength=1e6).fit(data.L)
    shared = MultiLabelDawidSkene().fit(data.L)
    assert np.allclose(pooled.label_sensitivity_, shared.sensitivity_[:, None], atol=0.01)
    assert np.abs(free.label_sensitivity_ - data.sensitivity[:, None]).mean() < 0.08


def test_shared_accuracies_are_recovered(data):
    """Learned sensitivity and specificity are within 0.05 of the planted values."""
    model = MultiLabelDawidSkene().fit(data.L)
    assert np.abs(model.sensitivity_ - data.sensitivity).max() < 0.05
    assert np.abs(model.specificity_ - data.specificity).max() < 0.05
    assert np.abs(model.label_prior_ - data.y.mean(axis=0)).max() < 0.04


def test_predict_is_pure_and_works_on_new_items(data):
    """predict_proba leaves the model unchanged and scores a new matrix of the same sources row by row."""
    model = MultiLabelDawidSkene().fit(data.L)
    before = model.to_state()
    proba = model.predict_proba(data.L)
    sub = model.predict_proba(data.L.select_items(np.arange(10)[::-1]))
    assert np.allclose(sub, proba[np.arange(10)[::-1]])
    after = model.to_state()
    assert all(np.array_equal(before["arrays"][k], after["arrays"][k]) for k in before["arrays"])
    assert ((proba >= 0) & (proba <= 1)).all()


def test_state_round_trip(data):
    """from_state(to_state()) predicts the same probabilities."""
    model = MultiLabelDawidSkene().fit(data.L)
    again = MultiLabelDawidSkene.from_state(model.to_state())
    assert np.allclose(again.predict_proba(data.L), model.predict_proba(data.L))


def test_gold_is_clamped_and_helps(data):
    """Gold labels are returned as given on their items, and do not make the others worse."""
    gold = np.full(data.y.shape, -1, dtype=np.int8)
    gold[:200] = data.y[:200]
    model = MultiLabelDawidSkene().fit(data.L, gold=gold)
    soft = model.soft_labels(data.L)
    assert soft.label_names == data.L.label_names
    ovr = OneVsRestLabelModel().fit(data.L, gold=gold)
    assert hamming_loss(data.y[200:], ovr.predict(data.L)[200:]) < 0.2


def test_all_abstain_item_gets_the_label_prior(data):
    """An item without votes gets the learned label rates."""
    model = MultiLabelDawidSkene().fit(data.L)
    empty = MultiLabelMatrix(np.full((1, 8, 5), -1), source_names=data.L.source_names)
    assert np.allclose(model.predict_proba(empty)[0], model.label_prior_)


def test_errors_name_the_parameter(data):
    """Unfitted use, a wrong matrix, bad gold and a too-large full prior raise clear errors."""
    with pytest.raises(NotFittedError):
        MultiLabelDawidSkene().predict_proba(data.L)
    with pytest.raises(ValidationError, match="MultiLabelMatrix"):
        MultiLabelDawidSkene().fit(np.zeros((3, 2, 2)))
    with pytest.raises(ValidationError, match="gold"):
        MultiLabelDawidSkene().fit(data.L, gold=np.zeros((3, 5)))
    with pytest.raises(ValidationError, match="cooccurrence"):
        MultiLabelDawidSkene(cooccurrence="full", max_full_labels=3).fit(data.L)
    with pytest.raises(ValidationError, match="smoothing"):
        MultiLabelDawidSkene(smoothing=-1.0).fit(data.L)
