"""No-gold AutoLabelModel on items no labeling function voted on: moved only on backed evidence, warned otherwise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.models import AutoLabelModel

from .test_auto_no_gold import TOLERANCE, margin_over_majority, wrench_like


def fitted_quietly(L: LabelMatrix) -> AutoLabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return AutoLabelModel(random_state=0).fit(L)


def test_unvoted_items_keep_majority_vote_when_the_abstention_models_are_not_backed():
    """6 LFs for 3 classes: the Dawid-Skene models agree on another class, HyperLabelModel sides with majority vote.

    The rule this replaced (three all-abstain posteriors agree) moved the 72 % of items without a
    vote to the EM models' class and lost 8.2 points to majority vote here.
    """
    data = wrench_like(1021)
    assert margin_over_majority(data) >= -TOLERANCE
    auto = fitted_quietly(data.L)
    assert auto.no_vote_proba_ is None
    assert "no vote" in auto.reason_ and "kept majority vote's class" in auto.reason_


@pytest.mark.parametrize("seed", [129, 1092])
def test_unvoted_items_move_when_both_abstention_models_are_backed(seed):
    """Both EM models favour one class for unvoted items by odds >= 1.2 and nothing vetoes it: +8 and +10 points.

    The rule this replaced needed HyperLabelModel's all-abstain posterior to agree too and left
    these unvoted items with majority vote's class (its margin over majority vote was 0).
    """
    data = wrench_like(seed)
    assert margin_over_majority(data) >= 0.05
    auto = fitted_quietly(data.L)
    empty = data.L.votes_per_item() == 0
    assert auto.no_vote_proba_ is not None and "they get class" in auto.reason_
    np.testing.assert_allclose(auto.predict_proba(data.L)[empty], np.tile(auto.no_vote_proba_, (int(empty.sum()), 1)))


def disjoint_keywords(seed: int = 0) -> tuple[LabelMatrix, np.ndarray]:
    """Six class-1 keyword LFs, each for its own sixth of the class-1 items (disjoint), one weak class-0 LF."""
    rng = np.random.default_rng(seed)
    n = 3000
    y = rng.integers(0, 2, n)
    topic = rng.integers(0, 6, n)
    votes = np.full((n, 7), -1)
    for j in range(6):
        votes[rng.random(n) < np.where(y == 1, np.where(topic == j, 0.6, 0.02), 0.003), j] = 1
    votes[rng.random(n) < np.where(y == 0, 0.15, 0.05), 6] = 0
    return LabelMatrix.from_dense(votes, n_classes=2), y


def test_disjoint_lfs_of_the_unvoted_class_are_named_in_a_warning():
    """Class 1's LFs fire on different items: every model gives unvoted items class 1; a warning says why to doubt it.

    58 % of the items have no vote, 68 % of those are class 0; from the votes alone the models of
    abstentions cannot see it (they read coverage from co-firing), so the label stays majority
    vote's and the user is told.
    """
    L, _ = disjoint_keywords()
    with pytest.warns(UserWarning, match="fire on different items"):
        auto = AutoLabelModel(random_state=0).fit(L)
    assert auto.no_vote_proba_ is None
    assert "fire on different items" in auto.reason_
