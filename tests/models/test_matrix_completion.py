"""Tests of the matrix-completion label model (MeTaL-style)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab._core import LabelMatrix
from weaklab.errors import NotFittedError, ValidationError
from weaklab.models import MajorityVote, MatrixCompletion
from weaklab.models.matrix_completion import vote_overlaps
from weaklab.testing import label_model_checks

ACC = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.58])
COV = np.array([0.3, 0.5, 0.7, 0.9, 0.6, 0.8, 0.9, 1.0])


def make_votes(n, acc, cov, *, k=2, seed=0, balance=None):
    """Independent sources: correct with probability ``acc``, else a uniform wrong class."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=balance)
    m = len(acc)
    wrong = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    votes = np.where(rng.random((n, m)) < np.asarray(acc), y[:, None], wrong)
    votes = np.where(rng.random((n, m)) < np.asarray(cov), votes, -1)
    return votes, y


def load_wrench(root, split):
    entries = json.loads((root / f"{split}.json").read_text())
    votes = np.array([e["weak_labels"] for e in entries.values()])
    gold = np.array([e["label"] for e in entries.values()])
    return votes, gold


@pytest.fixture(scope="module")
def binary():
    return make_votes(4000, ACC, COV, seed=1)


@pytest.mark.parametrize(("name", "check"), list(label_model_checks(MatrixCompletion())))
def test_conformance(name, check):
    """MatrixCompletion passes every label-model conformance check."""
    check()


