"""MajorityVote: vote shares, smoothing, tie-break policies and the published real-data figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from weaklab import LabelMatrix, NotFittedError, ValidationError
from weaklab.models import MajorityVote
from weaklab.synthetic import make_label_matrix

# Item 0: 2-1 for class 0; item 1: tie 0/1; item 2: no votes; item 3: tie 1/2 (class 0 unvoted).
VOTES = np.array([[0, 0, 1, -1], [0, 1, -1, -1], [-1, -1, -1, -1], [1, 2, -1, -1]])


def test_proba_is_the_share_of_votes():
    """Soft labels are the share of non-abstain votes per class; unvoted items get the class balance."""
    model = MajorityVote().fit(VOTES, n_classes=3)
    P = model.predict_proba(VOTES)
    np.testing.assert_allclose(P[0], [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(P[1], [0.5, 0.5, 0])
    np.testing.assert_allclose(P[2], model.class_balance_)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_class_balance_is_smoothed_vote_share_or_given():
    """class_balance_ is the add-one vote share, moved toward the gold counts by their number, or the given prior."""
    # vote counts per class over VOTES: 0 -> 3, 1 -> 3, 2 -> 1
    balance = MajorityVote().fit(VOTES, n_classes=3).class_balance_
    np.testing.assert_allclose(balance, [4 / 10, 4 / 10, 2 / 10])
    gold = np.array([2, 2, -1, 1])  # gold counts [0, 1, 2]; the vote share is worth 10 items per class
    np.testing.assert_allclose(MajorityVote().fit(VOTES, n_classes=3, gold=gold).class_balance_,
                               (30 * np.array([0.4, 0.4, 0.2]) + [0, 1, 2]) / 33)
    given = [0.2, 0.3, 0.5]
    balance = MajorityVote().fit(VOTES, n_classes=3, class_balance=given).class_balance_
    np.testing.assert_allclose(balance, given)


def test_smoothing_adds_a_pseudo_count_per_class():
    """With smoothing s, soft labels are (votes + s) / (total + k s), and rows still sum to 1."""
    P = MajorityVote(smoothing=1.0).fit(VOTES, n_classes=3).predict_proba(VOTES)
    np.testing.assert_allclose(P[0], [3 / 6, 2 / 6, 1 / 6])
    np.testing.assert_allclose(P[3], [1 / 5, 2 / 5, 2 / 5])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_smoothing_must_be_non_negative():
    """A negative smoothing raises ValidationError naming the parameter at fit."""
    with pytest.raises(ValidationError, match=r"smoothing"):
        MajorityVote(smoothing=-1.0).fit(VOTES, n_classes=3)


def test_tie_break_abstain_returns_minus_one_on_ties_and_unvoted_items():
    """tie_break='abstain' gives -1 exactly on tied items and on items without votes."""
    model = MajorityVote().fit(VOTES, n_classes=3)
    pred = model.predict(VOTES, tie_break="abstain")
    assert pred[0] == 0 and pred[1] == -1 and pred[3] == -1
    assert pred[2] == -1  # unvoted


def test_tie_break_abstain_abstains_on_unvoted_items_even_with_a_clear_prior():
    """An item without votes abstains under 'abstain' though its posterior (the prior) has one top class;
    'prior' and 'random' still give that top class."""
    model = MajorityVote().fit(VOTES, n_classes=3, class_balance=[0.6, 0.3, 0.1])
    unvoted = np.full((2, VOTES.shape[1]), -1)
    assert model.predict(unvoted, tie_break="abstain").tolist() == [-1, -1]
    assert model.predict(unvoted, tie_break="prior").tolist() == [0, 0]
    assert model.predict(unvoted, tie_break="random").tolist() == [0, 0]


def test_tie_break_prior_picks_the_class_with_larger_prior():
    """tie_break='prior' resolves a tie toward the tied class with the larger class balance."""
    model = MajorityVote().fit(VOTES, n_classes=3, class_balance=[0.2, 0.3, 0.5])
    pred = model.predict(VOTES, tie_break="prior")
    np.testing.assert_array_equal(pred, [0, 1, 2, 2])
    flipped = MajorityVote().fit(VOTES, n_classes=3, class_balance=[0.5, 0.3, 0.2])
    np.testing.assert_array_equal(flipped.predict(VOTES, tie_break="prior"), [0, 0, 0, 1])


def test_tie_break_random_is_reproducible_and_picks_only_tied_classes():
    """tie_break='random' is fixed by random_state, picks among tied classes only, and uses both sides."""
    ties = np.tile([[0, 1]], (400, 1))
    model = MajorityVote().fit(ties)
    first = model.predict(ties, tie_break="random", random_state=3)
    np.testing.assert_array_equal(first, model.predict(ties, tie_break="random", random_state=3))
    assert set(np.unique(first)) == {0, 1}
    assert 0.4 < first.mean() < 0.6
    assert not np.array_equal(first, model.predict(ties, tie_break="random", random_state=4))
    pred = MajorityVote().fit(VOTES, n_classes=3).predict(VOTES, tie_break="random", random_state=0)
    assert pred[0] == 0 and pred[1] in (0, 1) and pred[3] in (1, 2)


def test_unknown_tie_break_is_rejected():
    """An unknown tie_break policy raises ValidationError naming tie_break."""
    model = MajorityVote().fit(VOTES, n_classes=3)
    with pytest.raises(ValidationError, match=r"^tie_break: expected"):
        model.predict(VOTES, tie_break="first")


def test_predict_before_fit_raises():
    """Predicting before fit raises NotFittedError."""
    with pytest.raises(NotFittedError):
        MajorityVote().predict_proba(VOTES)


def test_majority_vote_recovers_labels_of_good_sources():
    """With seven 0.75-accurate sources, majority vote is over 0.85 accurate on covered items."""
    data = make_label_matrix(20_000, 7, 3, coverage=0.8, accuracy=0.75, random_state=0)
    model = MajorityVote().fit(data.L)
    covered = data.L.votes_per_item() > 0
    pred = model.predict(data.L, tie_break="random", random_state=0)
    assert np.mean(pred[covered] == data.y[covered]) > 0.85


def _wrench_test_split(folder):
    """Votes and gold of a WRENCH test split (via weaklab.data.load_wrench when it is available)."""
    try:
        from weaklab.data import load_wrench
    except ImportError:
        entries = json.loads((folder / "test.json").read_text()).values()
        votes = np.array([e["weak_labels"] for e in entries])
        gold = np.array([e["label"] for e in entries])
        return LabelMatrix(votes, n_classes=2), gold
    ds = load_wrench(folder, split="test")
    return ds.L, ds.gold


@pytest.mark.realdata
def test_wrench_youtube_reference_figures(dataset):
    """On WRENCH youtube test, majority vote covers 0.928 of items with accuracy 0.802 on them.

    The reference figure breaks ties toward the majority class (HAM, class 0),
    which is what ``tie_break="prior"`` does here: the fitted class balance
    (vote shares) favours HAM. 26 of the 232 covered items are ties; random
    tie-breaking gives 0.82-0.84 and abstaining on ties 0.784.
    """
    L, gold = _wrench_test_split(dataset("wrench_youtube"))
    model = MajorityVote().fit(L)
    covered = L.votes_per_item() > 0
    pred = model.predict(L, tie_break="prior")
    assert model.class_balance_[0] > model.class_balance_[1]
    assert round(float(covered.mean()), 3) == 0.928
    assert round(float(np.mean(pred[covered] == gold[covered])), 3) == 0.802
    tied = np.abs(np.diff(model.predict_proba(L), axis=1))[:, 0] < 1e-12
    assert int(np.sum(tied & covered)) == 26


@pytest.mark.realdata
def test_zheng_product_reference_figure(dataset):
    """On D_Product (Zheng et al. 2017), majority vote is 89.66 % accurate under every tie-break policy.

    Every item has exactly 3 binary answers, so majority vote never ties and
    the published 89.66 % does not depend on how ties are broken.
    """
    folder = dataset("crowd_zheng2017/d_jn-product")
    answers = pd.read_csv(folder / "answer.csv")
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    L = LabelMatrix.from_long(answers, item="question", source="worker", label="answer")
    assert L.shape == (8315, 176) and L.nnz == 24_945
    np.testing.assert_array_equal(L.votes_per_item(), 3)
    gold = truth.loc[L.item_ids].to_numpy()
    model = MajorityVote().fit(L)
    for policy in ("random", "abstain", "prior"):
        pred = model.predict(L, tie_break=policy, random_state=0)
        assert round(100 * float(np.mean(pred == gold)), 2) == 89.66
