"""Conformance checks every label model must pass (DESIGN.md §4).

:func:`check_label_model` runs all checks on an *unfitted* model instance;
:func:`label_model_checks` yields them one by one as ``(name, check)`` pairs,
so a test suite can parametrize over them. Each check works on a fresh
``sklearn.base.clone`` of the model and raises ``AssertionError`` naming the
check and the model when the model breaks the contract.

A model that is not meant to pass a check declares it in a class attribute::

    class MajorityVote(LabelModel):
        _conformance_skip = ("beats_majority",)

The names are those of :data:`LABEL_MODEL_CHECKS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.base import clone

from ._core import LabelMatrix
from ._core.constants import ABSTAIN, TINY
from ._core.validation import check_int
from .errors import NotFittedError
from .models import LabelModel
from .synthetic import make_label_matrix

__all__ = ["LABEL_MODEL_CHECKS", "label_model_checks", "check_label_model"]

SKIP_ATTRIBUTE = "_conformance_skip"
"""Class attribute listing the names of checks a model is exempt from."""

_REFIT_ATOL = 1e-6  # refitting on the same votes in another row order
_SOURCE_ATOL = 1e-4  # refitting with permuted sources
_STORAGE_ATOL = 1e-5  # fitting on dense vs sparse storage of the same votes
_PREDICT_ATOL = 1e-9  # predicting the same items through another matrix
_MAJORITY_TOL = 0.01  # accuracy a model may lose against majority vote

Check = Callable[[], None]


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _matrix(random_state: int, n_classes: int = 3) -> LabelMatrix:
    """A small matrix with named sources and a few all-abstain rows."""
    data = make_label_matrix(
        400, 6, n_classes, coverage=(0.3, 0.9), accuracy=(0.55, 0.9), random_state=random_state
    )
    names = [f"lf_{j}" for j in range(6)]
    return data.L.replace(source_names=names, item_ids=np.arange(400) + 1000)


@lru_cache(maxsize=4)
def _quality_data(random_state: int, n_classes: int) -> tuple[LabelMatrix, np.ndarray]:
    data = make_label_matrix(
        5000, 10, n_classes, coverage=(0.3, 0.9), accuracy=(0.55, 0.95), random_state=random_state
    )
    return data.L, data.y


def _fresh(model: LabelModel, random_state: int) -> LabelModel:
    """An unfitted clone; a ``random_state`` parameter left at None is seeded."""
    new = clone(model)
    if new.get_params(deep=False).get("random_state", 0) is None:
        new.set_params(random_state=random_state)
    return new


def _fit(model: LabelModel, L: LabelMatrix, random_state: int) -> LabelModel:
    return _fresh(model, random_state).fit(L)


def _require(condition: bool, check: str, model: LabelModel, message: str) -> None:
    if not condition:
        raise AssertionError(f"{type(model).__name__} fails conformance check {check!r}: {message}")


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)), initial=0.0))


def _require_close(
    a: np.ndarray, b: np.ndarray, atol: float, check: str, model: LabelModel, what: str
) -> None:
    same_shape = np.shape(a) == np.shape(b)
    _require(same_shape, check, model, f"{what}: shapes {np.shape(a)} and {np.shape(b)} differ")
    diff = _max_diff(a, b)
    _require(diff <= atol, check, model, f"{what}: max abs difference {diff:.3g} > {atol:g}")


# ---------------------------------------------------------------------------
# checks: each takes (model, random_state) and raises AssertionError
# ---------------------------------------------------------------------------


def check_fit_returns_self(model: LabelModel, random_state: int) -> None:
    """``fit`` returns the estimator itself."""
    fresh = _fresh(model, random_state)
    out = fresh.fit(_matrix(random_state))
    _require(out is fresh, "fit_returns_self", model, f"fit returned {type(out).__name__}, not self")


def check_not_fitted_error(model: LabelModel, random_state: int) -> None:
    """``predict_proba``, ``predict`` and ``to_state`` raise NotFittedError before fit."""
    L = _matrix(random_state)
    for method in ("predict_proba", "predict", "to_state"):
        fresh = _fresh(model, random_state)
        call = getattr(fresh, method)
        try:
            call(L) if method != "to_state" else call()
        except NotFittedError:
            continue
        except Exception as exc:  # any other error is the failure reported below
            _require(False, "not_fitted_error", model,
                     f"{method} before fit raised {type(exc).__name__}: {exc}, not NotFittedError")
        _require(False, "not_fitted_error", model, f"{method} before fit did not raise NotFittedError")


def check_predict_proba_is_pure(model: LabelModel, random_state: int) -> None:
    """``predict_proba`` leaves the fitted model's state and public attributes unchanged."""
    L = _matrix(random_state)
    fitted = _fit(model, L, random_state)
    before_state, before_vars = fitted.to_state(), _public_vars(fitted)
    fitted.predict_proba(L)
    fitted.predict_proba(L.select_items(np.arange(10)))
    fitted.predict(L, tie_break="random")
    problem = _state_difference(before_state, fitted.to_state())
    problem = problem or _vars_difference(before_vars, _public_vars(fitted))
    _require(problem is None, "predict_proba_is_pure", model, f"predicting changed the model: {problem}")


