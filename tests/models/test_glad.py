"""Tests of GLAD (worker ability x item difficulty, Whitehill et al. 2009)."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.data import load_zheng
from weaklab.errors import ConvergenceWarning, NotFittedError, ValidationError
from weaklab.models import GLAD, MajorityVote
from weaklab.synthetic import make_crowd


def _accuracy(proba, y, mask=None):
    mask = np.ones(y.shape[0], dtype=bool) if mask is None else mask
    return float(np.mean(proba.argmax(axis=1)[mask] == y[mask]))


def _crowd(seed=0, n=3000, difficulty=(0.0, 0.5)):
    return make_crowd(n, 60, 5, 3, worker_accuracy=(0.35, 0.95), difficulty=difficulty, random_state=seed)


# ----------------------------------------------------------------------------- real data
# Zheng et al. (2017), Table 6, GLAD accuracy: D_Product 92.20, D_PosSent 95.20, S_Rel 53.59.
# Measured here: 92.75, 94.60, 50.81 (crowd-kit 1.4.2's GLAD: 92.83 in 437 s, 94.80 in 93 s).
# S_Rel misses the paper by 2.8 points: the converged MAP solution scores 50.8 (crowd-kit's
# JOSS paper: 51.1); the paper's looser stopping rule stops earlier on a better path (our run
# passes 56 % after 2 iterations, then declines).
@pytest.mark.realdata
@pytest.mark.parametrize(("name", "paper"), [
    ("d_jn-product", 0.9220),
    ("d_sentiment", 0.9520),
    pytest.param("s4_Relevance", 0.5359, marks=pytest.mark.xfail(
        strict=True, reason="issue 19: GLAD's converged MAP solution loses to majority vote on S_Rel "
                            "(50.8 vs 54.1 % expected accuracy; paper 53.59)")),
])
def test_zheng_accuracy_near_paper(dataset, accuracy_ties_split, published_floor, name, paper):
    """GLAD's training posteriors (ties split) reach the paper's GLAD accuracy less one standard error
    and majority vote on the same gold items."""
    data = load_zheng(dataset("crowd_zheng2017") / name)
    model = GLAD().fit(data.L)
    has = data.gold >= 0
    acc = accuracy_ties_split(model.train_proba_, data.gold, has)
    assert acc >= published_floor(paper, int(has.sum()))
    assert acc >= accuracy_ties_split(MajorityVote().fit(data.L).predict_proba(data.L), data.gold, has)


@pytest.mark.realdata
def test_zheng_product_beats_majority_vote(dataset, accuracy_ties_split):
    """On D_Product GLAD beats majority vote (89.66 %) by more than two points."""
    data = load_zheng(dataset("crowd_zheng2017") / "d_jn-product")
    has = data.gold >= 0
    glad = accuracy_ties_split(GLAD().fit(data.L).train_proba_, data.gold, has)
    mv = accuracy_ties_split(MajorityVote().fit(data.L).predict_proba(data.L), data.gold, has)
    assert glad >= mv + 0.02


# ----------------------------------------------------------------------------- properties
def test_beats_majority_vote_with_heterogeneous_workers():
    """With workers of accuracy 0.35-0.95 and item difficulty, GLAD beats majority vote by 3 points."""
    crowd = _crowd()
    glad = GLAD().fit(crowd.L)
    mv = MajorityVote().fit(crowd.L).predict(crowd.L, random_state=0)
    assert _accuracy(glad.train_proba_, crowd.y) >= np.mean(mv == crowd.y) + 0.03
    assert _accuracy(glad.predict_proba(crowd.L), crowd.y) >= np.mean(mv == crowd.y) + 0.03


def test_ability_ranks_workers_by_accuracy():
    """Learned abilities rank workers like their true accuracies (Spearman > 0.9)."""
    crowd = _crowd()
    ability = GLAD().fit(crowd.L).worker_ability_
    rank = np.corrcoef(np.argsort(np.argsort(ability)), np.argsort(np.argsort(crowd.accuracy)))[0, 1]
    assert rank > 0.9


def test_planted_hard_items_get_higher_difficulty():
    """Items where workers guess 70 % of the time get a larger mean difficulty than easy items."""
    hard = np.zeros(3000)
    hard[::2] = 0.7
    crowd = _crowd(difficulty=hard)
    difficulty = GLAD().fit(crowd.L).item_difficulty_
    assert difficulty.shape == (3000,) and np.all(difficulty > 0)
    assert difficulty[hard > 0].mean() > 1.2 * difficulty[hard == 0].mean()


def test_loss_history_decreases():
    """The negative MAP objective never increases between EM iterations."""
    with pytest.warns(ConvergenceWarning):  # tol=0 runs to max_iter
        model = GLAD(tol=0.0, max_iter=30).fit(_crowd().L)
    history = model.loss_history_
    assert history.shape == (model.n_iter_,) == (30,) and not model.converged_
    assert np.all(np.diff(history) <= 1e-9)


def test_new_items_use_the_prior_difficulty():
    """predict_proba is the one-coin posterior at beta_0 = exp(log_beta_prior_mean), row by row."""
    crowd = _crowd(n=600)
    model = GLAD(log_beta_prior_mean=0.5).fit(crowd.L)
    dense = crowd.L.to_dense()
    beta_0 = np.exp(0.5)
    acc = 1.0 / (1.0 + np.exp(-model.worker_ability_ * beta_0))
    np.testing.assert_allclose(np.diagonal(model.confusion_, axis1=1, axis2=2), np.tile(acc[:, None], 3))
    np.testing.assert_allclose(model.confusion_.sum(axis=2), 1.0)
    row = dense[7]
    votes = np.flatnonzero(row >= 0)
    logp = np.log(model.class_balance_).copy()
    for j in votes:
        logp += np.where(np.arange(3) == row[j], np.log(acc[j]), np.log((1 - acc[j]) / 2))
    expected = np.exp(logp - logp.max())
    np.testing.assert_allclose(model.predict_proba(crowd.L)[7], expected / expected.sum(), atol=1e-10)
    np.testing.assert_allclose(model.predict_proba(dense[5:9])[2], model.predict_proba(crowd.L)[7])


def test_training_posteriors_use_learned_difficulties():
    """train_proba_ is a distribution per item that differs from the prior-difficulty predict_proba."""
    crowd = _crowd(n=600)
    model = GLAD().fit(crowd.L)
    assert model.train_proba_.shape == (600, 3)
    np.testing.assert_allclose(model.train_proba_.sum(axis=1), 1.0)
    assert np.abs(model.train_proba_ - model.predict_proba(crowd.L)).max() > 1e-3


def test_sparse_and_dense_storage_agree():
    """Fitting on dense storage (vote patterns) and sparse storage gives the same model."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    votes = np.where(rng.random((2000, 6)) < np.linspace(0.55, 0.95, 6), y[:, None], 1 - y[:, None])
    votes[rng.random((2000, 6)) < 0.3] = -1
    dense = LabelMatrix(votes, n_classes=2)
    a, b = GLAD().fit(dense), GLAD().fit(dense.as_sparse())
    np.testing.assert_allclose(a.worker_ability_, b.worker_ability_, atol=1e-6)
    np.testing.assert_allclose(a.train_proba_, b.train_proba_, atol=1e-6)
    np.testing.assert_allclose(a.item_difficulty_, b.item_difficulty_, rtol=1e-5)


