"""AutoLabelModel without gold on hard crowds: the agreement judges, the log-likelihood is only a second route."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab.models import AutoLabelModel, MajorityVote
from weaklab.synthetic import make_crowd


def expected_accuracy(P: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the arg-max with ties split (a t-way tie counts 1/t)."""
    tied = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float((tied[np.arange(y.size), y] / tied.sum(axis=1)).mean())


def fit_quietly(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return AutoLabelModel(random_state=0).fit(L)


@pytest.fixture(scope="module")
def hard_crowd():
    """Shaped like the crowd_hard_relevance profile: 4 classes (half the items in one), 150 workers 30-80 %
    right, 5 answers per item, items up to 50 % guesses."""
    return make_crowd(1500, 150, 5, 4, worker_accuracy=(0.3, 0.8), difficulty=(0.0, 0.5),
                      class_balance=[0.5, 0.3, 0.1, 0.1], random_state=0)


@pytest.fixture(scope="module")
def hard_fitted(hard_crowd):
    return fit_quietly(hard_crowd.L)


def test_hard_crowd_leaves_majority_vote_for_worker_quality_models(hard_fitted, hard_crowd):
    """Majority vote labels 66 % right; a model of worker quality some 9 points more.

    Those models lose held-out vote log-likelihood to majority vote (its
    vote shares are as flat as the votes of hard items, their posteriors
    are not), and their class balance grows more than 20 points over
    majority vote's (which under-labels the large class, noisy workers
    spreading their errors), so majority vote was kept. The agreement of
    their labels with the held-out votes has the evidence, and the other
    classes keep more than half of their share.
    """
    y = np.asarray(hard_crowd.y)
    mv = expected_accuracy(MajorityVote().fit(hard_crowd.L).predict_proba(hard_crowd.L), y)
    assert "MajorityVote" not in dict(hard_fitted.members_), hard_fitted.reason_
    assert expected_accuracy(hard_fitted.predict_proba(hard_crowd.L), y) >= mv + 0.05


def test_hard_crowd_is_judged_by_agreement_and_says_so(hard_fitted):
    """criterion_ and reason_ name the agreement; scores_ reports it as the score, log-likelihood beside it."""
    assert hard_fitted.criterion_ == "heldout_vote_agreement"
    assert "held-out vote agreement" in hard_fitted.reason_
    chosen = hard_fitted.scores_[hard_fitted.scores_["weight"] > 0]  # the average and its members
    assert (chosen["score"] > 0).all() and chosen["z"].max() > 2.5, hard_fitted.scores_
    assert (chosen["lift"] < 0).any(), hard_fitted.scores_  # members the log-likelihood puts below majority vote


def test_hard_crowd_chooses_the_average_of_the_candidates_above_majority_vote(hard_fitted):
    """Several candidates beat majority vote on the agreement; their equal-weight average is chosen."""
    rows = hard_fitted.scores_[hard_fitted.scores_["candidate"].str.startswith("mean(")]
    assert len(rows) == 1 and rows["weight"].iloc[0] > 0, hard_fitted.scores_
    assert len(hard_fitted.members_) >= 2
    assert sum(w for _, w in hard_fitted.members_) == pytest.approx(1.0)


def test_binary_crowd_below_chance_keeps_majority_vote():
    """Every worker 40-46 % right on a binary task (the mirrored task fits the votes as well).

    Models that follow the workers' leaning put 96-100 % of the items in
    one class and gain agreement with the held-out votes; the crowd
    collapse guard (the other class keeps less than half of majority
    vote's share) still stops them, so majority vote is kept.
    """
    data = make_crowd(1500, 55, 5, 2, worker_accuracy=(0.395, 0.46), spammer_fraction=0.065,
                      adversarial_fraction=0.05, difficulty=(0.0, 0.358), class_balance=[0.877, 0.123],
                      random_state=23)
    auto = fit_quietly(data.L)
    assert dict(auto.members_) == {"MajorityVote": 1.0}, auto.reason_
