"""Tests of WeightedMajorityVote (fixed, gold-learned or uniform source weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab._core import LabelMatrix
from weaklab.errors import NotFittedError, ValidationError
from weaklab.models import MajorityVote, WeightedMajorityVote


def make_votes(n=3000, accuracies=(0.95, 0.9, 0.6, 0.55, 0.55, 0.55), k=3, coverage=0.7, seed=0):
    """Votes of independent one-coin sources of the given accuracies, and the truth."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    votes = np.full((n, len(accuracies)), -1, dtype=np.int8)
    for j, acc in enumerate(accuracies):
        wrong = (y + rng.integers(1, k, n)) % k
        label = np.where(rng.random(n) < acc, y, wrong)
        voted = rng.random(n) < coverage
        votes[voted, j] = label[voted]
    return LabelMatrix(votes, n_classes=k), y


def test_uniform_weights_agree_with_majority_vote():
    """Without weights or gold, the most probable class is the majority vote's."""
    L, _ = make_votes(n=1000)
    wmv = WeightedMajorityVote().fit(L).predict_proba(L)
    mv = MajorityVote().fit(L).predict_proba(L)
    clear = np.sort(mv, axis=1)[:, -1] > np.sort(mv, axis=1)[:, -2] + 1e-9
    np.testing.assert_array_equal(wmv.argmax(axis=1)[clear], mv.argmax(axis=1)[clear])
    np.testing.assert_allclose(wmv.sum(axis=1), 1.0)


def test_softmax_of_weighted_votes_with_temperature():
    """Soft labels are softmax(weighted vote totals / temperature); a higher temperature is softer."""
    L = LabelMatrix([[0, 0, 1], [1, -1, 1]], n_classes=2)
    model = WeightedMajorityVote(weights=[2.0, 1.0, 0.5], temperature=2.0).fit(L)
    P = model.predict_proba(L)
    scores = np.array([[3.0, 0.5], [0.0, 2.5]]) / 2.0
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P, expected)
    cold = WeightedMajorityVote(weights=[2.0, 1.0, 0.5], temperature=0.5).fit(L).predict_proba(L)
    assert np.all(cold.max(axis=1) > P.max(axis=1))


def test_share_output_is_normalised_weighted_counts():
    """output="share" gives each class's share of the positive weighted votes."""
    L = LabelMatrix([[0, 0, 1], [1, -1, 1]], n_classes=2)
    P = WeightedMajorityVote(weights=[2.0, 1.0, 1.0], output="share").fit(L).predict_proba(L)
    np.testing.assert_allclose(P, [[0.75, 0.25], [0.0, 1.0]])


def test_weights_by_name_match_weights_by_position():
    """A mapping of source names to weights (unlisted sources weigh 1) equals the positional form."""
    L = make_votes(n=300)[0].replace(source_names=["a", "b", "c", "d", "e", "f"])
    by_name = WeightedMajorityVote(weights={"a": 3.0, "c": 0.5}).fit(L)
    by_position = WeightedMajorityVote(weights=[3.0, 1, 0.5, 1, 1, 1]).fit(L)
    np.testing.assert_allclose(by_name.weights_, by_position.weights_)
    np.testing.assert_allclose(by_name.predict_proba(L), by_position.predict_proba(L))


def test_gold_weights_rank_sources_and_beat_majority_vote():
    """Log-odds weights learned from 5 % gold rank sources by accuracy and beat majority vote."""
    L, y = make_votes()
    gold = np.where(np.random.default_rng(1).random(y.shape[0]) < 0.05, y, -1)
    model = WeightedMajorityVote().fit(L, gold=gold)
    assert model.weights_[0] > model.weights_[1] > max(model.weights_[2:])
    rest = gold < 0
    acc = np.mean(model.predict(L, tie_break="prior")[rest] == y[rest])
    mv = np.mean(MajorityVote().fit(L).predict(L, tie_break="prior")[rest] == y[rest])
    assert acc >= mv + 0.03
    light = WeightedMajorityVote(smoothing=2.0).fit(L, gold=gold)  # less shrinkage toward the pooled accuracy
    np.testing.assert_allclose(light.source_accuracy_[:2], [0.95, 0.9], atol=0.05)


def test_all_abstain_row_gets_class_balance():
    """An item without votes gets the class prior in both output modes."""
    L, _ = make_votes(n=300)
    votes = np.vstack([L.to_dense()[:3], np.full((1, L.n_sources), -1)])
    for output in ("softmax", "share"):
        model = WeightedMajorityVote(output=output).fit(L, class_balance=[0.2, 0.3, 0.5])
        np.testing.assert_allclose(model.predict_proba(votes)[-1], [0.2, 0.3, 0.5])


def test_sparse_dense_and_state_round_trip(tmp_path):
    """Sparse and dense storage predict the same; a saved model predicts like the original."""
    L, y = make_votes(n=500)
    gold = np.where(np.arange(500) < 50, y, -1)
    model = WeightedMajorityVote().fit(L.as_sparse(), gold=gold)
    P = model.predict_proba(L)
    np.testing.assert_allclose(model.predict_proba(L.as_sparse()), P)
    loaded = WeightedMajorityVote.load(model.save(tmp_path / "wmv"))
    np.testing.assert_allclose(loaded.predict_proba(L), P)


@pytest.mark.realdata
def test_gold_weights_on_sentiment_crowd(dataset):
    """On Zheng's d_sentiment, weights learned from 200 gold items beat majority vote on the other 800."""
    folder = dataset("crowd_zheng2017") / "d_sentiment"
    answers = pd.read_csv(folder / "answer.csv")
    answers.columns = ["item", "source", "label"]
    truth = pd.read_csv(folder / "truth.csv")
    truth.columns = ["item", "truth"]
    L = LabelMatrix.from_long(answers, duplicates="split")
    y = truth.set_index("item")["truth"].reindex(L.item_ids).to_numpy()
    gold = np.where(np.random.default_rng(0).random(y.shape[0]) < 0.2, y, -1)
    rest = gold < 0
    acc = np.mean(WeightedMajorityVote().fit(L, gold=gold).predict(L, random_state=0)[rest] == y[rest])
    mv = np.mean(MajorityVote().fit(L).predict(L, random_state=0)[rest] == y[rest])
    assert acc > mv


def test_bad_inputs_raise():
    """Bad weights or temperature raise ValidationError naming the parameter; unfitted use raises."""
    L, _ = make_votes(n=100)
    with pytest.raises(NotFittedError):
        WeightedMajorityVote().predict_proba(L)
    with pytest.raises(ValidationError, match="weights"):
        WeightedMajorityVote(weights=[1.0, 2.0]).fit(L)
    with pytest.raises(ValidationError, match="weights"):
        WeightedMajorityVote(weights=[1.0, np.nan, 1, 1, 1, 1]).fit(L)
    with pytest.raises(ValidationError, match="weights"):
        WeightedMajorityVote(weights={"nope": 1.0}).fit(L)
    with pytest.raises(ValidationError, match="temperature"):
        WeightedMajorityVote(temperature=0.0).fit(L)
    with pytest.raises(ValidationError, match="output"):
        WeightedMajorityVote(output="hard").fit(L)
    model = WeightedMajorityVote().fit(L)
    with pytest.raises(ValidationError, match="sources"):
        model.predict_proba(L.to_dense()[:, :2])
