"""fit(..., gold_sampling=...): gold chosen by active learning is used only where its selection cannot bias it."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.models import (
    AutoLabelModel,
    DawidSkene,
    LabelModel,
    MajorityVote,
    MatrixCompletion,
    WeightedMajorityVote,
)
from weaklab.synthetic import make_label_matrix


@pytest.fixture(scope="module")
def task():
    """Binary votes of sources of mixed accuracy, and 60 answers on the items where they disagree most."""
    data = make_label_matrix(2000, 8, 2, coverage=0.6, accuracy=[0.95, 0.9, 0.6, 0.6, 0.6, 0.6, 0.55, 0.55],
                             class_balance=[0.7, 0.3], random_state=4)
    counts = data.L.class_counts()
    disagreement = counts.min(axis=1) / np.maximum(counts.sum(axis=1), 1)
    asked = np.argsort(-disagreement, kind="stable")[:60]
    gold = np.full(data.L.n_items, -1)
    gold[asked] = data.y[asked]
    return data, gold


@pytest.mark.parametrize("cls", [MajorityVote, WeightedMajorityVote, MatrixCompletion], ids=lambda c: c.__name__)
def test_models_that_measure_gold_ignore_active_gold(task, cls):
    """A model that takes class frequencies or accuracies from the gold items fits as without gold."""
    data, gold = task
    without = cls().fit(data.L)
    active = cls().fit(data.L, gold=gold, gold_sampling="active")
    np.testing.assert_allclose(active.predict_proba(data.L), without.predict_proba(data.L))
    np.testing.assert_allclose(active.class_balance_, without.class_balance_)
    random = cls().fit(data.L, gold=gold)  # the same answers declared random do move the model
    assert not np.allclose(random.class_balance_, without.class_balance_)


def test_models_that_clamp_keep_active_gold(task):
    """Dawid-Skene clamps the answered items whichever way they were chosen."""
    data, gold = task
    active = DawidSkene().fit(data.L, gold=gold, gold_sampling="active")
    random = DawidSkene().fit(data.L, gold=gold)
    np.testing.assert_allclose(active.confusion_, random.confusion_)
    assert not np.allclose(active.confusion_, DawidSkene().fit(data.L).confusion_)


def test_auto_does_not_use_active_gold(task):
    """With 60 active answers AutoLabelModel fits exactly as without gold; 60 random answers are scored on."""
    data, gold = task
    candidates = [MajorityVote(), DawidSkene()]
    blind = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L)
    active = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L, gold=gold, gold_sampling="active")
    scored = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L, gold=gold)
    assert scored.criterion_ == "gold"
    assert active.criterion_ == blind.criterion_ != "gold"
    assert active.selected_ == blind.selected_
    np.testing.assert_allclose(active.predict_proba(data.L), blind.predict_proba(data.L))
    assert active.gold_sampling_ == "active" and "active learning" in active.reason_
    restored = AutoLabelModel.from_state(active.to_state())
    assert restored.gold_sampling_ == "active"
    np.testing.assert_allclose(restored.predict_proba(data.L), active.predict_proba(data.L))


def test_bad_gold_sampling_is_rejected(task):
    """gold_sampling must be "random" or "active"; the error names the parameter."""
    data, gold = task
    with pytest.raises(ValidationError, match="gold_sampling"):
        MajorityVote().fit(data.L, gold=gold, gold_sampling="biased")


def test_every_label_model_accepts_gold_sampling():
    """The fit signature of the base class carries gold_sampling with default "random"."""
    import inspect

    parameter = inspect.signature(LabelModel.fit).parameters["gold_sampling"]
    assert parameter.default == "random" and parameter.kind is inspect.Parameter.KEYWORD_ONLY


@pytest.fixture(scope="module")
def mixed(task):
    """The 60 active answers of ``task`` plus 40 gold labels of items drawn at random (none of them asked)."""
    data, active_gold = task
    rng = np.random.default_rng(11)
    drawn = rng.choice(np.flatnonzero(active_gold < 0), size=40, replace=False)
    random_gold = np.full(data.L.n_items, -1)
    random_gold[drawn] = data.y[drawn]
    gold = np.where(random_gold >= 0, random_gold, active_gold)
    sampling = np.where(random_gold >= 0, "random", "active")
    return data, gold, sampling, random_gold


@pytest.mark.parametrize("cls", [MajorityVote, WeightedMajorityVote, MatrixCompletion], ids=lambda c: c.__name__)
def test_per_item_sampling_measures_only_random_gold(mixed, cls):
    """A model that measures its gold fits on the items marked "random" of a per-item gold_sampling alone."""
    data, gold, sampling, random_gold = mixed
    both = cls().fit(data.L, gold=gold, gold_sampling=sampling)
    alone = cls().fit(data.L, gold=random_gold)
    np.testing.assert_allclose(both.predict_proba(data.L), alone.predict_proba(data.L))
    np.testing.assert_allclose(both.class_balance_, alone.class_balance_)
    assert not np.allclose(cls().fit(data.L, gold=gold).class_balance_, alone.class_balance_)


def test_per_item_sampling_clamps_every_gold_item(mixed):
    """Dawid-Skene clamps every known item of a per-item gold_sampling, random or active."""
    data, gold, sampling, random_gold = mixed
    both = DawidSkene().fit(data.L, gold=gold, gold_sampling=sampling)
    np.testing.assert_allclose(both.confusion_, DawidSkene().fit(data.L, gold=gold).confusion_)
    assert not np.allclose(both.confusion_, DawidSkene().fit(data.L, gold=random_gold).confusion_)


def test_auto_scores_on_the_random_part_of_mixed_gold(mixed):
    """AutoLabelModel given gold of both kinds fits as given the random part alone, and says what it left out."""
    data, gold, sampling, random_gold = mixed
    candidates = [MajorityVote(), DawidSkene()]
    both = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L, gold=gold, gold_sampling=sampling)
    alone = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L, gold=random_gold)
    assert both.criterion_ == alone.criterion_ == "gold" and both.selected_ == alone.selected_
    np.testing.assert_allclose(both.predict_proba(data.L), alone.predict_proba(data.L))
    pd_cols = ["candidate", "score"]
    assert both.scores_[pd_cols].equals(alone.scores_[pd_cols])
    assert both.gold_sampling_ == "mixed" and "60 gold labels chosen by active learning not used" in both.reason_
    assert AutoLabelModel.from_state(both.to_state()).gold_sampling_ == "mixed"
    few = AutoLabelModel(candidates, min_gold=50, random_state=0).fit(data.L, gold=gold, gold_sampling=sampling)
    assert few.criterion_ != "gold" and "40 gold labels drawn at random < min_gold=50; 60 more" in few.reason_


def test_uniform_per_item_sampling_equals_the_string(task):
    """A per-item gold_sampling of one value fits exactly as that value given once."""
    data, gold = task
    candidates = [MajorityVote(), DawidSkene()]
    for value in ("random", "active"):
        per_item = np.full(data.L.n_items, value)
        a = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L, gold=gold, gold_sampling=per_item)
        b = AutoLabelModel(candidates, min_gold=20, random_state=0).fit(data.L, gold=gold, gold_sampling=value)
        np.testing.assert_allclose(a.predict_proba(data.L), b.predict_proba(data.L))
        assert a.gold_sampling_ == b.gold_sampling_ == value


@pytest.mark.parametrize("bad", [["random"] * 3, np.full(2000, "biased"), np.zeros(2000), 3],
                         ids=["short", "unknown value", "numbers", "int"])
def test_bad_per_item_gold_sampling_is_rejected(task, bad):
    """A per-item gold_sampling needs one of "random"/"active" per item; the error names the parameter and shape."""
    data, gold = task
    with pytest.raises(ValidationError, match=r"gold_sampling: expected 'random', 'active', or an array of shape "
                                              r"\(2000,\)"):
        MajorityVote().fit(data.L, gold=gold, gold_sampling=bad)
