"""AutoLabelModel without gold on labeling-function votes: candidates are judged as tie-breakers."""

from __future__ import annotations

import numpy as np

from weaklab import LabelMatrix
from weaklab.models import AutoLabelModel, LabelModel, MajorityVote
from weaklab.models._tie_pairs import PAIR_VOTES, tie_pairs
from weaklab.synthetic import make_lf_matrix


class FixedWeights(LabelModel):
    """A weighted vote with given per-source weights: on a tie it picks the class of the heavier source."""

    def __init__(self, weights=None):
        self.weights = weights

    def _fit(self, L, gold, class_balance):
        self.class_balance_ = np.full(L.n_classes, 1.0 / L.n_classes)

    def _predict_proba(self, L):
        score = np.zeros((L.n_items, L.n_classes))
        rows, cols, labels = L.coo()
        np.add.at(score, (rows, labels.astype(np.int64)), np.asarray(self.weights)[cols])
        score = np.exp(score - score.max(axis=1, keepdims=True))
        return score / score.sum(axis=1, keepdims=True)


def test_tie_pairs_are_disagreeing_votes_refereed_by_the_item_s_other_votes():
    """Two votes for different classes become a row of their own; the strict plurality of the rest referees."""
    dense = np.array([
        [0, 1, 0, -1],   # pairs (s0, s1) and (s1, s2), each refereed by the remaining 0
        [0, 1, -1, -1],  # two votes: a real tie, nothing to referee it
        [0, 1, 2, -1],   # the rest (one vote for class 2) is in neither class of any pair
        [1, 1, 1, 0],    # pairs with s3, refereed by the two other 1s
    ])
    pairs = tie_pairs(LabelMatrix(dense, n_classes=3), salt=0)
    first = {(int(i), int(a), int(b), int(r)) for i, a, b, r in
             zip(pairs.item, pairs.first, pairs.second, pairs.referee, strict=True)}
    assert {i for i, *_ in first} == {0, 3}
    assert all(r in (a, b) for _, a, b, r in first)
    assert {r for i, _, _, r in first if i == 0} == {0} and {r for i, _, _, r in first if i == 3} == {1}
    assert pairs.n_items == 2
    assert np.all(pairs.rows.votes_per_item() == 2)
    np.testing.assert_allclose(np.bincount(pairs.item, weights=pairs.weight), [1, 0, 0, 1])


def test_tie_pairs_do_not_depend_on_the_order_of_items_or_sources():
    """The chosen pairs are a function of each item's votes (salted), not of row or column positions."""
    data = make_lf_matrix(400, 12, 3, coverage=(0.1, 0.4), random_state=2)
    dense = data.L.to_dense()
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(dense.shape[0]), rng.permutation(dense.shape[1])
    names = [f"lf{j}" for j in range(dense.shape[1])]
    a = tie_pairs(LabelMatrix(dense, n_classes=3, source_names=names), salt=7)
    b = tie_pairs(LabelMatrix(dense[rows][:, cols], n_classes=3, source_names=[names[c] for c in cols]), salt=7)

    def as_set(p, row_map, col_map):
        r, c, v = p.rows.coo()
        out = set()
        for i in range(p.item.size):
            votes = frozenset((col_map[int(s)], int(x)) for s, x in zip(c[r == i], v[r == i], strict=True))
            out.add((row_map[int(p.item[i])], votes, int(p.referee[i])))
        return out

    assert as_set(a, np.arange(400), np.arange(12)) == as_set(b, rows, cols)
    assert len(as_set(a, np.arange(400), np.arange(12))) > 50


def test_the_tie_breaker_that_trusts_the_precise_labeling_functions_is_chosen():
    """Of two tie-breakers, the one trusting the more precise LF of a pair is chosen, and beats the coin flip."""
    data = make_lf_matrix(3000, 40, 4, coverage=(0.02, 0.12), accuracy=(0.3, 0.95), random_state=11)
    odds = np.log(data.accuracy / (1 - data.accuracy))
    candidates = [MajorityVote(), ("precise", FixedWeights(odds)), ("noisy", FixedWeights(-odds))]
    auto = AutoLabelModel(candidates, random_state=0).fit(data.L)
    scores = auto.scores_.set_index("candidate")
    assert auto.criterion_ == "heldout_tie_break"
    assert scores.loc["precise", "score"] > 0 > scores.loc["noisy", "score"]
    assert [name for name, _ in auto.members_] == ["precise"]
    counts = data.L.class_counts()
    top = counts.max(axis=1, keepdims=True)
    tied = ((counts == top) & (top > 0)).sum(axis=1) > 1
    picked = auto.predict_proba(data.L)[tied].argmax(axis=1)
    level = (counts == top)[tied]
    coin_flip = float((level[np.arange(tied.sum()), data.y[tied]] / level.sum(axis=1)).mean())
    assert tied.sum() > 100
    assert float((picked == data.y[tied]).mean()) > coin_flip + 0.1


def test_an_item_with_many_votes_gives_pairs_from_a_bounded_subset_of_them():
    """Pairs are drawn among at most PAIR_VOTES of an item's votes, so dense rows cost no more than sparse ones."""
    data = make_lf_matrix(200, 120, 3, coverage=(0.5, 0.9), random_state=3)
    pairs = tie_pairs(data.L, salt=1, per_item=10_000)  # every disagreeing pair of the subset
    rows, cols, _ = pairs.rows.coo()
    source_of_row = {}
    for r, c in zip(rows, cols, strict=True):
        source_of_row.setdefault(int(pairs.item[r]), set()).add(int(c))
    assert pairs.n_items > 100
    assert max(len(s) for s in source_of_row.values()) <= PAIR_VOTES
    assert min(data.L.votes_per_item()) > PAIR_VOTES
