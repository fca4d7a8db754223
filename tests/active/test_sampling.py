"""Stochastic batches: recorded draw probabilities are exact and LURE weights remove the strategy's bias."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.active import (
    MIN_CV_ANSWERS,
    WEAK_WEIGHT_GRID,
    ActiveLoop,
    choose_weak_weight,
    draw_batch,
    lure_weights,
    rank_proposal,
    resample_answers,
)
from weaklab.endmodel import SoftLabelClassifier


def test_rank_proposal_orders_by_score_and_ignores_unavailable_items():
    """Weights fall with the rank, sum to 1 and are 0 off the available items."""
    scores = np.array([0.3, 0.9, 0.1, 0.5])
    w = rank_proposal(scores, np.array([True, True, True, False]), scale=1.0, random_state=0)
    assert w[3] == 0.0 and w.sum() == pytest.approx(1.0)
    assert w[1] > w[0] > w[2] > 0


def test_draw_batch_records_the_mixture_probability_of_each_draw():
    """Each recorded q equals explore/R + (1-explore) * proposal share among what was left at that draw."""
    proposal = np.array([0.5, 0.3, 0.2, 0.0, 0.0])
    items, q, left = draw_batch(proposal, 3, explore=0.5, random_state=1)
    assert len(set(items.tolist())) == 3 and left.tolist() == [5, 4, 3]
    mask = np.ones(5, dtype=bool)
    for i, qi, r in zip(items, q, left):
        expected = 0.5 / r + 0.5 * proposal[i] / proposal[mask].sum() if proposal[mask].sum() > 0 else 1 / r
        assert qi == pytest.approx(expected)
        mask[i] = False


def test_draw_batch_never_draws_unavailable_items():
    """Items marked unavailable are never drawn, even when the proposal favours them."""
    available = np.array([False, True, True, True])
    items, _, left = draw_batch([10.0, 0.0, 0.0, 1.0], 3, available=available, explore=0.1, random_state=0)
    assert sorted(items.tolist()) == [1, 2, 3] and left[0] == 3


def test_lure_weighted_mean_is_unbiased_where_the_plain_mean_is_not():
    """Over many skewed draws the LURE-weighted answer mean matches the pool mean; the plain mean does not."""
    rng = np.random.default_rng(0)
    n, m = 30, 6
    f = (np.arange(n) < 10).astype(float)  # the proposal prefers these items
    proposal = np.where(f > 0, 5.0, 1.0)
    weighted, plain = [], []
    for _ in range(1500):
        items, q, left = draw_batch(proposal, m, explore=0.2, random_state=rng)
        w = lure_weights(q, left, n)
        weighted.append(float(w @ f[items]) / m)
        plain.append(float(f[items].mean()))
    assert np.mean(weighted) == pytest.approx(f.mean(), abs=0.015)
    assert np.mean(plain) > f.mean() + 0.2


def test_lure_weights_are_one_for_uniform_draws_and_reject_bad_input():
    """Uniform sequential draws weigh 1; a probability of 0 is an error naming the parameter."""
    assert lure_weights([1 / 10, 1 / 9, 1 / 8], [10, 9, 8], 10) == pytest.approx([1.0, 1.0, 1.0])
    with pytest.raises(ValidationError, match=r"^probability: expected draw probabilities in \(0, 1\]"):
        lure_weights([0.0], [5], 5)


def test_resample_answers_keeps_the_heaviest_and_drops_weightless():
    """An answer of the largest weight is always kept, one of weight 0 never."""
    keep = resample_answers([2.0, 0.0, 1.0], [0.999, 0.0, 0.3])
    assert keep.tolist() == [True, False, True]


def _proba(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(2), size=n)


def test_stochastic_loop_gives_every_answer_a_weight_and_top_only_random_draws():
    """sampling='stochastic' records a probability for every answer; 'top' weighs its own picks 0."""
    for sampling in ("stochastic", "top"):
        loop = ActiveLoop("entropy", budget_per_round=10, warm_start=5, sampling=sampling, random_state=0)
        for _ in range(3):
            items = loop.select(proba=_proba(60))
            loop.incorporate(items, np.zeros(items.size, dtype=int))
        w = loop.answer_weights()
        frame = loop.answers_
        if sampling == "stochastic":
            assert frame["probability"].notna().all() and (w >= 0).all() and (w > 0).sum() > 10
            assert w.mean() == pytest.approx(1.0, abs=0.5)
        else:
            assert w.tolist() == frame["at_random"].astype(float).tolist()
            assert np.array_equal(loop.representative_gold(), loop.gold(at_random_only=True))


def test_random_strategy_answers_all_weigh_one():
    """Answers of the random strategy are uniform draws: LURE weight 1 and all kept as representative."""
    loop = ActiveLoop("random", budget_per_round=7, random_state=0)
    for _ in range(2):
        items = loop.select(proba=_proba(40))
        loop.incorporate(items, np.ones(items.size, dtype=int))
    assert loop.answer_weights() == pytest.approx(np.ones(14))
    assert np.array_equal(loop.representative_gold(), loop.gold())


def _wrong_weak_labels(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    X = np.c_[y + rng.normal(0, 0.6, 300), rng.normal(0, 1, 300)]
    return X, y, np.eye(2)[1 - y] * 0.9 + 0.05  # confident and always wrong


def test_cv_weak_weight_drops_weak_labels_that_contradict_the_answers():
    """With always-wrong weak labels, weak_weight='cv' picks a small weight and full trust scores worst."""
    X, y, weak = _wrong_weak_labels()
    loop = ActiveLoop("random", budget_per_round=MIN_CV_ANSWERS, weak_weight="cv", random_state=0)
    items = loop.select(proba=weak)
    loop.incorporate(items, y[items])
    model = SoftLabelClassifier(LogisticRegression())
    _, weights = loop.training_targets(weak, X=X, end_model=model)
    scores = loop.weak_weight_scores_
    assert loop.weak_weight_ <= 0.03 and scores is not None
    assert weights[items].min() > 30 * np.delete(weights, items).max()
    assert scores[1.0] == min(scores.values()) and scores[0.0] > 0.7
    loop.training_targets(weak)  # without X and end_model: the "auto" weight, no scores
    assert loop.weak_weight_ > 0.03 and loop.weak_weight_scores_ is None


def test_cv_weak_weight_scores_a_top_strategy_picks_too():
    """sampling='top': the strategy's own picks (importance 0 as evidence about the pool) are scored by the CV."""
    X, y, weak = _wrong_weak_labels(2)
    loop = ActiveLoop("entropy", budget_per_round=MIN_CV_ANSWERS, weak_weight="cv", warm_start=0, explore=0.0,
                      random_state=0)
    items = loop.select(proba=weak)
    loop.incorporate(items, y[items])
    assert not loop.answer_weights().any()  # no random draw among the answers
    loop.training_targets(weak, X=X, end_model=SoftLabelClassifier(LogisticRegression()))
    scores = loop.weak_weight_scores_
    assert scores is not None and scores[1.0] == min(scores.values()) and loop.weak_weight_ <= 0.1


