"""ActiveLoop.gold_weights: with them every answer, the strategy's hard picks included, is evidence about the pool.

A top-k strategy asks about the items the models get wrong; the loop's random draws come from the items those picks
left. Unweighted, the draws over-represent easy items and all answers over-represent hard ones; weighted, the
answers estimate any pool total without bias.
"""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.active import ActiveLoop, round_draw_weights

N_ITEMS, N_HARD = 300, 90


def _pool(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """End-model probabilities (hard items near 0.5: entropy asks them first) and whether an item is easy."""
    rng = np.random.default_rng(seed)
    easy = np.ones(N_ITEMS, dtype=bool)
    easy[rng.choice(N_ITEMS, N_HARD, replace=False)] = False
    p = np.where(easy, 0.9, 0.5 + rng.uniform(0.0, 0.05, N_ITEMS))
    return np.c_[p, 1.0 - p], easy


def _run(seed: int, rounds: int = 5, **params) -> tuple[ActiveLoop, np.ndarray]:
    proba, easy = _pool(seed)
    loop = ActiveLoop("entropy", budget_per_round=20, warm_start=10, random_state=seed, **params)
    for _ in range(rounds):
        items = loop.select(proba=proba)
        loop.incorporate(items, np.zeros(items.size, dtype=int))
    return loop, easy


def test_weighted_answers_estimate_the_pool_share_the_unweighted_do_not():
    """Mean over 150 loops of the weighted share of easy items among the answers = the pool's share (0.7)."""
    weighted, draws, answers = [], [], []
    for seed in range(150):
        loop, easy = _run(seed)
        w = loop.gold_weights()
        weighted.append(float(w @ easy / w.sum()))
        drawn = loop.gold(at_random_only=True) >= 0
        draws.append(float(easy[drawn].mean()))
        answers.append(float(easy[loop.answered_].mean()))
    truth = 1.0 - N_HARD / N_ITEMS
    assert abs(np.mean(weighted) - truth) < 0.015
    assert np.mean(draws) > truth + 0.05  # the draws come from what the hard picks left
    assert np.mean(answers) < truth - 0.2  # the picks are the hard items


def test_weights_sum_to_the_pool_and_vanish_off_the_answers():
    loop, _ = _run(0)
    w = loop.gold_weights()
    assert w.sum() == pytest.approx(N_ITEMS)
    assert np.all(w[loop.gold() < 0] == 0)
    assert np.all(w >= 0)


def test_stochastic_sampling_uses_the_draw_probabilities():
    """With sampling="stochastic" every answer has a probability: LURE weights scaled to the pool size."""
    loop, _ = _run(0, sampling="stochastic")
    w = loop.gold_weights()
    expected = loop.answer_weights() * N_ITEMS / loop.answer_weights().sum()
    np.testing.assert_allclose(w[loop.answered_], expected)


def test_label_model_gold_params_weighted_and_random_draws():
    loop, _ = _run(0, rounds=2)
    weighted = loop.label_model_gold_params()
    assert weighted["gold_sampling"] == "random"
    np.testing.assert_array_equal(weighted["gold"], loop.gold())
    np.testing.assert_array_equal(weighted["gold_weight"], loop.gold_weights())
    old, _ = _run(0, rounds=2, label_model_gold="random_draws")
    draws = old.label_model_gold_params()
    assert set(draws) == {"gold", "gold_sampling"}
    np.testing.assert_array_equal(draws["gold"], old.representative_gold())


def test_random_strategy_passes_every_answer_unweighted():
    proba, _ = _pool(0)
    loop = ActiveLoop("random", budget_per_round=20, random_state=0)
    items = loop.select(proba=proba)
    params = loop.incorporate(items, np.zeros(20, dtype=int)).label_model_gold_params()
    assert set(params) == {"gold", "gold_sampling"} and params["gold_sampling"] == "random"


def test_no_random_draw_means_no_weight():
    """Without warm start or explore share, nothing stands for the pool: the answers go as active gold."""
    proba, _ = _pool(0)
    loop = ActiveLoop("entropy", budget_per_round=20, warm_start=0, explore=0.0, random_state=0)
    items = loop.select(proba=proba)
    loop.incorporate(items, np.zeros(20, dtype=int))
    assert loop.gold_weights().sum() == 0
    assert loop.label_model_gold_params()["gold_sampling"] == "active"


def test_label_model_gold_is_validated():
    with pytest.raises(ValidationError, match="label_model_gold: expected one of 'weighted', 'random_draws'"):
        ActiveLoop(label_model_gold="all")


def test_round_draw_weights_is_the_loops_rule():
    """The pure rule the review queues use gives the loop's gold weights from its recorded answers."""
    loop, _ = _run(3)
    answers = loop.answers_
    w = round_draw_weights(answers["round"], answers["at_random"], answers["pool_left"])
    np.testing.assert_allclose(w, loop.gold_weights()[answers["item"].to_numpy()])


def test_round_draw_weights_checks_lengths():
    """Arrays of different lengths are refused, naming them."""
    with pytest.raises(ValidationError, match="at_random, pool_left"):
        round_draw_weights([1, 2], [True], [3, 2])


def test_items_left_pending_at_a_later_draw_leave_the_sum_at_the_pool_size():
    """Round 1's 10 draws are never answered (still pending when round 2 draws, so in no round's pool): the weights
    still sum to the pool size (they summed to the pool less those 10), in the estimate's proportions (a draw of
    round 2 stands for the 280 free items over its 4 draws, a pick of round 1 for itself)."""
    proba, _ = _pool(0)
    loop = ActiveLoop("entropy", budget_per_round=20, warm_start=10, explore=0.2, random_state=0)
    first = loop.select(proba=proba)
    loop.incorporate(first[:10], np.zeros(10, dtype=int))  # the strategy's 10 picks; its 10 draws stay pending
    second = loop.select(proba=proba)
    loop.incorporate(second, np.zeros(second.size, dtype=int))
    w = loop.gold_weights()
    drawn = loop.gold(at_random_only=True) >= 0
    assert set(loop.pending_.tolist()) == set(first[10:].tolist()) and int(drawn.sum()) == 4
    assert not loop.answers_["at_random"].iloc[:10].any()
    assert w.sum() == pytest.approx(N_ITEMS)
    assert np.allclose(w[drawn] / w[first[0]], (N_ITEMS - 20) / 4) and np.allclose(w[first[:10]], w[first[0]])


def test_answers_without_a_uniform_draw_weigh_nothing_and_go_to_the_label_model_as_active():
    """The "random" strategy with diversity spreads its batch instead of drawing it uniformly: its answers are not
    marked drawn at random (they were, though no draw was recorded), no answer stands for the pool, every weight is
    0 and the label model gets them 'active' whatever label_model_gold says (with "random_draws" it got them as a
    'random' sample, against the loop's own gold_sampling)."""
    proba, _ = _pool(0)
    X = np.random.default_rng(0).normal(size=(N_ITEMS, 3))
    for mode in ("weighted", "random_draws"):
        loop = ActiveLoop("random", budget_per_round=20, diversity=0.5, label_model_gold=mode, random_state=0)
        for _ in range(2):
            items = loop.select(proba=proba, X=X)
            loop.incorporate(items, np.zeros(items.size, dtype=int))
        assert not loop.answers_["at_random"].any() and not (loop.gold(at_random_only=True) >= 0).any()
        assert not loop.gold_weights().any() and not (loop.representative_gold() >= 0).any()
        params = loop.label_model_gold_params()
        assert params["gold_sampling"] == "active" == loop.gold_sampling and (params["gold"] >= 0).sum() == 40
