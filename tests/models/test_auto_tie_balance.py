"""No-gold AutoLabelModel on LF votes: a tie-breaker whose pair gain is a class preference is flagged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab.models import AutoLabelModel, LabelModel, MajorityVote
from weaklab.synthetic import make_lf_matrix

from .test_auto_blind_ties import one_lf_per_class
from .test_auto_tie_break import FixedWeights
from .test_auto_unvoted import known_propensities

FLAG = "rests on preferring one class of each tied pair"


class PrefersClass(LabelModel):
    """A tie-breaker that knows nothing of the sources: on every tie it picks ``cls`` when tied, else the lowest."""

    def __init__(self, cls=0):
        self.cls = cls

    def _fit(self, L, gold, class_balance):
        self.class_balance_ = np.full(L.n_classes, 1.0 / L.n_classes)

    def _predict_proba(self, L):
        row = np.linspace(2.0, 1.0, L.n_classes)
        row[self.cls] = 3.0
        return np.tile(row / row.sum(), (L.n_items, 1))


def test_a_tie_breaker_that_only_prefers_a_class_is_flagged():
    """Loud items of one class (seed 79: 2 classes, 2 LFs each): the pairs' referees are mostly the loud class.

    The pairs come from items with three votes or more, the real ties mostly from items with two, so a
    tie-breaker that always prefers the loud class gains on the pairs while it is right on only 40 % of
    the 290 real ties (coin flip 50 %). Its class-free gain (both referee outcomes of each two classes
    weighed the same) is 0, so reason_ and a warning say that the choice rests on a class preference.
    """
    L, _, mode = one_lf_per_class(79)
    assert mode == "loud_class"
    candidates = [MajorityVote(), ("prefers 0", PrefersClass(0)), ("prefers 1", PrefersClass(1))]
    with pytest.warns(UserWarning, match=FLAG):
        auto = AutoLabelModel(candidates, random_state=0).fit(L)
    chosen = [name for name, _ in auto.members_]
    assert len(chosen) == 1 and chosen[0].startswith("prefers")
    assert auto.scores_.set_index("candidate").loc[chosen[0], "score"] > 0.2
    assert FLAG in auto.reason_ and "z = 0.0" in auto.reason_


def test_a_tie_breaker_that_trusts_the_precise_lfs_is_not_flagged():
    """Independent LFs of varied precision: the gain of trusting the precise LF of a pair survives class balancing."""
    data = make_lf_matrix(3000, 40, 4, coverage=(0.02, 0.12), accuracy=(0.3, 0.95), random_state=11)
    odds = np.log(data.accuracy / (1 - data.accuracy))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        auto = AutoLabelModel([MajorityVote(), ("precise", FixedWeights(odds))], random_state=0).fit(data.L)
    assert [name for name, _ in auto.members_] == ["precise"] and FLAG not in auto.reason_


# Development configurations more than a point below majority vote (points): every one is flagged.
LOSSES = [(one_lf_per_class, 79, -2.00), (one_lf_per_class, 90, -1.73), (one_lf_per_class, 133, -4.32),
          (one_lf_per_class, 255, -3.41), (known_propensities, 1064, -1.82), (known_propensities, 3106, -1.96)]


@pytest.mark.parametrize(("make", "seed", "before"), LOSSES)
def test_tie_breakers_that_lose_to_majority_vote_are_flagged(make, seed, before):
    """Loud items of a class, or a class's LFs on different topics: the chosen tie-breaker lost ``before`` points.

    Its gain on the pairs is a class preference (class-free gain under 4 standard errors): reason_ and
    a warning say so.
    """
    L, _, _ = make(seed)
    with pytest.warns(UserWarning, match=FLAG):
        auto = AutoLabelModel(random_state=0).fit(L)
    assert auto.selected_ != "MajorityVote" and FLAG in auto.reason_
