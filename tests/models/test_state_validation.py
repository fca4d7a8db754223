"""from_state refuses a state whose arrays do not fit its sources and classes (cut short, wrong shape),
for every label model, instead of loading and failing later in predict_proba."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest

import weaklab.models as models
from weaklab import ValidationError
from weaklab.models import DawidSkene, LabelModel
from weaklab.synthetic import make_label_matrix

#: Arrays whose length is free (a history, a list of edges).
FREE = {"loss_history_", "dependencies_"}
M, K = 5, 3


def _classes() -> list[type[LabelModel]]:
    return [cls for cls in (getattr(models, n) for n in models.__all__)
            if inspect.isclass(cls) and issubclass(cls, LabelModel) and cls._fit is not LabelModel._fit]


CASES = [pytest.param(cls, {}, id=cls.__name__) for cls in _classes()]
CASES.append(pytest.param(DawidSkene, {"abstain": "model"}, id="DawidSkene-abstain-model"))


@functools.cache
def _fit(cls: type[LabelModel], params: tuple) -> LabelModel:
    L = make_label_matrix(300, M, n_classes=K, coverage=0.6, random_state=0).L
    return cls(**dict(params)).fit(L)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_an_array_cut_short_is_refused_at_load(cls, params):
    """Dropping the last entry of any sized state array makes from_state raise a ValidationError."""
    model = _fit(cls, tuple(params.items()))
    state = model.to_state()
    sized = [n for n, a in state["arrays"].items() if n.split("/")[-1] not in FREE and np.ndim(a) >= 1]
    assert sized
    for name in sized:
        cut = {**state, "arrays": {**state["arrays"], name: np.asarray(state["arrays"][name])[:-1]}}
        with pytest.raises(ValidationError, match=r"state"):
            cls.from_state(cut)


@pytest.mark.parametrize(("cls", "params"), CASES)
def test_an_intact_state_loads_and_predicts_the_same(cls, params):
    """The checks accept every model's own state: the reloaded model predicts the same."""
    model = _fit(cls, tuple(params.items()))
    L = make_label_matrix(50, M, n_classes=K, coverage=0.6, random_state=1).L
    again = cls.from_state(model.to_state())
    assert np.allclose(again.predict_proba(L), model.predict_proba(L))


def test_source_names_of_the_wrong_length_are_refused():
    """The attributes must agree with the arrays too (n_sources_ vs source_names_)."""
    model = _fit(DawidSkene, ())
    state = model.to_state()
    state["attributes"] = {**state["attributes"], "source_names_": ["a", "b"]}
    with pytest.raises(ValidationError, match="source_names_"):
        DawidSkene.from_state(state)


def test_torch_classifier_state_cut_short_is_a_validation_error():
    """TorchClassifier.from_state with a weight array cut short names the state, not torch's RuntimeError."""
    pytest.importorskip("torch")
    from weaklab.endmodel import TorchClassifier

    X = np.random.default_rng(0).random((60, 4)).astype("float32")
    state = TorchClassifier(n_epochs=1, random_state=0).fit(X, np.tile([0, 1, 2], 20)).to_state()
    for name in (n for n in state["arrays"] if n.startswith("net")):
        cut = {**state, "arrays": {**state["arrays"], name: np.asarray(state["arrays"][name])[:-1]}}
        with pytest.raises(ValidationError, match=r"^state: expected"):
            TorchClassifier.from_state(cut)
