"""AutoLabelModel: choosing a label model from gold labels or from the votes alone."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from weaklab import LabelMatrix
from weaklab.errors import NotFittedError, ValidationError
from weaklab.models import AutoLabelModel, DawidSkene, LabelModel, MajorityVote
from weaklab.synthetic import make_label_matrix
from weaklab.testing import label_model_checks

FAST = [MajorityVote(), DawidSkene()]


@pytest.fixture(scope="module")
def skewed():
    """Sources of very different accuracy, where Dawid-Skene clearly beats majority vote."""
    accuracy = [0.95, 0.9, 0.55, 0.55, 0.55, 0.55, 0.52, 0.52]
    return make_label_matrix(3000, 8, 2, coverage=0.7, accuracy=accuracy, random_state=3)


class Memorizer(LabelModel):
    """A cheating candidate: predicts the gold label it saw for an identical vote row."""

    def _fit(self, L, gold, class_balance):
        self.class_balance_ = np.full(L.n_classes, 1.0 / L.n_classes)
        known = [] if gold is None else np.flatnonzero(gold >= 0)
        self.memory_ = {L.to_dense()[i].tobytes(): int(gold[i]) for i in known}

    def _predict_proba(self, L):
        P = np.tile(self.class_balance_, (L.n_items, 1))
        for i, row in enumerate(L.to_dense()):
            label = self.memory_.get(row.tobytes())
            if label is not None:
                P[i] = np.eye(L.n_classes)[label]
        return P

    def to_state(self):
        raise NotImplementedError


class Flipped(MajorityVote):
    """Majority vote with its classes swapped (a label-switched model)."""

    def _predict_proba(self, L):
        return super()._predict_proba(L)[:, ::-1]


@pytest.mark.parametrize("name,check", list(label_model_checks(AutoLabelModel())))
def test_conformance(name, check):
    """AutoLabelModel with its default candidates passes every label-model conformance check."""
    check()


def test_gold_selection_picks_the_better_model(skewed):
    """With gold, the chosen model is one whose accuracy on all items is near the best candidate's."""
    gold = np.where(np.arange(skewed.L.n_items) % 10 == 0, skewed.y, -1)
    auto = AutoLabelModel(FAST, random_state=0).fit(skewed.L, gold=gold)
    acc = {name: (m.fit(skewed.L).predict(skewed.L) == skewed.y).mean()
           for name, m in [("MajorityVote", MajorityVote()), ("DawidSkene", DawidSkene(random_state=0))]}
    assert auto.criterion_ == "gold"
    assert auto.selected_.removesuffix("+threshold").removesuffix("+gold") == "DawidSkene"
    assert (auto.predict(skewed.L) == skewed.y).mean() >= max(acc.values()) - 0.01


def test_gold_candidates_are_scored_out_of_fold():
    """A candidate that memorises gold labels gains nothing: '+gold' scores use only other folds' gold."""
    # 30 sources at coverage 0.3: vote rows are nearly all distinct
    data = make_label_matrix(600, 30, 2, coverage=0.3, accuracy=0.6, random_state=1)
    gold = np.where(np.arange(600) < 300, data.y, -1)
    auto = AutoLabelModel([("memo", Memorizer()), MajorityVote()], random_state=0).fit(data.L, gold=gold)
    scores = auto.scores_.set_index("candidate")["score"]
    assert scores["memo+gold"] < 0.65
    assert not auto.selected_.startswith("memo+gold")


def test_scores_table_lists_every_candidate_with_and_without_gold(skewed):
    """scores_ has a row per candidate, gold use and threshold tuning, best first; reason_ names it."""
    gold = np.where(np.arange(skewed.L.n_items) < 200, skewed.y, -1)
    auto = AutoLabelModel(FAST, random_state=0).fit(skewed.L, gold=gold)
    variants = {"", "+gold", "+threshold", "+gold+threshold"}
    assert set(auto.scores_["candidate"]) == {m + v for m in ("MajorityVote", "DawidSkene") for v in variants}
    assert list(auto.scores_["score"]) == sorted(auto.scores_["score"], reverse=True)
    assert auto.selected_ == auto.scores_.iloc[0]["candidate"]
    assert auto.selected_ in auto.reason_ and "200 gold items" in auto.reason_


