"""``fit(..., gold_weight=...)``: weighted gold is an unbiased sample of the items however it was chosen.

The case it exists for: an active-learning strategy asks about the items the label model gets wrong, and the
random draws beside them come from the easy items the picks left. Unweighted, a candidate's score on that gold
is far from its accuracy on all items; weighted by inverse inclusion probabilities it is an estimate of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.models import AutoLabelModel, DawidSkene, MajorityVote, WeightedMajorityVote
from weaklab.synthetic import make_label_matrix

N = 1500


@pytest.fixture(scope="module")
def data():
    return make_label_matrix(N, 7, coverage=(0.3, 0.7), accuracy=(0.6, 0.85), random_state=3)


def _hard_plus_random(data, n_hard=100, n_random=150, seed=0):
    """Gold on ``n_hard`` items majority vote gets wrong (weight 1) and a uniform draw from the rest."""
    pred = MajorityVote().fit(data.L).predict(data.L, tie_break="random", random_state=0)
    wrong = np.flatnonzero(pred != data.y)
    rng = np.random.default_rng(seed)
    hard = rng.choice(wrong, size=n_hard, replace=False)
    rest = np.setdiff1d(np.arange(N), hard)
    drawn = rng.choice(rest, size=n_random, replace=False)
    gold = np.full(N, -1)
    gold[hard], gold[drawn] = data.y[hard], data.y[drawn]
    weight = np.zeros(N)
    weight[hard], weight[drawn] = 1.0, rest.size / n_random
    return gold, weight


def _scored_accuracy(model: AutoLabelModel, name: str) -> float:
    row = model.scores_[model.scores_["candidate"] == name]
    return float(row["accuracy"].iloc[0])


def test_weighted_score_estimates_the_pool_accuracy_unweighted_does_not(data):
    """A candidate's accuracy as scored on weighted gold is its accuracy on all items (hard picks included)."""
    proba = MajorityVote().fit(data.L).predict_proba(data.L)
    tied = proba >= proba.max(axis=1, keepdims=True) - 1e-9
    pool = float(np.mean(tied[np.arange(N), data.y] / tied.sum(axis=1)))  # ties split, as scores_ counts them
    errors_w, errors_u = [], []
    for seed in range(3):
        gold, weight = _hard_plus_random(data, seed=seed)
        cands = [MajorityVote(), WeightedMajorityVote()]
        weighted = AutoLabelModel(candidates=cands, cv=3, random_state=0).fit(data.L, gold=gold, gold_weight=weight)
        plain = AutoLabelModel(candidates=cands, cv=3, random_state=0).fit(data.L, gold=gold)
        errors_w.append(_scored_accuracy(weighted, "MajorityVote") - pool)
        errors_u.append(_scored_accuracy(plain, "MajorityVote") - pool)
    assert abs(np.mean(errors_w)) < 0.02
    assert np.mean(errors_u) < -0.15  # the hard picks drag the unweighted score far below the pool accuracy


def test_equal_weights_change_nothing(data):
    """Equal weights are no weights: same choice and soft labels as the unweighted fit."""
    gold, _ = _hard_plus_random(data, n_hard=0, n_random=150)
    cands = [MajorityVote(), WeightedMajorityVote(), DawidSkene(random_state=0)]
    a = AutoLabelModel(candidates=cands, random_state=0).fit(data.L, gold=gold)
    b = AutoLabelModel(candidates=cands, random_state=0).fit(data.L, gold=gold, gold_weight=np.full(N, 7.0))
    assert a.selected_ == b.selected_
    np.testing.assert_array_equal(a.predict_proba(data.L), b.predict_proba(data.L))


def test_effective_sample_size_counts_toward_min_gold(data):
    """Gold whose weight sits on a few items counts as few: below min_gold the no-gold choice is made."""
    gold, weight = _hard_plus_random(data, n_hard=60, n_random=10)
    model = AutoLabelModel(candidates=[MajorityVote(), DawidSkene()], min_gold=30, random_state=0)
    model.fit(data.L, gold=gold, gold_weight=weight)
    assert model.criterion_ != "gold"
    assert "effective sample size" in model.reason_


@pytest.mark.parametrize("model", [MajorityVote(), WeightedMajorityVote()])
def test_class_balance_counts_are_weighted(data, model):
    """Models that take the class balance from gold counts weigh them (a gold of class 1 only, upweighted)."""
    gold = np.full(N, -1)
    gold[:200] = 0
    gold[200:260] = 1
    weight = np.where(np.arange(N) < 200, 0.1, 1.0)
    plain = np.asarray(type(model)().fit(data.L, gold=gold).class_balance_)
    weighted = np.asarray(type(model)().fit(data.L, gold=gold, gold_weight=weight).class_balance_)
    assert weighted[1] > plain[1] + 0.05


def test_fitted_model_keeps_no_weights(data):
    """The weights are used during fit only: nothing per item stays on the fitted model or its state."""
    gold, weight = _hard_plus_random(data, n_hard=50, n_random=100)
    model = MajorityVote().fit(data.L, gold=gold, gold_weight=weight)
    assert "_fit_gold_weight" not in vars(model)
    assert "gold_weight" not in str(model.to_state()["params"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"gold_weight": np.ones(5)}, "gold_weight: expected an array-like of shape (1500,)"),
    ({"gold_weight": np.r_[-1.0, np.ones(N - 1)]}, "gold_weight: expected finite non-negative weights, got -1.0 at"),
    ({"gold_weight": np.r_[np.nan, np.ones(N - 1)]}, "gold_weight: expected finite non-negative weights, got nan"),
    ({"gold_weight": np.zeros(N)}, "gold_weight: expected a positive weight on at least one gold item"),
    ({"gold_weight": ["a"] * N}, "gold_weight: expected an array-like of shape (1500,) of non-negative numbers"),
    ({"gold_weight": np.ones(N), "gold_sampling": "active"}, "gold_sampling: expected 'random' (the default) with"),
])
def test_bad_gold_weight_is_named(data, kwargs, message):
    gold = np.where(np.arange(N) < 50, data.y, -1)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MajorityVote().fit(data.L, gold=gold, **kwargs)


def test_gold_weight_without_gold_is_named(data):
    with pytest.raises(ValidationError, match="gold_weight: expected None when gold is None"):
        AutoLabelModel().fit(data.L, gold_weight=np.ones(N))
