"""With gold, on labeling-function votes, a candidate that cannot be shown better than the no-gold choice still
replaces it when the gold rules out a loss of more than one point (non-inferiority; issue 10, with gold).

The candidate here is majority vote with its label overridden on chosen gold items: right where majority vote
is wrong on ``k`` of them, wrong where it is right on ``m``. Its paired gain on the gold is then exactly
``(k - m) / n``, with a standard error set by ``k + m``, so each test fixes where the gain falls between the
superiority bound (above 0) and the non-inferiority bound (above -1 point).
"""

from __future__ import annotations

import warnings

import numpy as np

from weaklab.models import AutoLabelModel, MajorityVote
from weaklab.synthetic import make_lf_matrix


def overriding(labels: dict[int, int]) -> MajorityVote:
    """Majority vote, except that items whose id is in ``labels`` get that class (probability 0.98)."""

    class Overriding(MajorityVote):
        def _predict_proba(self, L):
            P = np.array(super()._predict_proba(L), dtype=np.float64)
            for row, item in enumerate([] if L.item_ids is None else L.item_ids):  # no ids: majority vote
                if int(item) in labels:
                    P[row] = 0.01 / (L.n_classes - 1)
                    P[row, labels[int(item)]] = 0.99
            return P

        def to_state(self):
            raise NotImplementedError

    return Overriding()


def lf_votes_with_gold(n_gold: int, seed: int = 0):
    """3 classes, 12 one-class LFs over 4,000 items; ``n_gold`` evenly spaced gold items; item ids 0..n-1."""
    data = make_lf_matrix(4000, 12, 3, coverage=(0.2, 0.5), accuracy=(0.4, 0.7), random_state=seed)
    L = data.L.replace(item_ids=np.arange(data.L.n_items))
    y = np.asarray(data.y)
    gold = np.full(L.n_items, -1)
    step = L.n_items // n_gold
    gold[::step][:n_gold] = y[::step][:n_gold]
    return L, y, gold


def bold_candidate(L, y, gold, k: int, m: int) -> MajorityVote:
    """Right where majority vote is (decisively) wrong on ``k`` gold items, wrong where it is right on ``m``."""
    P = MajorityVote().fit(L).predict_proba(L)
    top = np.sort(P, axis=1)
    decisive = top[:, -1] > top[:, -2] + 1e-9
    mv = P.argmax(axis=1)
    known = np.flatnonzero((gold >= 0) & decisive)
    wrong, right = known[mv[known] != y[known]], known[mv[known] == y[known]]
    labels = {int(i): int(y[i]) for i in wrong[:k]}
    labels.update({int(i): int((y[i] + 1) % L.n_classes) for i in right[:m]})
    return overriding(labels)


def fit(L, gold, bold):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = AutoLabelModel([MajorityVote(), ("bold", bold)], random_state=0).fit(L, gold=gold)
    shown = [w for w in caught if issubclass(w.category, UserWarning)]
    assert all(w.filename == __file__ for w in shown)  # weaklab's warnings point at the caller's line
    return auto, [str(w.message) for w in shown]


def test_a_lead_that_rules_out_a_loss_of_a_point_replaces_the_no_gold_choice():
    """Gain +1 point on 2,000 gold items, not above 0 by evidence, but its corrected bound is above -1 point."""
    L, y, gold = lf_votes_with_gold(2000)
    auto, caught = fit(L, gold, bold_candidate(L, y, gold, k=108, m=88))
    row = auto.scores_.set_index("candidate").loc[auto.selected_]
    assert auto.selected_.removesuffix("+gold") == "bold"
    assert 0 < row["gain"] < 0.0165  # below 1.645 standard errors: no evidence of a gain
    assert -0.01 < row["gain_lower"] < 0  # the corrected bound only rules out a loss of more than a point
    assert "non-inferior" in auto.reason_
    assert any("non-inferiority" in w for w in caught)  # the choice is close: the user is told


def test_a_lead_that_may_hide_a_loss_of_more_than_a_point_keeps_the_no_gold_choice():
    """The same gain on 200 gold items: the bound does not rule out losing more than a point, so nothing moves."""
    L, y, gold = lf_votes_with_gold(200)
    auto, _ = fit(L, gold, bold_candidate(L, y, gold, k=11, m=9))
    table = auto.scores_.set_index("candidate")
    assert table.loc["bold", "gain"] > 0
    assert auto.selected_ == "MajorityVote"
    assert auto.reason_.startswith("kept the choice made without gold")
    assert table.loc["bold", "status"].startswith("disqualified")
