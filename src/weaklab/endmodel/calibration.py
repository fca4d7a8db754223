"""Post-hoc calibration of class probabilities on a gold dev split.

Works on any ``(n, k)`` scores: an end model's logits or probabilities, or a
label model's ``predict_proba`` (probabilities are turned into logits by
taking logarithms, which softmax maps back to the same probabilities).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator

from .._core.constants import EPS, TINY
from .._core.validation import check_choice, check_float, check_labels, fail
from ._targets import check_fitted

__all__ = ["CALIBRATION_TARGETS", "TemperatureScaling", "VectorScaling", "as_logits", "platt_targets"]

#: What a calibrator fits to: the gold labels as they are, or Platt's smoothed targets (:func:`platt_targets`).
CALIBRATION_TARGETS = ("hard", "platt")

_LOG_FLOOR = np.log(EPS)


def as_logits(scores: Any, kind: str = "auto", *, name: str = "proba_or_logits") -> np.ndarray:
    """Turn probabilities or logits ``(n, k)`` into logits.

    Parameters
    ----------
    scores : array-like of shape (n, k)
    kind : {"auto", "proba", "logits"}, default="auto"
        ``"auto"`` reads the input as probabilities when every value is in
        ``[0, 1]`` and every row sums to 1 (within 1e-6), else as logits.
    name : str
        Parameter name for error messages.

    Returns
    -------
    ndarray of shape (n, k)
        Logits; probabilities become ``log(max(p, 1e-12))``.
    """
    arr = np.asarray(scores)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise fail(name, "a 2-d array of shape (n_items, n_classes) with at least 2 classes", arr)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise fail(name, "real-valued scores", arr)
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise fail(
            name, "finite values", got_text=f"{int((~np.isfinite(arr)).sum())} NaN or infinite value(s)"
        )
    is_proba = bool(np.all((arr >= 0) & (arr <= 1)) and np.allclose(arr.sum(axis=1), 1.0, rtol=0, atol=1e-6))
    if kind == "proba" or (kind == "auto" and is_proba):
        if not is_proba:
            raise fail(name, "probabilities in [0, 1] with rows summing to 1 (input='proba')", arr)
        return np.maximum(np.log(np.maximum(arr, TINY)), _LOG_FLOOR)
    return arr


def _nll(logits: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(log_softmax(logits, axis=1)[np.arange(y.shape[0]), y]))


def platt_targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Platt's smoothed targets ``(n, k)`` for ``n`` gold labels: ``1 - 1/(n + 2)`` on the gold class, the rest shared.

    Fitting to the gold labels as 0/1 lets a calibrator fitted on items that
    are all right (a confident model on an easy dev split) sharpen its
    probabilities to exactly 1; Platt (1999) fits to ``(N + 1) / (N + 2)``
    instead (the rule of succession), so ``n`` right answers mean "right
    with probability about ``(n + 1) / (n + 2)``", never certainty.

    Examples
    --------
    >>> platt_targets(np.array([0, 1, 1]), 2).round(2).tolist()
    [[0.8, 0.2], [0.2, 0.8], [0.2, 0.8]]
    """
    eps = 1.0 / (labels.shape[0] + 2)
    out = np.full((labels.shape[0], n_classes), eps / (n_classes - 1))
    out[np.arange(labels.shape[0]), labels] = 1.0 - eps
    return out


def _gold(y: Any, n: int, k: int) -> np.ndarray:
    labels = check_labels("y", y, k, length=n, allow_abstain=True)
    known = labels >= 0
    if not known.any():
        raise fail("y", "at least one gold label (not -1)", got_text="none")
    return labels


