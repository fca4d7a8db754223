"""AutoLabelModel without gold averages the candidates that beat majority vote when the average has the evidence."""

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


@pytest.fixture(scope="module")
def spammer_crowd():
    """60 workers, half of them spammers, 5 answers per item (benchmarks/label_models_profiles.py, seed 0)."""
    return make_crowd(2000, n_workers=60, votes_per_item=5, n_classes=2, spammer_fraction=0.5,
                      worker_accuracy=(0.6, 0.95), random_state=1510)


@pytest.fixture(scope="module")
def fitted(spammer_crowd):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return AutoLabelModel(random_state=0).fit(spammer_crowd.L)


def test_average_of_candidates_is_chosen_on_a_spammer_crowd(fitted):
    """No single candidate has the evidence there (HyperLabelModel alone was chosen, 2.8 points above
    majority vote); the average of the five above majority vote does, and is used."""
    rows = fitted.scores_[fitted.scores_["candidate"].str.startswith("mean(")]
    assert len(rows) == 1 and rows["weight"].iloc[0] == pytest.approx(1.0), fitted.scores_
    assert len(fitted.members_) >= 2
    assert sum(w for _, w in fitted.members_) == pytest.approx(1.0)
    assert "mean(" in fitted.reason_


def test_average_beats_majority_vote_by_more_than_the_single_pick(fitted, spammer_crowd):
    """Its labels are over 5 points more accurate than majority vote's (the single pick was 2.8 above)."""
    y = np.asarray(spammer_crowd.y)
    mv = expected_accuracy(MajorityVote().fit(spammer_crowd.L).predict_proba(spammer_crowd.L), y)
    assert expected_accuracy(fitted.predict_proba(spammer_crowd.L), y) >= mv + 0.05


def test_average_round_trips_through_state(fitted, spammer_crowd):
    """The averaged members save and load with identical predictions."""
    restored = AutoLabelModel.from_state(fitted.to_state())
    np.testing.assert_allclose(restored.predict_proba(spammer_crowd.L), fitted.predict_proba(spammer_crowd.L))
    assert restored.members_ == fitted.members_