def _public_vars(model: LabelModel) -> dict[str, Any]:
    return {key: _snapshot(value) for key, value in vars(model).items() if not key.startswith("_")}


def _snapshot(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _vars_difference(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    if set(before) != set(after):
        return f"attributes {sorted(set(before) ^ set(after))} were added or removed"
    for key in before:
        if not _equal(before[key], after[key]):
            return f"attribute {key!r} changed"
    return None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _state_difference(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    for key in ("params", "attributes"):
        if not _equal(before.get(key), after.get(key)):
            return f"state[{key!r}] changed"
    arrays_before, arrays_after = before.get("arrays", {}), after.get("arrays", {})
    if set(arrays_before) != set(arrays_after):
        return "the set of state arrays changed"
    for name, arr in arrays_before.items():
        if not _equal(np.asarray(arr), np.asarray(arrays_after[name])):
            return f"state array {name!r} changed"
    return None


def check_proba_is_distribution(model: LabelModel, random_state: int) -> None:
    """``predict_proba`` returns finite ``(n, k)`` rows in [0, 1] that sum to 1."""
    L = _matrix(random_state)
    P = np.asarray(_fit(model, L, random_state).predict_proba(L))
    check = "proba_is_distribution"
    expected = (L.n_items, L.n_classes)
    _require(P.shape == expected, check, model, f"shape {P.shape}, expected {expected}")
    _require(P.dtype.kind == "f", check, model, f"dtype {P.dtype}, expected a float dtype")
    _require(bool(np.all(np.isfinite(P))), check, model, "NaN or infinite probabilities")
    _require(bool(P.min() >= -1e-12 and P.max() <= 1 + 1e-12), check, model,
             f"probabilities outside [0, 1]: [{P.min():.6g}, {P.max():.6g}]")
    worst = float(np.max(np.abs(P.sum(axis=1) - 1.0)))
    _require(worst <= 1e-6, check, model, f"rows do not sum to 1 (max deviation {worst:.3g})")


def check_all_abstain_gets_prior(model: LabelModel, random_state: int) -> None:
    """An item on which every source abstains gets the class prior ``class_balance_``.

    A model that learns how often sources abstain declares it with a fitted
    attribute ``abstain_rate_`` of shape ``(n_sources, n_classes)``,
    ``P(source j abstains | class c)``; its all-abstain rows must then get
    the Bayesian answer ``class_balance_ * prod_j abstain_rate_[j]``
    (normalised). Without that attribute (or with it None) the row must be
    ``class_balance_`` itself. ``predict(L, tie_break="abstain")`` abstains
    (-1) on such an item: the votes say nothing about it.
    """
    L = _matrix(random_state)
    fitted = _fit(model, L, random_state)
    empty = LabelMatrix(np.full((3, L.n_sources), -1), n_classes=L.n_classes, source_names=L.source_names)
    P = fitted.predict_proba(empty)
    check = "all_abstain_gets_prior"
    expected, what = _all_abstain_posterior(fitted, L, check)
    _require_close(P, np.broadcast_to(expected, P.shape), 1e-6, check, model, f"all-abstain rows vs {what}")
    hard = fitted.predict(empty, tie_break="abstain")
    _require(bool(np.all(hard == ABSTAIN)), check, model,
             f'predict(tie_break="abstain") gave {hard.tolist()} on all-abstain rows, not -1')


def _all_abstain_posterior(fitted: LabelModel, L: LabelMatrix, check: str) -> tuple[np.ndarray, str]:
    """The posterior an all-abstain row must get, and how to name it in a failure message."""
    prior = np.asarray(fitted.class_balance_, dtype=float)
    rates = getattr(fitted, "abstain_rate_", None)
    if rates is None:
        return prior, "class_balance_"
    rates = np.asarray(rates, dtype=float)
    shape = (L.n_sources, L.n_classes)
    _require(rates.shape == shape, check, fitted, f"abstain_rate_ has shape {rates.shape}, expected {shape}")
    _require(bool(np.all((rates >= 0) & (rates <= 1))), check, fitted, "abstain_rate_ outside [0, 1]")
    log_post = np.log(np.clip(prior, TINY, None)) + np.log(np.clip(rates, TINY, None)).sum(axis=0)
    post = np.exp(log_post - log_post.max())
    return post / post.sum(), "class_balance_ * prod_j abstain_rate_[j] (normalised)"


def check_row_order_equivariance(model: LabelModel, random_state: int) -> None:
    """Permuting items permutes predictions, and refitting on permuted rows changes nothing."""
    L = _matrix(random_state)
    perm = np.random.default_rng(random_state).permutation(L.n_items)
    fitted = _fit(model, L, random_state)
    P = fitted.predict_proba(L)
    check = "row_order_equivariance"
    _require_close(fitted.predict_proba(L.select_items(perm)), P[perm], _PREDICT_ATOL, check, model,
                   "predictions on permuted rows vs permuted predictions")
    refit = _fit(model, L.select_items(perm), random_state)
    _require_close(refit.predict_proba(L), P, _REFIT_ATOL, check, model,
                   "model fitted on permuted rows vs model fitted on the original rows")


def check_source_order_equivariance(model: LabelModel, random_state: int) -> None:
    """Fitting on permuted sources gives the same predictions (matched by source name)."""
    L = _matrix(random_state)
    perm = np.random.default_rng(random_state + 1).permutation(L.n_sources)
    P = _fit(model, L, random_state).predict_proba(L)
    permuted = L.select_sources([L.source_names[j] for j in perm])
    refit = _fit(model, permuted, random_state)
    check = "source_order_equivariance"
    _require_close(refit.predict_proba(permuted), P, _SOURCE_ATOL, check, model,
                   "model fitted on permuted sources vs the original")
    _require_close(refit.predict_proba(L), P, _SOURCE_ATOL, check, model,
                   "model fitted on permuted sources, predicting on the original column order")


def check_deterministic(model: LabelModel, random_state: int) -> None:
    """Two fits with the same ``random_state`` give identical predictions."""
    L = _matrix(random_state)
    first = _fit(model, L, random_state).predict_proba(L)
    second = _fit(model, L, random_state).predict_proba(L)
    _require(np.array_equal(first, second), "deterministic", model,
             f"two fits differ (max abs difference {_max_diff(first, second):.3g})")


def check_state_round_trip(model: LabelModel, random_state: int) -> None:
    """``to_state`` holds only JSON types and arrays; ``from_state`` predicts identically."""
    L = _matrix(random_state)
    fitted = _fit(model, L, random_state)
    state = fitted.to_state()
    check = "state_round_trip"
    _require(isinstance(state, dict), check, model, f"to_state returned {type(state).__name__}, not a dict")
    problem = _non_json_value({k: v for k, v in state.items() if k != "arrays"}, "state")
    _require(problem is None, check, model, f"non-JSON value in the state: {problem}")
    arrays = state.get("arrays", {})
    _require(isinstance(arrays, dict), check, model, "state['arrays'] is not a dict")
    for name, arr in arrays.items():
        ok = isinstance(arr, np.ndarray) and arr.dtype.kind in "biufc"
        _require(ok, check, model, f"state['arrays'][{name!r}] is not a numeric numpy array")
    meta = json.loads(json.dumps({k: v for k, v in state.items() if k != "arrays"}))
    meta["arrays"] = {name: np.array(arr) for name, arr in arrays.items()}
    rebuilt = type(fitted).from_state(meta)
    P, Q = fitted.predict_proba(L), rebuilt.predict_proba(L)
    _require(np.array_equal(P, Q), check, model,
             f"the rebuilt model predicts differently (max abs difference {_max_diff(P, Q):.3g})")


def _non_json_value(value: Any, path: str) -> str | None:
    """Path of the first value that is not a JSON type, or None."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return None
    if isinstance(value, list):
        return next((p for i, v in enumerate(value) if (p := _non_json_value(v, f"{path}[{i}]"))), None)
    if isinstance(value, dict):
        for key, v in value.items():
            if not isinstance(key, str):
                return f"{path} has a non-string key {key!r}"
            if (p := _non_json_value(v, f"{path}[{key!r}]")) is not None:
                return p
        return None
    return f"{path} is a {type(value).__name__}"


def check_sparse_dense_agree(model: LabelModel, random_state: int) -> None:
    """Sparse and dense storage of the same votes give the same predictions."""
    L = _matrix(random_state)
    dense, sparse = L.as_dense(), L.as_sparse()
    fitted = _fit(model, dense, random_state)
    P = fitted.predict_proba(dense)
    check = "sparse_dense_agree"
    _require_close(fitted.predict_proba(sparse), P, _PREDICT_ATOL, check, model,
                   "predictions on sparse vs dense storage")
    _require_close(_fit(model, sparse, random_state).predict_proba(dense), P, _STORAGE_ATOL, check, model,
                   "model fitted on sparse vs dense storage")


def check_predicts_new_matrices(model: LabelModel, random_state: int) -> None:
    """A model predicts on held-out items of the same sources, item by item."""
    L = _matrix(random_state)
    train, test = np.arange(300), np.arange(300, L.n_items)
    fitted = _fit(model, L.select_items(train), random_state)
    held_out = L.select_items(test)
    P = np.asarray(fitted.predict_proba(held_out))
    check = "predicts_new_matrices"
    _require(P.shape == (test.size, L.n_classes), check, model, f"shape {P.shape} on {test.size} new items")
    _require_close(P.sum(axis=1), np.ones(test.size), 1e-6, check, model, "row sums on new items")
    _require_close(fitted.predict_proba(L)[test], P, _PREDICT_ATOL, check, model,
                   "new items predicted alone vs together with the training items")
    single = fitted.predict_proba(L.select_items(test[:1]))
    _require_close(single, P[:1], _PREDICT_ATOL, check, model, "one item predicted alone")


def check_beats_majority(model: LabelModel, random_state: int) -> None:
    """Accuracy is at least majority vote's (minus 0.01) when sources differ in accuracy."""
    from .models import MajorityVote

    for k in (2, 3):
        L, y = _quality_data(random_state, k)
        ours = _fit(model, L, random_state).predict(L, tie_break="random", random_state=random_state)
        base = MajorityVote().fit(L).predict(L, tie_break="random", random_state=random_state)
        acc, acc_mv = float(np.mean(ours == y)), float(np.mean(base == y))
        _require(acc >= acc_mv - _MAJORITY_TOL, "beats_majority", model,
                 f"accuracy {acc:.4f} < majority vote {acc_mv:.4f} - {_MAJORITY_TOL} "
                 f"(n_classes={k}, 10 sources with accuracies 0.55-0.95)")


LABEL_MODEL_CHECKS: dict[str, Callable[[LabelModel, int], None]] = {
    "fit_returns_self": check_fit_returns_self,
    "not_fitted_error": check_not_fitted_error,
    "predict_proba_is_pure": check_predict_proba_is_pure,
    "proba_is_distribution": check_proba_is_distribution,
    "all_abstain_gets_prior": check_all_abstain_gets_prior,
    "row_order_equivariance": check_row_order_equivariance,
    "source_order_equivariance": check_source_order_equivariance,
    "deterministic": check_deterministic,
    "state_round_trip": check_state_round_trip,
    "sparse_dense_agree": check_sparse_dense_agree,
    "predicts_new_matrices": check_predicts_new_matrices,
    "beats_majority": check_beats_majority,
}
"""Every conformance check by name; each is ``check(model, random_state)``."""


# ---------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------


def _skipped(model: Any) -> frozenset[str]:
    names = getattr(type(model), SKIP_ATTRIBUTE, ())
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"{type(model).__name__}.{SKIP_ATTRIBUTE} must be a tuple of check names")
    unknown = sorted(set(names) - set(LABEL_MODEL_CHECKS))
    if unknown:
        raise ValueError(
            f"{type(model).__name__}.{SKIP_ATTRIBUTE} names unknown checks {unknown}; "
            f"known: {sorted(LABEL_MODEL_CHECKS)}"
        )
    return frozenset(names)


def label_model_checks(model: LabelModel, *, random_state: int = 0) -> Iterator[tuple[str, Check]]:
    """Yield ``(name, check)`` for every conformance check that applies to ``model``.

    Parameters
    ----------
    model : LabelModel
        An unfitted instance; every check fits its own clone.
    random_state : int, default=0
        Seed of the synthetic data (and of the model's ``random_state`` when
        that is None).

    Yields
    ------
    name : str
        A key of :data:`LABEL_MODEL_CHECKS`.
    check : callable
        Takes no arguments; raises ``AssertionError`` naming the check and
        the model when the model fails.

    Examples
    --------
    >>> from weaklab import MajorityVote
    >>> from weaklab.testing import label_model_checks
    >>> names = [name for name, _ in label_model_checks(MajorityVote())]
    >>> len(names) > 5, names[0]
    (True, 'fit_returns_self')
    """
    if not isinstance(model, LabelModel):
        raise TypeError(f"model: expected a weaklab LabelModel instance, got {type(model).__name__}")
    seed = check_int("random_state", random_state, low=0)
    skipped = _skipped(model)
    for name, check in LABEL_MODEL_CHECKS.items():
        if name not in skipped:
            yield name, _bind(check, model, seed)


def _bind(check: Callable[[LabelModel, int], None], model: LabelModel, seed: int) -> Check:
    def run() -> None:
        check(model, seed)

    run.__name__ = check.__name__
    run.__doc__ = check.__doc__
    return run


def check_label_model(model: LabelModel, *, random_state: int = 0) -> None:
    """Run every applicable conformance check of DESIGN.md §4 on ``model``.

    Parameters
    ----------
    model : LabelModel
        An unfitted label-model instance (it is cloned, never modified).
    random_state : int, default=0
        Seed of the synthetic data used by the checks.

    Raises
    ------
    AssertionError
        At the first failing check, naming the check and the model.

    Examples
    --------
    >>> from weaklab import DawidSkene
    >>> from weaklab.testing import check_label_model
    >>> check_label_model(DawidSkene(random_state=0))  # raises AssertionError naming the failed check
    """
    for _, check in label_model_checks(model, random_state=random_state):
        check()
