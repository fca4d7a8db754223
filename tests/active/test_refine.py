"""Co-training of the weak labels with the end model's out-of-fold view (ActiveLoop(co_train=True))."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.active import MIN_CO_TRAIN_ANSWERS, ActiveLoop, combine_views, out_of_fold_proba
from weaklab.endmodel import SoftLabelClassifier


def _model() -> SoftLabelClassifier:
    return SoftLabelClassifier(LogisticRegression())


def _data(seed: int = 0):
    """Two separable classes; the weak labels are wrong (and unsure) on a third of class 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    X = np.c_[2.0 * y + rng.normal(0, 0.5, 300), rng.normal(0, 1, 300)]
    weak = np.eye(2)[y] * 0.8 + 0.1
    wrong = (y == 1) & (rng.random(300) < 0.33)
    weak[wrong] = [0.6, 0.4]
    return X, y, weak, wrong


def test_out_of_fold_proba_never_learns_an_item_from_its_own_label():
    X, _, weak, wrong = _data()
    p = out_of_fold_proba(_model(), X, weak, np.ones(300), random_state=0)
    assert p.shape == (300, 2) and np.allclose(p.sum(axis=1), 1.0)
    assert (p[wrong].argmax(axis=1) == 1).mean() > 0.9  # the features overrule the wrong weak labels


def test_out_of_fold_proba_fold_with_one_class_predicts_it_and_bad_weights_raise():
    X, _, _, _ = _data(1)
    one = np.tile([0.0, 1.0], (300, 1))
    assert np.array_equal(out_of_fold_proba(_model(), X, one, np.ones(300), random_state=0), one)
    with pytest.raises(ValidationError, match="weights"):
        out_of_fold_proba(_model(), X, one, -np.ones(300))


def test_combine_views_is_the_product_over_the_prior():
    lp = np.array([[0.6, 0.4], [0.5, 0.5], [0.9, 0.1]])
    mp = np.array([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
    out = combine_views(lp, mp, prior=[0.5, 0.5])
    expected = lp * mp / (lp * mp).sum(axis=1, keepdims=True)
    assert out == pytest.approx(expected)
    assert combine_views(lp, np.full((3, 2), 0.5), prior=[0.5, 0.5]) == pytest.approx(lp)  # uninformative view
    skewed = combine_views([[0.5, 0.5]], [[0.5, 0.5]], prior=[0.8, 0.2])  # both include the prior once
    assert skewed[0, 1] > 0.5
    with pytest.raises(ValidationError, match="model_proba"):
        combine_views(lp, mp[:2])


def test_co_train_carries_answers_to_similar_items_and_keeps_answers():
    X, y, weak, wrong = _data(2)
    loops = {flag: ActiveLoop("random", budget_per_round=40, co_train=flag, random_state=0) for flag in (False, True)}
    out = {}
    for flag, loop in loops.items():
        items = loop.select(proba=weak)
        loop.incorporate(items, y[items])
        out[flag] = loop.training_targets(weak, X=X, end_model=_model())
    (plain, w_plain), (co, w_co) = out[False], out[True]
    answered = loops[True].answered_
    assert loops[True].co_trained_ and not loops[False].co_trained_
    assert np.array_equal(co[answered], np.eye(2)[y[answered]]) and np.array_equal(w_co, w_plain)
    unanswered = np.setdiff1d(np.flatnonzero(wrong), answered)
    assert (co[unanswered].argmax(axis=1) == 1).mean() > 0.8  # corrected by the features' view
    assert (plain[unanswered].argmax(axis=1) == 1).mean() == 0.0
    acc = {k: float((v.argmax(axis=1) == y).mean()) for k, v in (("plain", plain), ("co", co))}
    assert acc["co"] > acc["plain"] + 0.05


def test_co_train_waits_for_answers_and_needs_the_end_model():
    X, y, weak, _ = _data(3)
    loop = ActiveLoop("random", budget_per_round=MIN_CO_TRAIN_ANSWERS - 1, random_state=0)
    items = loop.select(proba=weak)
    loop.incorporate(items, y[items])
    targets, _ = loop.training_targets(weak, X=X, end_model=_model())
    assert not loop.co_trained_ and np.array_equal(np.delete(targets, items, axis=0), np.delete(weak, items, axis=0))
    items = loop.select(proba=weak, n=1)
    loop.incorporate(items, y[items])
    loop.training_targets(weak)  # no X, no end model: the weak labels as they are
    assert not loop.co_trained_
    loop.training_targets(weak, X=X, end_model=_model())
    assert loop.co_trained_
    with pytest.raises(ValidationError, match="co_train"):
        ActiveLoop(co_train="yes")
