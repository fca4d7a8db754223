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