@pytest.mark.parametrize("share", [0.1, 0.5])
def test_auto_metric_is_accuracy_whatever_the_balance(share):
    """metric="auto" is accuracy on balanced and imbalanced gold (minority F1 rewards labelling all minority)."""
    data = make_label_matrix(1000, 6, 2, coverage=0.6, accuracy=0.75, class_balance=[1 - share, share],
                             random_state=2)
    auto = AutoLabelModel(FAST, random_state=0).fit(data.L, gold=data.y)
    assert auto.metric_ == "accuracy"


def test_too_little_gold_falls_back_to_the_unsupervised_criterion(skewed):
    """Fewer than min_gold gold labels use the held-out vote likelihood, and reason_ says why."""
    gold = np.full(skewed.L.n_items, -1)
    gold[:10] = skewed.y[:10]
    auto = AutoLabelModel(FAST, min_gold=30, random_state=0).fit(skewed.L, gold=gold)
    assert auto.criterion_ == "heldout_vote_loglik"
    assert "min_gold=30" in auto.reason_
    assert not auto.scores_["uses_gold"].any()


def test_unsupervised_criterion_prefers_the_model_that_fits_the_votes(skewed):
    """Without gold, Dawid-Skene beats majority vote on sources of very different accuracy."""
    auto = AutoLabelModel(FAST, random_state=0).fit(skewed.L)
    assert auto.selected_ == "DawidSkene"


def test_label_switched_candidate_is_disqualified(skewed):
    """A candidate whose classes are permuted against majority vote is disqualified without gold."""
    auto = AutoLabelModel([("flipped", Flipped()), MajorityVote()], random_state=0).fit(skewed.L)
    status = auto.scores_.set_index("candidate")["status"]
    assert status["flipped"].startswith("disqualified")
    assert auto.selected_ == "MajorityVote"


def test_failing_candidate_is_recorded_and_skipped(skewed):
    """A candidate that raises during fit is recorded with its error; another candidate is chosen."""
    bad = DawidSkene(max_iter=0)
    auto = AutoLabelModel([("bad", bad), MajorityVote()], random_state=0).fit(skewed.L)
    assert auto.scores_.set_index("candidate")["status"]["bad"].startswith("error")
    assert auto.selected_ == "MajorityVote"


def test_predict_proba_delegates_to_the_chosen_model(skewed):
    """predict_proba equals the refitted best model's, and class_balance_ is that model's."""
    auto = AutoLabelModel(FAST, random_state=0).fit(skewed.L)
    np.testing.assert_array_equal(auto.predict_proba(skewed.L), auto.best_model_.predict_proba(skewed.L))
    np.testing.assert_array_equal(auto.class_balance_, auto.best_model_.class_balance_)


def test_state_round_trip_with_custom_candidates(skewed):
    """to_state is JSON + arrays with the chosen model nested; from_state predicts identically."""
    gold = np.where(np.arange(skewed.L.n_items) < 300, skewed.y, -1)
    auto = AutoLabelModel([("mv", MajorityVote()), DawidSkene(smoothing=1.0)], random_state=0).fit(
        skewed.L, gold=gold)
    state = auto.to_state()
    meta = json.loads(json.dumps({k: v for k, v in state.items() if k != "arrays"}))
    meta["arrays"] = state["arrays"]
    back = AutoLabelModel.from_state(meta)
    np.testing.assert_array_equal(back.predict_proba(skewed.L), auto.predict_proba(skewed.L))
    assert back.selected_ == auto.selected_
    assert list(back.scores_["candidate"]) == list(auto.scores_["candidate"])
    assert back.get_params()["candidates"][0][0] == "mv"


