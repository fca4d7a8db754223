"""No-gold AutoLabelModel when majority vote is kept on LF votes (no tie pair refereed, or none backing a candidate)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.models import AutoLabelModel, MajorityVote

from .test_auto_no_gold import TOLERANCE, expected_accuracy, margin_over_majority, wrench_like
from .test_auto_unvoted import propensity_votes

CHUNKS = 4
N_CONFIGS = 100


def one_lf_per_class(seed: int) -> tuple[LabelMatrix, np.ndarray, str]:
    """One-class LFs, mostly one per class (so no vote ever referees two others), with known firing propensities.

    Shaped like WRENCH-style topic sets (Hausa news: five keyword LFs, one per topic): k in 2-10,
    one LF per class (sometimes two, or a class without one), each firing on its class's items
    at rate alpha and elsewhere at a fraction of it; firing independent, disjoint within a topic,
    or on "loud" items that trip every LF (``mode``).
    """
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 11))
    n = 1500
    mode = str(rng.choice(["independent", "disjoint", "loud", "loud", "loud_class"]))
    balance = rng.dirichlet(np.full(k, 2.0)) + 0.05
    y = rng.choice(k, n, p=balance / balance.sum())
    per = int(rng.choice([1, 1, 1, 2]))
    m = k * per if rng.random() < 0.8 else int(rng.integers(max(2, k - 2), k + 1))
    target = (rng.integers(k) + np.arange(m)) % k
    alpha = rng.uniform(0.05, 0.6, m)
    beta = alpha * rng.uniform(0.02, 0.6, m)
    votes = propensity_votes(rng, y, k, target, alpha, beta, mode)
    return LabelMatrix.from_dense(votes, n_classes=k), y, mode


def fitted_quietly(L: LabelMatrix) -> AutoLabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return AutoLabelModel(random_state=0).fit(L)


def tied(L: LabelMatrix) -> np.ndarray:
    counts = L.class_counts()
    top = counts.max(axis=1, keepdims=True)
    return ((counts == top) & (top > 0)).sum(axis=1) > 1


def test_ties_no_pair_can_referee_are_broken_where_two_models_of_abstentions_agree():
    """Ten classes, one independent LF each: every candidate scores majority vote's coin flip on the pairs.

    Majority vote is kept, but its ties (a tenth of the items or more) are broken by Dawid-Skene with
    polarity groups and HyperLabelModel where they agree (2.3 points above majority vote overall,
    6.2 on the ties); before, the ties stayed coin flips.
    """
    L, y, mode = one_lf_per_class(29)
    assert mode == "independent" and L.n_sources == L.n_classes == 10
    auto = fitted_quietly(L)
    P_mv = MajorityVote().fit(L).predict_proba(L)
    P = auto.predict_proba(L)
    ties = tied(L)
    assert auto.selected_ == "MajorityVote" and len(auto.tie_models_) == 2
    assert "no tie pair could be refereed" in auto.reason_ and "agree" in auto.reason_
    assert ties.mean() > 0.1
    assert expected_accuracy(P[ties], y[ties]) > expected_accuracy(P_mv[ties], y[ties]) + 0.03
    assert expected_accuracy(P, y) > expected_accuracy(P_mv, y) + 0.01
    clear = ~ties & (L.votes_per_item() > 0)
    np.testing.assert_array_equal(P[clear].argmax(axis=1), P_mv[clear].argmax(axis=1))  # no majority overruled


def test_ties_stay_coin_flips_when_a_model_reads_the_clear_majorities_otherwise():
    """Loud items, six classes: Dawid-Skene with polarity groups gives 55 % of the clear majorities their class.

    Breaking the ties where both models agree (no odds floor) lost 1.7 points to majority vote here;
    the rule backs off.
    """
    L, y, mode = one_lf_per_class(31)
    assert mode == "loud_class"
    auto = fitted_quietly(L)
    assert auto.tie_models_ == [] and "read the clear majorities otherwise" in auto.reason_
    mv = expected_accuracy(MajorityVote().fit(L).predict_proba(L), y)
    assert expected_accuracy(auto.predict_proba(L), y) >= mv - TOLERANCE


def test_ties_are_broken_where_the_models_agree_when_refereed_pairs_back_no_candidate():
    """Many LFs per class: tie pairs are refereed, no candidate shows a gain on them, majority vote is kept.

    Its ties are then broken where the two models of abstentions agree, as when no pair can be
    refereed (the pairs come from items with three or more votes, a biased sample of the real
    ties). Before, they stayed coin flips: 6 points lower here.
    """
    data = wrench_like(62)
    L, y = data.L, np.asarray(data.y)
    auto = fitted_quietly(L)
    P_mv = MajorityVote().fit(L).predict_proba(L)
    P = auto.predict_proba(L)
    ties = tied(L)
    assert auto.selected_ == "MajorityVote" and len(auto.tie_models_) == 2
    assert "no candidate showed on the held-out tie pairs" in auto.reason_
    assert "no tie pair could be refereed" not in auto.reason_
    assert expected_accuracy(P[ties], y[ties]) > expected_accuracy(P_mv[ties], y[ties]) + 0.05
    assert expected_accuracy(P, y) > expected_accuracy(P_mv, y) + 0.02
    clear = ~ties & (L.votes_per_item() > 0)
    np.testing.assert_array_equal(P[clear].argmax(axis=1), P_mv[clear].argmax(axis=1))  # no majority overruled


def test_two_class_ties_stay_coin_flips_when_refereed_pairs_back_no_candidate():
    """Two classes, every LF less precise than its class's share (majority vote 19 % right): a mirror image of
    precise LFs, which the models of abstentions read alike; breaking the ties where they agree lost 3.4 points
    here, so with two classes refereed pairs that back no candidate leave the coin flips."""
    data = wrench_like(1115)
    auto = fitted_quietly(data.L)
    assert data.L.n_classes == 2 and auto.selected_ == "MajorityVote"
    assert auto.tie_models_ == [] and "no candidate showed on the held-out tie pairs" not in auto.reason_
    assert margin_over_majority(data) >= -TOLERANCE


def test_broken_ties_round_trip_through_state():
    """The two tie-breaking models are saved and loaded with the rest: the same posteriors on new items."""
    L, _, _ = one_lf_per_class(29)
    auto = fitted_quietly(L.select_items(np.arange(1000)))
    loaded = AutoLabelModel.from_state(auto.to_state())
    new = L.select_items(np.arange(1000, 1500))
    assert len(loaded.tie_models_) == 2
    np.testing.assert_allclose(loaded.predict_proba(new), auto.predict_proba(new))


# Matrices of this family on which AutoLabelModel is more than a point below majority vote: the tie-pair
# judge (refereed pairs exist) picks Dawid-Skene members whose gain on the pairs is a class preference (see
# test_auto_tie_balance.py: reason_ and a warning say so); requiring a class-free gain would fix them but
# costs WRENCH YouTube and TREC 3.8 and 3.9 points (see weaklab.models._tie_check, *Class preference*).
KNOWN_LOSSES = {
    79: "loud_class, 2 classes, 4 LFs: Dawid-Skene members prefer the loud class on the pairs, -2.00 points",
    90: "disjoint, 7 classes, 14 LFs: Dawid-Skene members' pair gain is a class preference, -1.73 points",
}


def margin(seed: int) -> float:
    L, y, _ = one_lf_per_class(seed)
    mv = expected_accuracy(MajorityVote().fit(L).predict_proba(L), y)
    return expected_accuracy(fitted_quietly(L).predict_proba(L), y) - mv


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_one_lf_per_class_never_a_point_below_majority_vote(chunk):
    """On 100 configurations of one LF per class, no-gold AutoLabelModel is at most 1 point below majority vote.

    Except the ``KNOWN_LOSSES`` (tested below), which the blind-tie rule does not touch.
    """
    margins = {seed: margin(seed) for seed in range(chunk, N_CONFIGS, CHUNKS) if seed not in KNOWN_LOSSES}
    worst = min(margins, key=margins.get)
    assert margins[worst] >= -TOLERANCE, f"config {worst}: {100 * margins[worst]:+.2f} points"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.xfail(reason=r, strict=False))
                                  for s, r in KNOWN_LOSSES.items()])
def test_known_losses_of_one_lf_per_class(seed):
    """Pre-existing losses to majority vote on this family (not from the blind-tie rule); fixed when these pass."""
    assert margin(seed) >= -TOLERANCE


def test_ties_of_weak_lfs_are_broken_only_where_both_models_are_sure():
    """Seven LFs about as precise as their class's share: the models agree on ties but by thin odds.

    Breaking every tie they agree on lost 1.1 points to majority vote here; with the odds floor
    (each favours the class 1.5 times over the other tied class) it stays within a point.
    """
    L, y, mode = one_lf_per_class(164)
    assert mode == "independent" and L.n_sources == 7
    mv = expected_accuracy(MajorityVote().fit(L).predict_proba(L), y)
    assert expected_accuracy(fitted_quietly(L).predict_proba(L), y) >= mv - TOLERANCE