def test_fit_returns_self_and_rows_sum_to_one(binary):
    """fit returns the model itself and predict_proba gives (n, k) rows summing to 1."""
    votes, _ = binary
    model = MatrixCompletion()
    assert model.fit(votes, n_classes=2) is model
    proba = model.predict_proba(votes)
    assert proba.shape == (votes.shape[0], 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_predict_proba_leaves_model_unchanged(binary):
    """predict_proba does not modify any learned array."""
    votes, _ = binary
    model = MatrixCompletion().fit(votes, n_classes=2)
    before = {k: v.copy() for k, v in model.to_state()["arrays"].items()}
    model.predict_proba(votes[:100])
    for name, value in model.to_state()["arrays"].items():
        np.testing.assert_array_equal(value, before[name])


def test_all_abstain_row_gets_class_balance(binary):
    """An item with no vote gets exactly the learned class balance."""
    votes, _ = binary
    model = MatrixCompletion().fit(votes, n_classes=2, class_balance=[0.3, 0.7])
    proba = model.predict_proba(np.full((2, votes.shape[1]), -1))
    np.testing.assert_allclose(proba, [[0.3, 0.7], [0.3, 0.7]])


def test_unregularised_fit_recovers_accuracies():
    """Without the L2 pull (l2=0) the learned accuracies match the true ones on 20k items."""
    votes, _ = make_votes(20000, ACC, COV, seed=9)
    model = MatrixCompletion(l2=0.0).fit(votes, n_classes=2)
    assert np.abs(model.source_accuracy_ - ACC).max() < 0.025


def test_beats_majority_vote(binary):
    """On independent sources of differing accuracy the default model beats majority vote."""
    votes, y = binary
    model = MatrixCompletion().fit(votes, n_classes=2)
    acc = (model.predict(votes, random_state=0) == y).mean()
    mv = (MajorityVote().fit(votes, n_classes=2).predict(votes, random_state=0) == y).mean()
    assert acc >= mv + 0.01


def test_multiclass_beats_majority_vote():
    """With k = 4 classes the model still beats majority vote."""
    votes, y = make_votes(5000, ACC, COV, k=4, seed=2)
    model = MatrixCompletion().fit(votes, n_classes=4)
    acc = (model.predict(votes, random_state=0) == y).mean()
    mv = (MajorityVote().fit(votes, n_classes=4).predict(votes, random_state=0) == y).mean()
    assert acc >= mv


def test_row_and_source_order_equivariance(binary):
    """Permuting items or sources permutes the soft labels accordingly."""
    votes, _ = binary
    base = MatrixCompletion().fit(votes, n_classes=2).predict_proba(votes)
    rows = np.random.default_rng(3).permutation(votes.shape[0])
    by_rows = MatrixCompletion().fit(votes[rows], n_classes=2).predict_proba(votes[rows])
    np.testing.assert_allclose(by_rows, base[rows], atol=1e-8)
    cols = np.array([3, 0, 7, 1, 6, 2, 5, 4])
    by_cols = MatrixCompletion().fit(votes[:, cols], n_classes=2).predict_proba(votes[:, cols])
    np.testing.assert_allclose(by_cols, base, atol=1e-8)


def test_sparse_and_dense_storage_agree(binary):
    """Sparse and dense storage of the same votes give the same model and soft labels."""
    votes, _ = binary
    dense = LabelMatrix(votes, n_classes=2)
    a = MatrixCompletion().fit(dense)
    b = MatrixCompletion().fit(dense.as_sparse())
    np.testing.assert_allclose(a.mu_, b.mu_)
    np.testing.assert_allclose(a.predict_proba(dense), b.predict_proba(dense.as_sparse()), atol=1e-12)


def test_vote_overlaps_match_one_hot_product():
    """vote_overlaps equals X^T X of the one-hot votes, for dense and sparse storage."""
    votes, _ = make_votes(300, ACC[:5], COV[:5], k=3, seed=4)
    onehot = (votes[:, :, None] == np.arange(3)).reshape(300, -1).astype(float)
    L = LabelMatrix(votes, n_classes=3)
    np.testing.assert_array_equal(vote_overlaps(L), onehot.T @ onehot)
    np.testing.assert_array_equal(vote_overlaps(L.as_sparse()), onehot.T @ onehot)


def test_state_round_trip(binary, tmp_path):
    """to_state/from_state and save/load give a model with identical predictions."""
    votes, _ = binary
    model = MatrixCompletion(dependencies=[(0, 1)]).fit(votes, n_classes=2)
    again = MatrixCompletion.from_state(model.to_state())
    np.testing.assert_array_equal(again.predict_proba(votes), model.predict_proba(votes))
    loaded = MatrixCompletion.load(model.save(tmp_path / "mc"))
    np.testing.assert_array_equal(loaded.predict_proba(votes), model.predict_proba(votes))


def test_not_fitted_error():
    """predict_proba before fit raises NotFittedError."""
    with pytest.raises(NotFittedError):
        MatrixCompletion().predict_proba(np.zeros((2, 3), dtype=int))


def test_class_balance_from_gold_and_given(binary):
    """A given class balance is kept; otherwise gold labels set it."""
    votes, y = binary
    given = MatrixCompletion().fit(votes, n_classes=2, class_balance=[0.2, 0.8])
    np.testing.assert_allclose(given.class_balance_, [0.2, 0.8])
    gold = np.full(votes.shape[0], -1)
    gold[:1000] = y[:1000]
    from_gold = MatrixCompletion().fit(votes, n_classes=2, gold=gold)
    expected = np.bincount(y[:1000], minlength=2) / 1000
    np.testing.assert_allclose(from_gold.class_balance_, expected, atol=2e-3)


def test_model_class_balance_estimate_tracks_skew():
    """The "model" class-balance estimate moves towards a skewed true balance."""
    votes, _ = make_votes(6000, ACC, COV, seed=5, balance=[0.75, 0.25])
    model = MatrixCompletion(class_balance_method="model").fit(votes, n_classes=2)
    assert abs(model.class_balance_[0] - 0.75) < 0.05


def test_dependencies_are_not_double_counted():
    """Declaring copies of a weak source as dependencies restores accuracy lost to them."""
    rng = np.random.default_rng(6)
    votes, y = make_votes(6000, [0.8, 0.78, 0.75, 0.6], [0.9, 0.9, 0.9, 1.0], seed=6)
    copies = np.where(rng.random((6000, 4)) < 0.95, votes[:, [3]], 1 - votes[:, [3]])
    L = np.hstack([votes, copies])
    pairs = [(i, j) for i in (3, 4, 5, 6, 7) for j in (3, 4, 5, 6, 7) if i < j]
    plain = (MatrixCompletion().fit(L, n_classes=2).predict(L, random_state=0) == y).mean()
    aware = MatrixCompletion(dependencies=pairs).fit(L, n_classes=2)
    aware_acc = (aware.predict(L, random_state=0) == y).mean()
    assert aware_acc >= plain + 0.03
    assert aware.source_groups_[3] == aware.source_groups_[7] != aware.source_groups_[0]


def test_dependencies_by_name_and_edges():
    """Dependencies may be given as names or as (i, j, strength) edges."""
    votes, _ = make_votes(500, ACC[:4], COV[:4], seed=7)
    L = LabelMatrix(votes, n_classes=2, source_names=["a", "b", "c", "d"])
    by_name = MatrixCompletion(dependencies=[("a", "c")]).fit(L)
    by_edge = MatrixCompletion(dependencies=[(2, 0, 0.4)]).fit(L)
    np.testing.assert_array_equal(by_name.dependencies_, [[0, 2]])
    np.testing.assert_array_equal(by_edge.dependencies_, [[0, 2]])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"dependencies": [(0, 0)]}, "dependencies"),
        ({"dependencies": [(0, 9)]}, "dependencies"),
        ({"dependencies": [("zz", 1)]}, "unknown source"),
        ({"dependencies": "ab"}, "dependencies"),
        ({"prec_init": 1.5}, "prec_init"),
        ({"l2": -1.0}, "l2"),
        ({"class_balance_method": "votes"}, "class_balance_method"),
    ],
)
def test_bad_parameters_raise_validation_error(params, match):
    """Bad parameters raise ValidationError naming the parameter."""
    votes, _ = make_votes(200, ACC[:4], COV[:4], seed=8)
    with pytest.raises(ValidationError, match=match):
        MatrixCompletion(**params).fit(votes, n_classes=2)


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "k"), [
    ("wrench_youtube", 2),
    pytest.param("wrench_trec", 6, marks=pytest.mark.xfail(
        strict=True, reason="issue 10: MatrixCompletion loses to majority vote on TREC's sparse one-class LFs "
                            "(60.2 vs 61.1 % expected accuracy)")),
])
def test_wrench_test_accuracy_not_below_majority_vote(dataset, accuracy_ties_split, name, k):
    """Fitted on WRENCH train votes, test accuracy (ties split) is at least majority vote's on the same split."""
    root = dataset(name)
    train, _ = load_wrench(root, "train")
    test, gold = load_wrench(root, "test")
    if name == "wrench_trec":
        train = train[:4965]  # drop the appended gold items
    acc = accuracy_ties_split(MatrixCompletion().fit(train, n_classes=k).predict_proba(test), gold)
    mv = accuracy_ties_split(MajorityVote().fit(train, n_classes=k).predict_proba(test), gold)
    assert acc >= mv
