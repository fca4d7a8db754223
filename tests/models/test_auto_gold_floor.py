"""AutoLabelModel with gold never chooses below majority vote on the gold it saw (imbalanced binary)."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.models import AutoLabelModel, DawidSkene, MajorityVote, OneCoinDawidSkene, WeightedMajorityVote

CANDIDATES = [MajorityVote(), WeightedMajorityVote(), DawidSkene(), OneCoinDawidSkene()]


def accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """Expected accuracy with exact ties split."""
    tied = proba >= proba.max(axis=1, keepdims=True) - 1e-9
    return float((tied[np.arange(y.size), y] / tied.sum(axis=1)).mean())


def weak_minority(n: int, seed: int) -> tuple[LabelMatrix, np.ndarray]:
    """12 % minority: accurate majority-class LFs, minority-class LFs that fire regardless of the class.

    The minority F1 of "label everything minority" (2p / (1 + p) ~ 0.21) is
    about the best any model reaches here, so a choice by that F1 with a tuned
    threshold labels most items minority.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.12).astype(int)
    votes = np.full((n, 16), -1)
    for j in range(8):
        votes[rng.random(n) < np.where(y == 0, 0.12, 0.04), j] = 0
    for j in range(8, 16):
        votes[rng.random(n) < 0.04, j] = 1
    return LabelMatrix(votes, n_classes=2), y


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("metric", ["auto", "f1_minority"])
def test_choice_with_gold_is_not_less_accurate_than_majority_vote(seed, metric):
    """On new items from the same source, the choice is at least as accurate as majority vote (-1 point)."""
    L, y = weak_minority(3000, seed)
    L_new, y_new = weak_minority(3000, seed + 100)
    gold = np.where(np.arange(L.n_items) % 6 == 0, y, -1)
    auto = AutoLabelModel(CANDIDATES, metric=metric, random_state=0).fit(L, gold=gold)
    mv = MajorityVote().fit(L).predict_proba(L_new)
    assert accuracy(auto.predict_proba(L_new), y_new) >= accuracy(mv, y_new) - 0.01
    chosen = auto.scores_.set_index("candidate").loc[auto.selected_]
    majority = auto.scores_.set_index("candidate").loc["MajorityVote", "accuracy"]
    assert chosen["accuracy"] >= majority


def test_candidates_less_accurate_than_majority_vote_on_the_gold_are_disqualified():
    """scores_ says which candidates fell below majority vote's accuracy on the gold, and they are not chosen."""
    L, y = weak_minority(3000, 0)
    gold = np.where(np.arange(L.n_items) % 6 == 0, y, -1)
    auto = AutoLabelModel(CANDIDATES, metric="f1_minority", random_state=0).fit(L, gold=gold)
    low = auto.scores_[auto.scores_["status"].str.contains("below majority vote")]
    assert len(low) > 0
    assert auto.selected_ not in set(low["candidate"])
    assert auto.metric_ == "f1_minority"
