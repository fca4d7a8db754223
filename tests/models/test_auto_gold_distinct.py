"""AutoLabelModel's correction for the number of candidates counts distinct candidates, not rows.

With gold, every candidate row (a model, with and without the gold, with and without a tuned threshold, and with
unequal ``gold_weight`` fitted on a uniform resample of the gold) was one more comparison in the Bonferroni bound,
although many rows label the gold items alike: a threshold tuned to 0.5, a model given gold that does not change its
labels. Each near-copy widened the bound, and a candidate that cleared it before no longer did: on synthetic binary LF
matrices with an active strategy's weighted answers, Dawid-Skene (99.7 % on the unanswered items) lost to a tuned
weighted majority vote (92.8 %) once the resample's fits entered the choice. Rows of one model that label the gold
items alike now count once; different models count apart even when they agree on the gold (their agreement is the
sample's luck, which the correction is for).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab.active import round_draw_weights
from weaklab.models import AutoLabelModel, DawidSkene, MajorityVote, WeightedMajorityVote
from weaklab.synthetic import make_lf_matrix


def candidates(copy: bool = False):
    models = [MajorityVote(), WeightedMajorityVote(), DawidSkene(random_state=0)]
    return [*models, ("DawidSkeneCopy", DawidSkene(random_state=0))] if copy else models


def binary_lfs(seed):
    return make_lf_matrix(3000, 20, n_classes=2, one_class=0.9, coverage=(0.05, 0.3), accuracy=(0.35, 0.95),
                          class_balance=[0.8, 0.2], random_state=seed)


def active_answers(L, y, seed, n_picks=400, n_draws=60):
    """``n_draws`` uniform draws, then ``n_picks`` items where majority vote is least sure beside ``n_draws`` more
    draws, weighted as ActiveLoop weighs them; the gold of the draws alone beside."""
    n = L.n_items
    rng = np.random.default_rng(seed)
    proba = MajorityVote().fit(L).predict_proba(L)
    unsure = -(proba * np.log(np.clip(proba, 1e-12, 1.0))).sum(axis=1) + rng.uniform(0, 1e-6, n)
    first = rng.choice(n, n_draws, replace=False)
    free = np.setdiff1d(np.arange(n), first)
    picks = free[np.argsort(-unsure[free])[:n_picks]]
    second = rng.choice(np.setdiff1d(free, picks), n_draws, replace=False)
    items = np.r_[first, picks, second]
    rounds = np.r_[np.zeros(n_draws), np.ones(n_picks + n_draws)]
    at_random = np.r_[np.ones(n_draws, bool), np.zeros(n_picks, bool), np.ones(n_draws, bool)]
    pool_left = np.r_[np.full(n_draws, n), np.zeros(n_picks), np.full(n_draws, free.size)]
    gold, weight = np.full(n, -1), np.zeros(n)
    gold[items] = y[items]
    weight[items] = round_draw_weights(rounds, at_random, pool_left)
    draws = np.full(n, -1)
    draws[np.r_[first, second]] = y[np.r_[first, second]]
    return gold, weight, draws


def accuracy_on(model, L, y, items):
    proba = model.predict_proba(L.select_items(items))
    tied = proba >= proba.max(axis=1, keepdims=True) - 1e-9
    return float(np.mean(tied[np.arange(items.size), y[items]] / tied.sum(axis=1)))


@pytest.mark.parametrize("weighted", [False, True])
def test_an_exact_copy_of_a_candidate_changes_neither_the_choice_nor_the_bound(weighted):
    """A second Dawid-Skene (the same model under another name) adds four rows that label every gold item as the
    first's: the choice, its gain and its corrected lower bound stay as they were (the copies counted once; before,
    the bound widened with every row)."""
    data = binary_lfs(2)
    gold, weight, draws = active_answers(data.L, data.y, seed=2)
    fit = dict(gold=gold, gold_weight=weight) if weighted else dict(gold=draws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        models = [AutoLabelModel(candidates=candidates(copy), cv=3, random_state=0).fit(data.L, **fit)
                  for copy in (False, True)]
    plain, copied = models
    assert copied.selected_.replace("DawidSkeneCopy", "DawidSkene") == plain.selected_
    chosen = [m.scores_.set_index("candidate").loc[plain.selected_] for m in models]
    assert chosen[1]["gain"] == pytest.approx(chosen[0]["gain"], abs=1e-12)
    assert chosen[1]["gain_lower"] == pytest.approx(chosen[0]["gain_lower"], abs=1e-12)
    assert "distinct" in copied.reason_, copied.reason_


def test_weighted_answers_keep_the_candidate_that_beats_the_rest_on_the_gold():
    """Binary LF matrix (development seed 2), 400 answers where majority vote is least sure beside 120 random
    draws, weighted: Dawid-Skene labels every weighted answer right (1.000 against 0.950 for the runner-up closer to
    the no-gold choice, a tuned weighted majority vote) and is kept, at least as accurate on the unanswered items as
    the choice made on the 120 draws alone. Failed once the resample's "+gold(uniform)" rows entered the choice:
    with ten rows counted (four Dawid-Skene rows alike, three copies of the no-gold choice) the paired bound of
    Dawid-Skene over the weighted vote fell below 0 and the weighted vote was kept (92.8 % against 99.7 %)."""
    data = binary_lfs(2)
    gold, weight, draws = active_answers(data.L, data.y, seed=2)
    rest = np.flatnonzero(gold < 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        weighted = AutoLabelModel(candidates=candidates(), cv=3, random_state=0).fit(data.L, gold=gold,
                                                                                       gold_weight=weight)
        on_draws = AutoLabelModel(candidates=candidates(), cv=3, random_state=0).fit(data.L, gold=draws)
    assert weighted.selected_.startswith("DawidSkene"), weighted.reason_
    after, reference = accuracy_on(weighted, data.L, data.y, rest), accuracy_on(on_draws, data.L, data.y, rest)
    assert after >= reference - 0.01, (after, reference, weighted.selected_, on_draws.selected_)
    assert "candidates compared" in weighted.reason_ and "distinct" in weighted.reason_, weighted.reason_