def test_gold_is_clamped_and_helps():
    """Gold items get one-hot training posteriors, and gold on 20 % of items helps the others."""
    crowd = make_crowd(1500, 40, 3, 2, worker_accuracy=(0.3, 0.9), random_state=3)
    gold = np.full(1500, -1)
    gold[:300] = crowd.y[:300]
    plain = GLAD().fit(crowd.L)
    semi = GLAD().fit(crowd.L, gold=gold)
    np.testing.assert_array_equal(semi.train_proba_[:300].argmax(axis=1), crowd.y[:300])
    np.testing.assert_allclose(semi.train_proba_[:300].max(axis=1), 1.0)
    rest = np.arange(1500) >= 300
    assert _accuracy(semi.train_proba_, crowd.y, rest) >= _accuracy(plain.train_proba_, crowd.y, rest)


def test_fixed_class_balance_is_used():
    """A given class_balance is kept; by default the class prior is uniform."""
    L = _crowd(n=300).L
    assert np.allclose(GLAD().fit(L).class_balance_, 1 / 3)
    np.testing.assert_allclose(GLAD().fit(L, class_balance=[0.5, 0.3, 0.2]).class_balance_, [0.5, 0.3, 0.2])


def test_state_round_trip(tmp_path):
    """save/load restores a model with identical predictions and worker parameters."""
    crowd = _crowd(n=500)
    model = GLAD().fit(crowd.L)
    loaded = GLAD.load(model.save(tmp_path / "glad"))
    assert isinstance(loaded, GLAD)
    np.testing.assert_array_equal(loaded.worker_ability_, model.worker_ability_)
    np.testing.assert_array_equal(loaded.predict_proba(crowd.L), model.predict_proba(crowd.L))
    np.testing.assert_array_equal(loaded.loss_history_, model.loss_history_)
    assert loaded.converged_ == model.converged_


def test_errors():
    """Bad parameters and inputs raise ValidationError naming the parameter; predict before fit raises."""
    L = _crowd(n=200).L
    with pytest.raises(NotFittedError):
        GLAD().predict_proba(L)
    for params, name in [({"max_iter": 0}, "max_iter"), ({"alpha_prior_var": 0.0}, "alpha_prior_var"),
                         ({"tol": -1.0}, "tol"), ({"log_beta_prior_mean": "a"}, "log_beta_prior_mean"),
                         ({"random_state": 1.5}, "random_state")]:
        with pytest.raises(ValidationError, match=name):
            GLAD(**params).fit(L)
    model = GLAD().fit(L)
    with pytest.raises(ValidationError, match="sources"):
        model.predict_proba(np.zeros((3, 4), dtype=int))
    with pytest.raises(ValidationError, match="gold"):
        GLAD().fit(L, gold=np.zeros(5, dtype=int))
