"""simulate: the learning curve improves with answers; oracle failures are clear and keep answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.active import CURVE_COLUMNS, ActiveLoop, OracleError, simulate
from weaklab.endmodel import SoftLabelClassifier
from weaklab.models import DawidSkene, MajorityVote
from weaklab.synthetic import make_label_matrix


def _task(seed: int = 0):
    """Four-class Gaussian features with sparse, poor sources (the weak labels alone train a weak model)."""
    rng = np.random.default_rng(seed)
    n_pool, n_test, k, d = 600, 400, 4, 10
    truth = make_label_matrix(n_pool, 6, k, coverage=0.05, accuracy=(0.35, 0.45), random_state=seed)
    means = rng.normal(0, 1.0, size=(k, d))
    y_test = rng.integers(0, k, size=n_test)
    X = means[truth.y] + rng.normal(0, 1.0, size=(n_pool, d))
    X_test = means[y_test] + rng.normal(0, 1.0, size=(n_test, d))
    return truth.L, truth.y, X, X_test, y_test


def _run(loop, oracle, rounds=4):
    L, y, X, X_test, y_test = _task()
    return simulate(loop, L, X, oracle, label_model=DawidSkene(random_state=0),
                    end_model=SoftLabelClassifier(LogisticRegression(max_iter=500)), rounds=rounds,
                    X_test=X_test, y_test=y_test, y_pool=y)


def test_simulate_improves_the_test_score():
    """Forty answers raise the end model's test accuracy by at least 0.2 over the weak-label start."""
    y = _task()[1]
    curve = _run(ActiveLoop("density_weighted", budget_per_round=10, random_state=0), lambda i: y[i])
    assert tuple(curve.columns) == CURVE_COLUMNS
    assert curve["n_answered"].tolist() == [0, 10, 20, 30, 40]
    assert curve["score"].iloc[-1] >= curve["score"].iloc[0] + 0.2
    assert curve["seconds"].is_monotonic_increasing


def test_simulate_accepts_per_round_budgets():
    """A sequence of budgets sets the answers of each round."""
    y = _task()[1]
    curve = _run(ActiveLoop("random", random_state=0), lambda i: y[i], rounds=[5, 15])
    assert curve["n_answered"].tolist() == [0, 5, 20]


def test_raising_oracle_names_round_and_items_and_keeps_answers():
    """An oracle that raises in round 2 gives an OracleError naming the round; round 1's answers stay."""
    y = _task()[1]
    calls = []

    def oracle(items):
        calls.append(items)
        if len(calls) == 2:
            raise RuntimeError("annotator went home")
        return y[items]

    loop = ActiveLoop("entropy", budget_per_round=5, random_state=0)
    with pytest.raises(OracleError, match=r"round 2 on items \[") as info:
        _run(loop, oracle)
    assert info.value.round == 2 and info.value.items.tolist() == calls[1].tolist()
    assert loop.n_answered_ == 5 and loop.answers_["item"].tolist() == calls[0].tolist()
    assert loop.pending_.size == 0


def test_oracle_labels_out_of_range_are_rejected():
    """An oracle answering a class id out of range raises a ValidationError naming the round; nothing is recorded."""
    loop = ActiveLoop("margin", budget_per_round=5, random_state=0)
    with pytest.raises(ValidationError, match=r"^round 1, items \[.*oracle: expected class ids in 0\.\.3"):
        _run(loop, lambda items: np.full(items.size, 9))
    assert loop.n_answered_ == 0 and loop.pending_.size == 0


def _imbalanced_task(seed: int):
    """Binary, 15 % positives, good sources (accuracy 0.8-0.9) on 30 % of the items: weak labels worth keeping."""
    rng = np.random.default_rng(seed)
    n, d = 1000, 20
    data = make_label_matrix(n, 8, 2, coverage=0.3, accuracy=(0.8, 0.9), class_balance=[0.85, 0.15],
                             random_state=seed)
    y_test = (rng.random(n) < 0.15).astype(int)
    means = rng.normal(0, 0.5, (2, d))
    X, X_test = means[data.y] + rng.normal(0, 1, (n, d)), means[y_test] + rng.normal(0, 1, (n, d))
    return data.L, data.y, X, X_test, y_test


@pytest.mark.parametrize("seed", range(5))
def test_first_strategy_round_keeps_good_weak_labels(seed):
    """With good weak labels, 50 answers (30 of them the strategy's hard picks) never lower the F1 of the start."""
    L, y, X, X_test, y_test = _imbalanced_task(seed)
    curve = simulate(ActiveLoop(budget_per_round=50, random_state=seed), L, X, lambda i: y[i],
                     label_model=MajorityVote(), end_model=SoftLabelClassifier(LogisticRegression()), rounds=1,
                     X_test=X_test, y_test=y_test, metric="f1")
    assert curve["score"].iloc[1] >= curve["score"].iloc[0] - 0.01


def test_label_model_accuracy_splits_ties():
    """The curve's label-model accuracy counts a tie among t classes as 1/t (the expectation of a random
    tie-break), not as the first class: an item with two disagreeing votes ties under majority vote, and the plain
    arg-max read it as class 0 (here every item is of class 1; items without a vote get the class most voted)."""
    votes = np.array([[-1, -1], [0, 1], [1, -1], [-1, 1]] * 25)
    y = np.ones(100, dtype=np.int64)
    X = np.random.default_rng(0).normal(size=(100, 2))
    curve = simulate(ActiveLoop("random", budget_per_round=5, random_state=0), votes, X, lambda i: y[i],
                     label_model=MajorityVote(), end_model=SoftLabelClassifier(LogisticRegression()), rounds=0,
                     X_test=X, y_test=y, y_pool=y)
    assert curve["label_model_accuracy"].iloc[0] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
