"""Every label model exported by weaklab.models passes the conformance checks of DESIGN.md §4."""

from __future__ import annotations

import inspect
from typing import ClassVar

import numpy as np
import pytest
from sklearn.base import clone

import weaklab.models as models
from weaklab import LabelMatrix
from weaklab.models import LabelModel, MajorityVote
from weaklab.testing import LABEL_MODEL_CHECKS, check_label_model, label_model_checks


def _model_classes() -> list[type[LabelModel]]:
    """Concrete LabelModel subclasses in weaklab.models.__all__ (base classes excluded)."""
    found = []
    for name in models.__all__:
        obj = getattr(models, name)
        if inspect.isclass(obj) and issubclass(obj, LabelModel) and obj._fit is not LabelModel._fit:
            found.append(obj)
    return found


def _instances(cls: type[LabelModel]) -> list[tuple[str, LabelModel]]:
    """The default instance, plus one per explicit abstain mode for models that have the parameter."""
    model = cls()
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=0)
    out = [(cls.__name__, model)]
    if "abstain" in model.get_params(deep=False):
        out += [(f"{cls.__name__}[abstain={mode}]", clone(model).set_params(abstain=mode))
                for mode in ("model", "ignore")]
    return out


def _cases() -> list:
    return [
        pytest.param(cls, name, check, id=f"{label}-{name}")
        for cls in _model_classes()
        for label, model in _instances(cls)
        for name, check in label_model_checks(model)
    ]


@pytest.mark.parametrize(("cls", "name", "check"), _cases())
def test_label_model_conforms(cls, name, check):
    """The model passes one conformance check (fit/predict contract, equivariances, state, quality)."""
    check()


def test_majority_vote_is_discovered():
    """Discovery finds MajorityVote and skips the abstract bases."""
    names = {cls.__name__ for cls in _model_classes()}
    assert "MajorityVote" in names
    assert "LabelModel" not in names and "ConfusionLabelModel" not in names


def test_check_list_is_introspectable():
    """label_model_checks yields every named check, each a no-argument callable."""
    yielded = dict(label_model_checks(MajorityVote()))
    assert set(yielded) <= set(LABEL_MODEL_CHECKS)
    assert {"fit_returns_self", "predict_proba_is_pure", "deterministic", "state_round_trip"} <= set(yielded)
    assert all(callable(check) for check in yielded.values())


class _Broken(LabelModel):
    """A label model that breaks the contract in a configurable way."""

    _state_arrays: ClassVar[tuple[str, ...]] = ("weights_",)

    def __init__(self, flaw: str = "none", random_state=None) -> None:
        self.flaw = flaw
        self.random_state = random_state

    def _fit(self, L, gold, class_balance):
        k = L.n_classes
        self.class_balance_ = np.full(k, 1.0 / k)
        self.weights_ = np.ones(L.n_sources)
        if self.flaw == "random":
            self.weights_ = np.random.default_rng().random(L.n_sources) + 0.5

    def _predict_proba(self, L):
        if self.flaw == "mutates":
            self.weights_ = self.weights_ * 1.01
        counts = np.zeros((L.n_items, L.n_classes))
        rows, cols, labels = L.coo()
        np.add.at(counts, (rows, labels.astype(np.int64)), self.weights_[cols])
        if self.flaw == "no_prior":
            counts += np.eye(L.n_classes)[0]
        if self.flaw == "unnormalised":
            return counts + 0.5
        counts += 1e-3
        if self.flaw == "order":
            counts[0] += np.arange(L.n_classes)
        return counts / counts.sum(axis=1, keepdims=True)


class _AntiModel(_Broken):
    """Votes for the opposite of the majority: far worse than majority vote."""

    def _predict_proba(self, L):
        P = super()._predict_proba(L)
        return P[:, ::-1]


class _AbstainAware(_Broken):
    """Declares per-class abstain rates; all-abstain rows get prior * prod rates unless ``flaw`` says otherwise."""

    _optional_state_arrays: ClassVar[tuple[str, ...]] = ("abstain_rate_",)

    def _fit(self, L, gold, class_balance):
        super()._fit(L, gold, class_balance)
        self.abstain_rate_ = np.tile(np.linspace(0.2, 0.8, L.n_classes), (L.n_sources, 1))

    def _predict_proba(self, L):
        P = super()._predict_proba(L)
        empty = np.flatnonzero(np.asarray(L.to_dense() < 0).all(axis=1))
        if self.flaw != "ignores_abstain_rate":
            post = self.class_balance_ * np.prod(self.abstain_rate_, axis=0)
            P[empty] = post / post.sum()
        return P


def test_abstain_aware_model_passes_everything():
    """A model with abstain_rate_ whose all-abstain rows get prior * prod(abstain rates) passes every check."""
    check_label_model(_AbstainAware("none"))


@pytest.mark.parametrize(
    ("model", "check"),
    [
        (_AbstainAware("ignores_abstain_rate"), "all_abstain_gets_prior"),
        (_Broken("mutates"), "predict_proba_is_pure"),
        (_Broken("random"), "deterministic"),
        (_Broken("no_prior"), "all_abstain_gets_prior"),
        (_Broken("unnormalised"), "proba_is_distribution"),
        (_Broken("order"), "row_order_equivariance"),
        (_AntiModel(), "beats_majority"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_checks_catch_broken_models(model, check):
    """A model that breaks a rule fails the matching check with an AssertionError naming check and model."""
    checks = dict(label_model_checks(model))
    with pytest.raises(AssertionError, match=rf"{type(model).__name__} fails conformance check '{check}'"):
        checks[check]()


def test_correct_toy_model_passes_everything():
    """The unbroken toy model passes check_label_model, so the broken cases fail for their flaw alone."""
    check_label_model(_Broken("none"))


def test_conformance_skip_attribute_removes_checks():
    """A model listing a check in _conformance_skip does not get that check; unknown names are an error."""

    class Skipping(_AntiModel):
        _conformance_skip = ("beats_majority",)

    class Typo(_Broken):
        _conformance_skip = ("beats_majorty",)

    assert "beats_majority" not in dict(label_model_checks(Skipping()))
    check_label_model(Skipping())
    with pytest.raises(ValueError, match="unknown checks"):
        list(label_model_checks(Typo()))


def test_not_fitted_model_is_not_a_label_model_error():
    """label_model_checks rejects objects that are not label models."""
    with pytest.raises(TypeError, match="LabelModel"):
        list(label_model_checks(LabelMatrix([[0, 1]])))