class _Calibrator(BaseEstimator):
    """Shared input handling of the scaling calibrators."""

    def _prepare(self, scores: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        check_choice(f"{type(self).__name__}(input=...)", self.input, ("auto", "proba", "logits"))
        logits = as_logits(scores, self.input)
        labels = _gold(y, logits.shape[0], logits.shape[1])
        known = labels >= 0
        self.n_classes_ = logits.shape[1]
        return logits[known], labels[known]

    def _logits(self, scores: Any) -> np.ndarray:
        check_fitted(self, "n_classes_")
        logits = as_logits(scores, self.input)
        if logits.shape[1] != self.n_classes_:
            raise fail(
                "proba_or_logits",
                f"{self.n_classes_} columns as in fit",
                got_text=f"{logits.shape[1]} columns",
            )
        return logits

    def fit_transform(self, proba_or_logits: Any, y: Any) -> np.ndarray:
        """Fit on ``(proba_or_logits, y)`` and return the calibrated probabilities ``(n, k)``."""
        return self.fit(proba_or_logits, y).transform(proba_or_logits)

    def fit(self, proba_or_logits: Any, y: Any) -> _Calibrator:  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, proba_or_logits: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class TemperatureScaling(_Calibrator):
    """Temperature scaling (Guo et al. 2017): ``softmax(logits / T)`` with one ``T > 0``.

    ``T`` minimises the negative log-likelihood of gold labels on a dev
    split (optimised over ``log T`` with L-BFGS-B, ``T`` in ``[1e-3, 1e3]``).
    Dividing by a positive constant never changes the argmax.

    Parameters
    ----------
    input : {"auto", "proba", "logits"}, default="auto"
        How to read the scores (see :func:`as_logits`).
    targets : {"hard", "platt"}, default="hard"
        Fit to the gold labels (``"hard"``), or to :func:`platt_targets`
        (``"platt"``: a dev split the model gets all right no longer drives
        ``T`` towards 0 and the probabilities to exactly 0 and 1).

    Attributes
    ----------
    temperature_ : float
    n_classes_ : int
    nll_before_, nll_after_ : float
        Dev-split NLL at ``T = 1`` and at the fitted ``T``.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.endmodel import TemperatureScaling
    >>> from weaklab.evaluation import expected_calibration_error
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 2000)
    >>> logits = 3.0 * np.eye(3)[y] + rng.normal(scale=1.5, size=(2000, 3))  # overconfident scores
    >>> proba = np.exp(3 * logits) / np.exp(3 * logits).sum(axis=1, keepdims=True)
    >>> scaler = TemperatureScaling().fit(proba[:1000], y[:1000])  # dev half
    >>> calibrated = scaler.transform(proba[1000:])
    >>> scaler.temperature_ > 1, bool((calibrated.argmax(axis=1) == proba[1000:].argmax(axis=1)).all())
    (True, True)
    >>> ece_before = expected_calibration_error(proba[1000:], y[1000:])
    >>> expected_calibration_error(calibrated, y[1000:]) < ece_before
    True
    """

    def __init__(self, input: str = "auto", targets: str = "hard") -> None:
        self.input = input
        self.targets = targets

    def fit(self, proba_or_logits: Any, y: Any) -> TemperatureScaling:
        """Fit ``T`` on scores ``(n, k)`` and gold labels ``y`` ``(n,)`` (``-1`` = unknown, skipped).

        Returns
        -------
        self
        """
        check_choice("TemperatureScaling(targets=...)", self.targets, CALIBRATION_TARGETS)
        logits, labels = self._prepare(proba_or_logits, y)
        onehot = np.eye(logits.shape[1])[labels] if self.targets == "hard" else platt_targets(labels, logits.shape[1])

        def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
            scaled = logits * np.exp(-u[0])
            log_p = log_softmax(scaled, axis=1)
            value = -np.mean(np.sum(onehot * log_p, axis=1))
            grad = -np.mean(np.sum((np.exp(log_p) - onehot) * scaled, axis=1))
            return float(value), np.array([grad])

        bound = np.log(1e3)
        result = minimize(objective, np.zeros(1), jac=True, method="L-BFGS-B", bounds=[(-bound, bound)])
        self.temperature_ = float(np.exp(result.x[0]))
        if objective(result.x)[0] > objective(np.zeros(1))[0]:  # the optimiser never ends worse than T = 1
            self.temperature_ = 1.0
        self.nll_before_ = _nll(logits, labels)
        self.nll_after_ = _nll(logits / self.temperature_, labels)
        return self

    def transform(self, proba_or_logits: Any) -> np.ndarray:
        """Calibrated probabilities ``softmax(logits / T)`` of shape ``(n, k)``."""
        return softmax(self._logits(proba_or_logits) / self.temperature_, axis=1)


class VectorScaling(_Calibrator):
    """Vector scaling: ``softmax(w * logits + b)`` with per-class ``w`` and ``b``.

    More flexible than :class:`TemperatureScaling` (it can change the argmax);
    fitted by L-BFGS-B on the dev NLL plus ``l2 * (|w - 1|^2 + |b|^2)``.

    Parameters
    ----------
    input : {"auto", "proba", "logits"}, default="auto"
    l2 : float >= 0, default=1e-3
        Ridge penalty pulling the map towards the identity.

    Attributes
    ----------
    coef_ : ndarray of shape (k,)
    intercept_ : ndarray of shape (k,)
    n_classes_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.endmodel import VectorScaling
    >>> from weaklab.evaluation import negative_log_likelihood
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 2000)
    >>> logits = 2.0 * np.eye(3)[y] + rng.normal(size=(2000, 3)) + [1.0, 0.0, 0.0]  # biased to class 0
    >>> proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    >>> scaler = VectorScaling().fit(proba[:1000], y[:1000])
    >>> scaler.coef_.shape, scaler.intercept_.shape
    ((3,), (3,))
    >>> before = negative_log_likelihood(proba[1000:], y[1000:])
    >>> negative_log_likelihood(scaler.transform(proba[1000:]), y[1000:]) < before
    True
    """

    def __init__(self, input: str = "auto", l2: float = 1e-3) -> None:
        self.input = input
        self.l2 = l2

    def fit(self, proba_or_logits: Any, y: Any) -> VectorScaling:
        """Fit ``w, b`` on scores ``(n, k)`` and gold labels ``(n,)`` (``-1`` = unknown).

        Returns
        -------
        self
        """
        l2 = check_float("VectorScaling(l2=...)", self.l2, low=0.0)
        logits, labels = self._prepare(proba_or_logits, y)
        k = logits.shape[1]
        onehot = np.eye(k)[labels]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:k], theta[k:]
            log_p = log_softmax(logits * w + b, axis=1)
            residual = (np.exp(log_p) - onehot) / logits.shape[0]
            value = -np.mean(np.sum(onehot * log_p, axis=1)) + l2 * (np.sum((w - 1) ** 2) + np.sum(b**2))
            grad = np.concatenate(
                [np.sum(residual * logits, axis=0) + 2 * l2 * (w - 1), np.sum(residual, axis=0) + 2 * l2 * b]
            )
            return float(value), grad

        result = minimize(objective, np.concatenate([np.ones(k), np.zeros(k)]), jac=True, method="L-BFGS-B")
        self.coef_, self.intercept_ = result.x[:k].copy(), result.x[k:].copy()
        return self

    def transform(self, proba_or_logits: Any) -> np.ndarray:
        """Calibrated probabilities ``softmax(w * logits + b)`` of shape ``(n, k)``."""
        return softmax(self._logits(proba_or_logits) * self.coef_ + self.intercept_, axis=1)