def test_cv_weak_weight_never_drops_the_weak_labels_on_a_top_strategy_picks_alone():
    """sampling='top': the CV's weight 0 (answers alone) becomes the least positive weight; unbiased answers keep it."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20000)  # so many always-wrong weak labels that only weight 0 predicts the answers
    X = np.c_[y + rng.normal(0, 0.3, y.size), rng.normal(0, 1, y.size)]
    weak = np.eye(2)[1 - y]
    model = SoftLabelClassifier(LogisticRegression())
    chosen = {}
    for strategy, sampling in (("entropy", "top"), ("random", "top"), ("entropy", "stochastic")):
        loop = ActiveLoop(strategy, budget_per_round=MIN_CV_ANSWERS, weak_weight="cv", warm_start=0,
                          explore=0.0 if sampling == "top" else 0.5, sampling=sampling, random_state=0)
        items = loop.select(proba=weak)
        loop.incorporate(items, y[items])
        _, weights = loop.training_targets(weak, X=X, end_model=model)
        scores = loop.weak_weight_scores_
        assert scores is not None and max(scores, key=scores.__getitem__) == 0.0
        chosen[strategy, sampling] = loop.weak_weight_
        if sampling == "top" and strategy == "entropy":
            assert (np.delete(weights, items) > 0).all()
    least = min(w for w in WEAK_WEIGHT_GRID if w > 0)
    assert chosen == {("entropy", "top"): least, ("random", "top"): 0.0, ("entropy", "stochastic"): 0.0}


def test_choose_weak_weight_keeps_trusting_correct_weak_labels():
    """When the weak labels are right, full weight predicts the held-out answers as well as any other."""
    X, y, _ = _wrong_weak_labels(1)
    right = np.eye(2)[y] * 0.9 + 0.05
    items = np.arange(30)
    w, scores = choose_weak_weight(SoftLabelClassifier(LogisticRegression()), X, right, items, y[items],
                                   np.ones(30), prior=1.0, random_state=0)
    assert scores[1.0] == max(scores.values()) and w == 1.0


def test_choose_weak_weight_survives_folds_whose_answers_hold_one_class():
    """Answers of one class (a rare class not met yet) neither crash the CV nor let weight 0 win."""
    X, y, weak = _wrong_weak_labels(3)
    items = np.flatnonzero(y == 0)[:12]
    w, scores = choose_weak_weight(SoftLabelClassifier(LogisticRegression()), X, weak, items, y[items],
                                   np.ones(12), random_state=0)
    assert 0.0 not in scores and w > 0
    items = np.r_[np.flatnonzero(y == 0)[:10], np.flatnonzero(y == 1)[:2]]  # some folds train on one class
    w, scores = choose_weak_weight(SoftLabelClassifier(LogisticRegression()), X, weak, items, y[items],
                                   np.ones(12), random_state=0)
    assert 0.0 in scores and np.isfinite(list(scores.values())).all()


def test_weak_weight_zero_still_trains_on_weak_labels_before_any_answer():
    """With no answer yet the weak labels are all there is: weak_weight=0 does not leave nothing to train on."""
    _, _, weak = _wrong_weak_labels(4)
    _, weights = ActiveLoop(weak_weight=0.0).start(300, n_classes=2).training_targets(weak)
    assert np.allclose(weights, 1.0)


def test_cv_weak_weight_waits_for_enough_answers():
    """Below MIN_CV_ANSWERS answers weak_weight="cv" keeps the "auto" weight (no CV scores); from there it runs."""
    X, y, weak = _wrong_weak_labels(5)
    loop = ActiveLoop("entropy", budget_per_round=MIN_CV_ANSWERS - 1, weak_weight="cv", warm_start=0, explore=0.0,
                      random_state=0)
    model = SoftLabelClassifier(LogisticRegression())
    items = loop.select(proba=weak)
    loop.incorporate(items, y[items])
    loop.training_targets(weak, X=X, end_model=model)
    assert loop.weak_weight_scores_ is None  # the "auto" weight
    items = loop.select(proba=weak, n=1)
    loop.incorporate(items, y[items])
    loop.training_targets(weak, X=X, end_model=model)
    assert loop.weak_weight_scores_ is not None



def _near_tied_weak_labels(seed: int = 6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    X = np.c_[y + rng.normal(0, 1.2, 300), rng.normal(0, 1, 300)]
    noisy = np.where(rng.random(300) < 0.7, y, 1 - y)  # weak labels right 70 % of the time: weights near-tied
    return X, y, np.eye(2)[noisy] * 0.8 + 0.1


def test_cv_weak_weight_is_kept_between_rounds_unless_the_answers_reject_it():
    """Rounds of a few answers move the CV weight only when the last choice falls out of one SE of the best."""
    X, y, weak = _near_tied_weak_labels()
    loop = ActiveLoop("random", budget_per_round=MIN_CV_ANSWERS, weak_weight="cv", random_state=0)
    model = SoftLabelClassifier(LogisticRegression())
    chosen, moves = [], 0
    for _ in range(8):
        items = loop.select(proba=weak, n=MIN_CV_ANSWERS if not chosen else 4)
        loop.incorporate(items, y[items])
        loop.training_targets(weak, X=X, end_model=model)
        scores = loop.weak_weight_scores_
        assert scores is not None
        top, n = max(scores.values()), loop.n_answered_
        if chosen and loop.weak_weight_ != chosen[-1]:  # a move needs the last choice out of one SE of the best
            moves += 1
            assert scores[chosen[-1]] < top - np.sqrt(top * (1 - top) / n)
        chosen.append(loop.weak_weight_)
    assert moves <= 2


def test_cv_weak_weight_scores_depend_on_the_answers_not_on_the_round():
    """The same answers score the same: an answer keeps its CV fold from round to round."""
    X, y, weak = _near_tied_weak_labels(7)
    loop = ActiveLoop("random", budget_per_round=MIN_CV_ANSWERS, weak_weight="cv", random_state=0)
    items = loop.select(proba=weak)
    loop.incorporate(items, y[items])
    model = SoftLabelClassifier(LogisticRegression())
    loop.training_targets(weak, X=X, end_model=model)
    first = loop.weak_weight_scores_
    loop.training_targets(weak, X=X, end_model=model)
    assert first is not None and loop.weak_weight_scores_ == first