def test_choice_does_not_depend_on_item_order(skewed):
    """Permuting the items (with their gold labels) gives the same choice and scores."""
    gold = np.where(np.arange(skewed.L.n_items) < 300, skewed.y, -1)
    perm = np.random.default_rng(0).permutation(skewed.L.n_items)
    a = AutoLabelModel(FAST, random_state=0).fit(skewed.L, gold=gold)
    b = AutoLabelModel(FAST, random_state=0).fit(skewed.L.select_items(perm), gold=gold[perm])
    assert a.selected_ == b.selected_
    np.testing.assert_allclose(a.scores_["score"], b.scores_["score"], atol=1e-9)


def test_single_source_uses_majority_vote():
    """With one source only majority vote applies, and fit still succeeds."""
    L = LabelMatrix([[0], [1], [1], [-1]], n_classes=2)
    auto = AutoLabelModel(random_state=0).fit(L)
    assert auto.selected_ == "MajorityVote"


@pytest.mark.parametrize("params,needle", [
    ({"metric": "auc"}, "AutoLabelModel(metric=...)"),
    ({"cv": 1}, "AutoLabelModel(cv=...)"),
    ({"candidates": [object()]}, "AutoLabelModel(candidates=...)"),
    ({"candidates": [MajorityVote(), MajorityVote()]}, "unique candidate names"),
    ({"candidates": []}, "AutoLabelModel(candidates=...)"),
])
def test_bad_parameters_raise_validation_error(skewed, params, needle):
    """Bad parameters raise ValidationError naming the parameter and what was expected."""
    with pytest.raises(ValidationError, match=re.escape(needle)):
        AutoLabelModel(**params).fit(skewed.L)


def test_predict_before_fit_raises():
    """predict_proba before fit raises NotFittedError."""
    with pytest.raises(NotFittedError):
        AutoLabelModel().predict_proba(np.zeros((2, 2), dtype=int))


def test_real_data_with_valid_gold_beats_majority_vote(dataset):
    """On WRENCH youtube, choosing with the valid split's gold scores at least majority vote on test."""
    from weaklab.data import load_wrench

    folder = dataset("wrench_youtube")
    train, valid, test = (load_wrench(folder, split=s) for s in ("train", "valid", "test"))
    L = LabelMatrix.concat([train.L.replace(item_ids=None), valid.L.replace(item_ids=None)])
    gold = np.r_[np.full(train.L.n_items, -1), valid.gold]
    auto = AutoLabelModel(random_state=0).fit(L, gold=gold)
    acc = (auto.predict(test.L, tie_break="prior") == test.gold).mean()
    mv = (MajorityVote().fit(train.L).predict(test.L, tie_break="prior") == test.gold).mean()
    assert acc >= mv


def test_tuned_threshold_is_applied_to_predictions_and_prior():
    """A '+threshold' choice shifts P(positive) so items at the threshold tie, and class_balance_ follows."""
    data = make_label_matrix(2000, 5, 2, coverage=0.2, accuracy=0.8, class_balance=[0.85, 0.15],
                             random_state=4)
    auto = AutoLabelModel([MajorityVote()], metric="f1_minority", random_state=0).fit(data.L, gold=data.y)
    row = auto.scores_.set_index("candidate").loc[auto.selected_]
    if auto.threshold_ is None:
        assert "+threshold" not in auto.selected_
        return
    raw = auto.best_model_.predict_proba(data.L)
    P = auto.predict_proba(data.L)
    pos = auto.positive_
    np.testing.assert_array_equal(P[:, pos] > 0.5, raw[:, pos] > auto.threshold_ + 1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert row["threshold"] == auto.threshold_
    empty = LabelMatrix(np.full((1, 5), -1), n_classes=2)
    np.testing.assert_allclose(auto.predict_proba(empty)[0], auto.class_balance_)
