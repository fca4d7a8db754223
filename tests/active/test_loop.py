"""ActiveLoop: selection never repeats items, answers are validated all-or-nothing and recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import ValidationError
from weaklab.active import ANSWER_COLUMNS, ActiveLoop


def _proba(n: int = 12, k: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(k), size=n)


def _loop_with_answers() -> tuple[ActiveLoop, np.ndarray]:
    loop = ActiveLoop("entropy", budget_per_round=4, random_state=0)
    first = loop.select(proba=_proba())
    loop.incorporate(first, [0, 1, 2, 0], origin="alice")
    return loop, first


def test_select_never_returns_answered_or_pending_items():
    """Successive rounds return disjoint items until the pool is used up."""
    loop = ActiveLoop("entropy", budget_per_round=4, random_state=0)
    a = loop.select(proba=_proba())
    b = loop.select(proba=_proba())  # a still pending
    loop.incorporate(dict(zip(a.tolist(), [0, 1, 2, 0])))
    c = loop.select(proba=_proba())
    assert len(set(a) | set(b) | set(c)) == 12
    assert loop.round_ == 3 and loop.pending_.tolist() == sorted(b.tolist() + c.tolist())


def test_budget_larger_than_pool_is_an_error_unless_partial():
    """Asking for more items than remain raises naming the budget; allow_partial clips and then returns none."""
    loop = ActiveLoop("margin", budget_per_round=5, random_state=0)
    loop.select(proba=_proba(n=8))
    with pytest.raises(ValidationError, match=r"^budget_per_round: expected at most 3 .*got 5"):
        loop.select(proba=_proba(n=8))
    assert loop.round_ == 1 and loop.pending_.size == 5
    partial = ActiveLoop("margin", budget_per_round=5, allow_partial=True, random_state=0)
    partial.select(proba=_proba(n=8))
    assert partial.select(proba=_proba(n=8)).size == 3
    assert partial.select(proba=_proba(n=8)).size == 0


def test_answers_recorded_with_round_time_and_origin():
    """answers_ holds one row per answer with its item, label, round, UTC time and origin."""
    loop, first = _loop_with_answers()
    frame = loop.answers_
    assert tuple(frame.columns) == ANSWER_COLUMNS
    assert frame["item"].tolist() == first.tolist() and frame["label"].tolist() == [0, 1, 2, 0]
    assert (frame["round"] == 1).all() and (frame["origin"] == "alice").all()
    assert all(t.tzinfo is not None for t in frame["answered_at"])
    gold = loop.gold()
    assert gold[first].tolist() == [0, 1, 2, 0] and (np.delete(gold, first) == -1).all()


@pytest.mark.parametrize(
    ("answers", "labels", "message"),
    [
        ({0: 7}, None, r"^labels: expected class ids in 0\.\.2"),
        ({99: 0}, None, r"^answers: expected item indices in 0\.\.11"),
        ({"x": 0}, None, r"^answers: expected integer item indices"),
        ([1, 2], [0], r"^labels: expected 2 labels"),
        ("bad", None, r"^answers: expected a mapping"),
    ],
)
def test_bad_answers_raise_and_leave_records_intact(answers, labels, message):
    """Malformed answers raise a ValidationError naming the parameter and change nothing recorded."""
    loop, _ = _loop_with_answers()
    second = loop.select(proba=_proba())
    before, pending = loop.records_, loop.pending_.tolist()
    if isinstance(answers, dict) and 0 in answers:  # aim the bad label at an item that was asked
        answers = {int(second[0]): 7}
    with pytest.raises(ValidationError, match=message):
        loop.incorporate(answers, labels)
    assert loop.records_ is before and loop.pending_.tolist() == pending


def test_answer_to_unasked_or_answered_item_is_rejected_whole():
    """An answer for an item never asked or already answered rejects the whole call, naming the reason."""
    loop, first = _loop_with_answers()
    second = loop.select(proba=_proba())
    asked = set(first.tolist()) | set(second.tolist())
    never = next(i for i in range(12) if i not in asked)
    with pytest.raises(ValidationError, match=r"was never asked"):
        loop.incorporate({int(second[0]): 1, never: 1})
    with pytest.raises(ValidationError, match=r"was already answered"):
        loop.incorporate({int(first[0]): 1})
    assert loop.n_answered_ == 4 and set(loop.pending_.tolist()) == set(second.tolist())


def test_series_answers_and_release():
    """A Series maps items to labels; released items return to the pool and can be asked again."""
    loop = ActiveLoop("least_confidence", budget_per_round=3, random_state=0)
    items = loop.select(proba=_proba())
    loop.incorporate(pd.Series([1], index=[int(items[0])]))
    loop.release(items[1:])
    assert loop.pending_.size == 0 and loop.n_answered_ == 1
    with pytest.raises(ValidationError, match=r"^items: expected items asked"):
        loop.release(items[1:])
    again = loop.select(proba=_proba(), n=11)
    assert set(items[1:].tolist()) <= set(again.tolist())


def test_training_targets_use_answers_with_weight():
    """Answered rows become one-hot weighing answer_weight / weak_weight times a weak row; mean weight 1."""
    loop = ActiveLoop("entropy", budget_per_round=2, answer_weight=3.0, weak_weight=1.0, random_state=0)
    proba = _proba()
    items = loop.select(proba=proba)
    loop.incorporate(items, [2, 0])
    targets, weights = loop.training_targets(proba)
    np.testing.assert_array_equal(targets[items], [[0, 0, 1], [1, 0, 0]])
    rest = np.setdiff1d(np.arange(12), items)
    np.testing.assert_array_equal(targets[rest], proba[rest])
    np.testing.assert_allclose(weights[items] / weights[rest][0], [3.0, 3.0])
    assert np.allclose(weights[rest], weights[rest][0]) and weights.mean() == pytest.approx(1.0)
    excluded = np.zeros(12, dtype=bool)
    excluded[rest[:4]] = True
    excluded[items[0]] = True  # an answered item is never left out
    _, weights = loop.training_targets(proba, exclude=excluded)
    assert (weights[rest[:4]] == 0).all() and weights[items[0]] > 0
    assert weights[weights > 0].mean() == pytest.approx(1.0)


def test_explore_share_is_drawn_at_random_and_recorded():
    """A fifth of each round is drawn uniformly at random; those answers are marked and form gold(at_random_only)."""
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=200)
    loop = ActiveLoop("entropy", budget_per_round=10, warm_start=0, random_state=0)
    items = loop.select(proba=proba)
    by_entropy = np.argsort((proba * np.log(proba)).sum(axis=1), kind="stable")  # most uncertain first
    top = by_entropy[:8]
    assert set(top.tolist()) <= set(items.tolist())  # the strategy's 8
    loop.incorporate(items, np.zeros(10, dtype=int))
    drawn = loop.answers_.loc[loop.answers_["at_random"], "item"].to_numpy()
    assert drawn.size == 2 and not set(drawn.tolist()) & set(top.tolist())
    assert np.flatnonzero(loop.gold(at_random_only=True) >= 0).tolist() == sorted(drawn.tolist())
    assert loop.gold_sampling == "active"
    plain = ActiveLoop("entropy", budget_per_round=10, explore=0.0, warm_start=0, random_state=0)
    assert set(plain.select(proba=proba).tolist()) == set(by_entropy[:10].tolist())
    every = ActiveLoop("random", budget_per_round=10, random_state=0)
    every.incorporate(every.select(proba=proba), np.zeros(10, dtype=int))
    assert every.answers_["at_random"].all() and every.gold_sampling == "random"


def test_warm_start_draws_at_random_until_enough_random_answers():
    """With warm_start=15 and rounds of 10: 10 then 5 then the explore share (2) are drawn at random."""
    proba = np.random.default_rng(1).dirichlet(np.ones(3), size=200)
    loop = ActiveLoop("entropy", budget_per_round=10, warm_start=15, random_state=0)
    drawn = []
    for _ in range(3):
        items = loop.select(proba=proba)
        loop.incorporate(items, np.zeros(items.size, dtype=int))
        drawn.append(int(loop.answers_["at_random"].sum()) - sum(drawn))
    assert drawn == [10, 5, 2]
    pending = ActiveLoop("entropy", budget_per_round=10, warm_start=15, random_state=0)
    asked = np.concatenate([pending.select(proba=proba), pending.select(proba=proba)])  # none answered yet
    pending.incorporate(asked, np.zeros(20, dtype=int))
    assert pending.answers_["at_random"].sum() == 15  # unanswered random draws count toward the warm start


def test_weak_weight_auto_falls_with_the_weak_labels_accuracy():
    """Weak labels that the random answers contradict weigh less against an answer than ones they confirm."""
    proba = np.tile([0.9, 0.1], (100, 1))
    weights = []
    for answer in (0, 1):
        loop = ActiveLoop("random", budget_per_round=40, random_state=0)
        items = loop.select(label_proba=proba)
        loop.incorporate(items, np.full(40, answer))
        _, w = loop.training_targets(proba)
        weights.append(w[np.setdiff1d(np.arange(100), items)][0] / w[items][0])
    assert weights[0] > 0.5 > 0.1 > weights[1]
    assert loop.weak_weight_ == pytest.approx(0.05)  # the floor: weak labels never vanish


def test_inputs_of_different_sizes_are_rejected():
    """select with inputs of different pool sizes, or a pool that changed, raises a ValidationError."""
    loop = ActiveLoop("density_weighted", budget_per_round=2, random_state=0)
    with pytest.raises(ValidationError, match=r"same number of items"):
        loop.select(proba=_proba(n=12), X=np.zeros((11, 2)))
    loop.select(proba=_proba(n=12), X=np.random.default_rng(0).normal(size=(12, 2)))
    with pytest.raises(ValidationError, match=r"the loop's pool=12"):
        loop.select(proba=_proba(n=10))


def test_constructor_validates_parameters():
    """Bad constructor arguments raise ValidationErrors naming the parameter."""
    with pytest.raises(ValidationError, match=r"^strategy: expected one of"):
        ActiveLoop("best")
    with pytest.raises(ValidationError, match=r"^budget_per_round: expected an integer >= 1"):
        ActiveLoop("entropy", 0)
    with pytest.raises(ValidationError, match=r"^diversity: expected a finite real number in \[0, 1\]"):
        ActiveLoop("entropy", 5, diversity=2.0)


def test_same_seed_same_rounds():
    """Two loops with the same seed select the same items round after round."""
    X = np.random.default_rng(1).normal(size=(30, 3))
    runs = []
    for _ in range(2):
        loop = ActiveLoop("random", budget_per_round=5, random_state=7)
        runs.append([loop.select(X=X).tolist() for _ in range(3)])
    assert runs[0] == runs[1]
