"""Tests of the closed-form triplet label model (FlyingSquid's method)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab._core import LabelMatrix
from weaklab.errors import ValidationError
from weaklab.models import MajorityVote, Triplet
from weaklab.models.triplet import marginal_confusion, pair_agreements
from weaklab.synthetic import make_label_matrix
from weaklab.testing import label_model_checks


def load_wrench(root, split):
    entries = json.loads((root / f"{split}.json").read_text())
    votes = np.array([e["weak_labels"] for e in entries.values()])
    gold = np.array([e["label"] for e in entries.values()])
    return votes, gold


@pytest.fixture(scope="module")
def binary():
    return make_label_matrix(20000, 10, 2, coverage=(0.3, 0.9), accuracy=(0.55, 0.95), random_state=1)


@pytest.mark.parametrize(("name", "check"), list(label_model_checks(Triplet())))
def test_conformance(name, check):
    """Triplet passes every label-model conformance check."""
    check()


@pytest.mark.parametrize("moments", ["conditional", "all"])
def test_recovers_binary_accuracies(binary, moments):
    """On independent binary sources the closed-form accuracies are within 0.03 of the truth."""
    model = Triplet(moments=moments).fit(binary.L)
    assert np.abs(model.source_accuracy_ - binary.accuracy).max() < 0.03


def test_recovers_multiclass_accuracies_and_beats_majority():
    """With k = 4 one-coin sources the accuracies are recovered and majority vote is beaten."""
    data = make_label_matrix(20000, 8, 4, coverage=(0.3, 0.9), accuracy=(0.4, 0.9), random_state=2)
    model = Triplet().fit(data.L)
    assert np.abs(model.source_accuracy_ - data.accuracy).max() < 0.03
    acc = (model.predict(data.L, random_state=0) == data.y).mean()
    mv = (MajorityVote().fit(data.L).predict(data.L, random_state=0) == data.y).mean()
    assert acc >= mv + 0.01


def test_pair_agreements_equal_products_of_accuracy_parameters(binary):
    """Chance-corrected agreements factor as z_i z_j, the identity the triplets rely on."""
    M, co_votes = pair_agreements(binary.L, conditional=True)
    z = 2 * binary.accuracy - 1
    off = ~np.eye(10, dtype=bool)
    np.testing.assert_allclose(M[off], np.outer(z, z)[off], atol=0.06)
    assert (co_votes[off] > 0).all()


def test_sign_recovery_by_agreement_finds_an_adversarial_source():
    """With sign_recovery="agreement" a worse-than-random source gets accuracy below 0.5."""
    acc = np.array([0.85, 0.8, 0.75, 0.8, 0.25])
    data = make_label_matrix(20000, 5, 2, coverage=0.8, accuracy=acc, random_state=3)
    model = Triplet(sign_recovery="agreement").fit(data.L)
    assert np.abs(model.source_accuracy_ - acc).max() < 0.03
    assert Triplet().fit(data.L).source_accuracy_[4] > 0.5  # all_positive cannot see it


def test_sampled_triplets_are_deterministic_and_close():
    """A random sample of triplets is reproducible under random_state and close to all triplets."""
    data = make_label_matrix(10000, 14, 2, coverage=0.6, accuracy=(0.6, 0.9), random_state=4)
    full = Triplet().fit(data.L).source_accuracy_
    a = Triplet(max_triplets=20, random_state=5).fit(data.L).source_accuracy_
    b = Triplet(max_triplets=20, random_state=5).fit(data.L).source_accuracy_
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - full).max() < 0.04


def test_source_without_overlaps_falls_back():
    """A source that never votes with the others gets no triplet and the median accuracy of the rest."""
    data = make_label_matrix(3000, 5, 2, coverage=0.7, accuracy=0.8, random_state=6)
    votes = np.asarray(data.L).copy()
    lonely = np.full(3000, -1)
    lonely[:20] = data.y[:20]
    votes[:20, :5] = -1
    model = Triplet().fit(np.column_stack([votes, lonely]), n_classes=2)
    assert model.n_triplets_[5] == 0
    assert model.source_accuracy_[5] == pytest.approx(np.median(model.source_accuracy_[:5]))


def test_marginal_confusion_reproduces_margins():
    """For k = 2 the joint table has the class balance, the vote shares and the accuracy as margins."""
    alpha = np.array([0.8, 0.7])
    shares = np.array([[0.4, 0.6], [0.55, 0.45]])
    prior = np.array([0.45, 0.55])
    joint = marginal_confusion(alpha, shares, prior) * prior[None, :, None]
    np.testing.assert_allclose(joint.sum(axis=2), np.tile(prior, (2, 1)))
    np.testing.assert_allclose(joint.sum(axis=1), shares)
    np.testing.assert_allclose(np.trace(joint, axis1=1, axis2=2), alpha)


def test_marginal_confusion_multiclass_is_a_distribution():
    """For k > 2 the fitted confusions are row-stochastic and keep the accuracy ordering."""
    alpha = np.array([0.9, 0.6, 0.4])
    shares = np.full((3, 3), 1 / 3)
    conf = marginal_confusion(alpha, shares, np.full(3, 1 / 3))
    np.testing.assert_allclose(conf.sum(axis=2), 1.0)
    diag = np.diagonal(conf, axis1=1, axis2=2).mean(axis=1)
    assert diag[0] > diag[1] > diag[2]


def test_class_balance_model_estimate():
    """The "model" class balance recovers a skewed prior from symmetric sources."""
    data = make_label_matrix(20000, 8, 2, coverage=0.7, accuracy=(0.65, 0.9), class_balance=[0.7, 0.3],
                             random_state=7)
    model = Triplet(class_balance_method="model").fit(data.L)
    np.testing.assert_allclose(model.class_balance_, [0.7, 0.3], atol=0.03)


def test_sparse_storage_gives_same_model(binary):
    """Fitting on sparse storage gives the same confusions as dense storage."""
    dense = Triplet().fit(binary.L)
    sparse = Triplet().fit(binary.L.as_sparse())
    np.testing.assert_allclose(dense.confusion_, sparse.confusion_)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"aggregate": "mode"}, "aggregate"),
        ({"max_triplets": 0}, "max_triplets"),
        ({"min_denominator": -0.1}, "min_denominator"),
        ({"moments": "raw"}, "moments"),
        ({"sign_recovery": "none"}, "sign_recovery"),
    ],
)
def test_bad_parameters_raise_validation_error(params, match):
    """Bad parameters raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match=match):
        Triplet(**params).fit(np.array([[0, 1, 1], [1, 1, 0]]), n_classes=2)


def test_needs_three_sources():
    """Fitting on two sources raises ValidationError (a triplet needs three)."""
    with pytest.raises(ValidationError, match="at least 3 sources"):
        Triplet().fit(LabelMatrix(np.array([[0, 1], [1, 1]]), n_classes=2))


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "k"), [("wrench_youtube", 2), ("wrench_trec", 6)])
def test_wrench_test_accuracy_not_below_majority_vote(dataset, accuracy_ties_split, name, k):
    """Fitted on WRENCH train votes, test accuracy (ties split) is at least majority vote's on the same split."""
    root = dataset(name)
    train, _ = load_wrench(root, "train")
    test, gold = load_wrench(root, "test")
    if name == "wrench_trec":
        train = train[:4965]  # drop the appended gold items
    acc = accuracy_ties_split(Triplet().fit(train, n_classes=k).predict_proba(test), gold)
    mv = accuracy_ties_split(MajorityVote().fit(train, n_classes=k).predict_proba(test), gold)
    assert acc >= mv
