"""With gold, AutoLabelModel never picks a candidate that stops predicting a class the gold holds.

On imbalanced data a label model that labels every item with the common class can beat majority vote on
accuracy (WRENCH SMS with its 500 valid gold: a Dawid-Skene variant that predicts no spam scored 87 % on
the gold and was chosen; its labels cannot train a spam detector). Such candidates are disqualified, and
``scores_`` says why.
"""

from __future__ import annotations

import numpy as np

from weaklab import AutoLabelModel, MajorityVote
from weaklab.models import LabelModel


class CommonClass(LabelModel):
    """Every item gets the most common voted class with probability 0.9 (a collapsed label model)."""

    def _fit(self, L, gold, class_balance):
        counts = L.class_counts().sum(axis=0).astype(float)
        self.class_balance_ = np.full(L.n_classes, 0.1 / (L.n_classes - 1))
        self.class_balance_[int(counts.argmax())] = 0.9

    def _predict_proba(self, L):
        return np.tile(self.class_balance_, (L.n_items, 1))


def imbalanced_votes(n=3000, rare=0.1, seed=0):
    """Binary items, 10 % positive; five noisy LFs that make majority vote worse than 'all negative'."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rare).astype(int)
    L = np.full((n, 5), -1)
    for j in range(5):
        fires = rng.random(n) < 0.6
        right = rng.random(n) < 0.75
        L[fires, j] = np.where(right[fires], y[fires], 1 - y[fires])
    return L, y


def test_a_candidate_that_drops_the_rare_class_is_disqualified_with_gold():
    L, y = imbalanced_votes()
    gold = np.full(y.size, -1)
    gold[:600] = y[:600]
    common_acc = 1 - y[:600].mean()
    mv = MajorityVote().fit(L, n_classes=2)
    mv_acc = float(np.mean(mv.predict(L[:600], random_state=0) == y[:600]))
    assert common_acc > mv_acc + 0.03  # without the guard, the collapsed candidate wins on accuracy
    auto = AutoLabelModel(candidates=[("mv", MajorityVote()), ("common", CommonClass())], random_state=0)
    auto.fit(L, n_classes=2, gold=gold)
    assert not auto.selected_.startswith("common"), auto.reason_
    status = auto.scores_.set_index("candidate").loc["common", "status"]
    assert str(status).startswith("disqualified: drops class 1"), status
    predicted = auto.predict(L, random_state=0)
    assert 0.05 < float(np.mean(predicted == 1)) < 0.6  # the rare class is still labelled


def test_a_candidate_that_keeps_every_class_is_not_touched_by_the_guard():
    L, y = imbalanced_votes(seed=1)
    gold = np.full(y.size, -1)
    gold[:600] = y[:600]
    auto = AutoLabelModel(candidates=[("mv", MajorityVote())], random_state=0).fit(L, n_classes=2, gold=gold)
    assert (auto.scores_["status"] == "ok").any(), auto.scores_
