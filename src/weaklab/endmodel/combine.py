"""Label model where its votes are confident, end model elsewhere -- chosen on a validation split.

An end model generalises beyond the items the sources cover, but on covered
items with a confident vote the label model, which reads the votes directly,
is often right more often. :class:`CombinedPredictor` scores three recipes on
gold validation items -- the end model alone, the label model alone, and the
combination (label model on covered items whose label-model confidence is at
least a threshold, end model on the rest, threshold chosen on the same
items) -- keeps the best, says which and why, and calibrates the result per
part (label-model answers, end-model answers on covered items, end-model
answers on uncovered items) with :class:`GroupedCalibration`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._core.validation import check_bool, check_choice, check_float, check_labels, check_proba, fail
from ..evaluation import accuracy, f1_score
from ._targets import check_fitted
from .grouped_calibration import GroupedCalibration

__all__ = ["CombinedPredictor", "RECIPES", "score_predictions", "bootstrap_gain"]

#: The recipes :class:`CombinedPredictor` chooses between, in order of preference on a tie.
RECIPES = ("end_model", "combined", "label_model")
_THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def score_predictions(y: np.ndarray, pred: np.ndarray, n_classes: int, metric: str, positive: int = 1) -> float:
    """``metric`` of hard predictions: ``"accuracy"``, ``"macro_f1"`` or ``"f1"`` (of class ``positive``).

    Parameters
    ----------
    y, pred : ndarray of shape (n,)
        Gold and predicted class ids.
    n_classes : int
    metric : {"accuracy", "macro_f1", "f1"}
    positive : int, default=1
        The class whose F1 ``"f1"`` scores.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> score_predictions(np.array([0, 1, 1]), np.array([0, 1, 0]), 2, "accuracy")
    0.6666666666666666
    """
    if metric == "accuracy":
        return accuracy(y, pred, n_classes=n_classes)
    if metric == "macro_f1":
        return f1_score(y, pred, average="macro", n_classes=n_classes)
    return f1_score(y, pred, average="binary", pos_label=positive, n_classes=n_classes)


def bootstrap_gain(y: np.ndarray, pred_new: np.ndarray, pred_old: np.ndarray, n_classes: int, metric: str,
                   positive: int = 1, *, n_boot: int = 200, random_state: int = 0) -> tuple[float, float]:
    """Gain of ``pred_new`` over ``pred_old`` on gold ``y`` and that gain over its bootstrap standard error.

    Both predictions are scored on the same resampled items (a paired
    bootstrap), so the error reflects only the items where they differ.

    Parameters
    ----------
    y, pred_new, pred_old : ndarray of shape (n,)
    n_classes : int
    metric : {"accuracy", "macro_f1", "f1"}
    positive : int, default=1
    n_boot : int, default=200
    random_state : int, default=0

    Returns
    -------
    (float, float)
        ``score(new) - score(old)`` and ``gain / se`` (``inf`` when the
        predictions never differ in a way the metric sees and the gain is
        positive, 0 when the gain is 0).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1] * 50)
    >>> gain, z = bootstrap_gain(y, y.copy(), np.zeros(100, dtype=int), 2, "accuracy")
    >>> gain, bool(z > 5)
    (0.5, True)
    """
    gain = score_predictions(y, pred_new, n_classes, metric, positive) - \
        score_predictions(y, pred_old, n_classes, metric, positive)
    if gain == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(random_state)
    n = y.shape[0]
    diffs = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        diffs[b] = score_predictions(y[idx], pred_new[idx], n_classes, metric, positive) - \
            score_predictions(y[idx], pred_old[idx], n_classes, metric, positive)
    se = float(np.std(diffs))
    return float(gain), (float(np.sign(gain)) * np.inf if se == 0 else float(gain / se))


class CombinedPredictor(BaseEstimator):
    """Choose between end model, label model and their combination on gold validation items.

    Works on probabilities only, so any end model and any label model fit.

    Parameters
    ----------
    metric : {"accuracy", "macro_f1", "f1"}, default="accuracy"
        What the choice maximises on the validation items (``"f1"``: F1 of
        class ``positive``).
    positive : int, default=1
        The class ``metric="f1"`` scores.
    thresholds : sequence of float, optional
        Label-model confidences tried for the combination (0 = every covered
        item goes to the label model). Default 0, 0.5, 0.6, ..., 0.99.
    min_z : float, default=1.0
        The end model is kept unless the label model or the combination
        beats it on the validation items by at least ``min_z`` bootstrap
        standard errors (:func:`bootstrap_gain`); 0 keeps whichever scores
        highest. The label model is usually fitted or selected with these
        same gold items, so its validation score flatters it; the margin
        keeps a lucky validation split from discarding a better end model.
    calibrate : bool, default=True
        Calibrate the chosen recipe per part (see the module notes) on the
        same validation items.
    random_state : int, default=0
        Passed to the calibrator (its cross-validation folds).

    Attributes
    ----------
    choice_ : {"end_model", "combined", "label_model"}
    threshold_ : float or None
        The combination's label-model confidence threshold (None unless
        ``choice_ == "combined"``).
    scores_ : dict of str to float
        Validation score of ``"end_model"``, ``"label_model"`` and the best
        ``"combined"``.
    z_ : dict of str to float
        Gain of ``"label_model"`` and ``"combined"`` over the end model, in
        bootstrap standard errors.
    reason_ : str
        The scores and the choice, in words; says when it fell back.
    fell_back_ : bool
        True when the end model was not kept (the label model or the
        combination scored higher on validation).
    n_validation_ : int
    calibrator_ : GroupedCalibration or None

    Examples
    --------
    >>> import numpy as np
    >>> end = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]])
    >>> lm = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0.5, 0.5]])
    >>> covered = np.array([True, False, True, False])
    >>> y = np.array([0, 1, 1, 1])
    >>> cp = CombinedPredictor(min_z=0.0, calibrate=False).fit(end, lm, covered, y)
    >>> cp.choice_, cp.scores_["combined"]
    ('combined', 1.0)
    """

    def __init__(self, metric: str = "accuracy", positive: int = 1, thresholds: Any = None, min_z: float = 1.0,
                 calibrate: bool = True, random_state: int = 0) -> None:
        self.metric = metric
        self.positive = positive
        self.thresholds = thresholds
        self.min_z = min_z
        self.calibrate = calibrate
        self.random_state = random_state

    def fit(self, end_proba: Any, label_proba: Any, covered: Any, y: Any) -> CombinedPredictor:
        """Score the recipes on the items with gold ``y >= 0`` and keep the best.

        Parameters
        ----------
        end_proba, label_proba : array-like of shape (n, k)
            The end model's and the label model's probabilities of the same items.
        covered : array-like of bool, shape (n,)
            Items with at least one source vote.
        y : array-like of shape (n,)
            Gold class ids, ``-1`` where unknown.

        Returns
        -------
        self
        """
        check_choice("CombinedPredictor(metric=...)", self.metric, ("accuracy", "macro_f1", "f1"))
        check_bool("CombinedPredictor(calibrate=...)", self.calibrate)
        end, lm, cov = self._inputs(end_proba, label_proba, covered)
        labels = check_labels("y", y, end.shape[1], length=end.shape[0], allow_abstain=True)
        known = labels >= 0
        if not known.any():
            raise fail("y", "at least one gold label (not -1) to choose on", got_text="none")
        self.n_classes_ = end.shape[1]
        thresholds = _THRESHOLDS if self.thresholds is None else tuple(float(t) for t in self.thresholds)
        if not thresholds or any(not 0.0 <= t <= 1.0 for t in thresholds):
            raise fail("CombinedPredictor(thresholds=...)", "confidences in [0, 1]", self.thresholds)

        def score(p: np.ndarray) -> float:
            return score_predictions(labels[known], p[known].argmax(axis=1), self.n_classes_, self.metric,
                                     int(self.positive))

        min_z = check_float("CombinedPredictor(min_z=...)", self.min_z, low=0.0)
        s_end, s_lm = score(end), score(lm)
        combined = [(score(_mix(end, lm, cov, t)), -i, t) for i, t in enumerate(thresholds)]
        s_comb, _, t_best = max(combined)
        self.scores_ = {"end_model": s_end, "combined": s_comb, "label_model": s_lm}
        preds = {"end_model": end, "combined": _mix(end, lm, cov, t_best), "label_model": lm}
        self.z_ = {}
        for name in RECIPES[1:]:
            _, self.z_[name] = bootstrap_gain(labels[known], preds[name][known].argmax(axis=1),
                                              end[known].argmax(axis=1), self.n_classes_, self.metric,
                                              int(self.positive), random_state=self.random_state)
        better = [r for r in RECIPES[1:] if self.z_[r] >= min_z and self.scores_[r] > s_end]
        self.choice_ = max(better, key=lambda r: (self.scores_[r], -RECIPES.index(r))) if better else "end_model"
        self.threshold_ = t_best if self.choice_ == "combined" else None
        self.fell_back_ = self.choice_ != "end_model"
        self.n_validation_ = int(known.sum())
        self.reason_ = self._reason(t_best)
        self.calibrator_ = None
        if self.calibrate:
            raw = self._raw(end, lm, cov)
            self.calibrator_ = GroupedCalibration(random_state=self.random_state).fit(
                raw, labels, groups=self._parts(lm, cov))
        return self

    def predict_proba(self, end_proba: Any, label_proba: Any, covered: Any, *, calibrated: bool = True) -> np.ndarray:
        """The chosen recipe's probabilities ``(n, k)``, calibrated unless ``calibrated=False``."""
        check_fitted(self, "choice_")
        end, lm, cov = self._inputs(end_proba, label_proba, covered)
        if end.shape[1] != self.n_classes_:
            raise fail("end_proba", f"{self.n_classes_} columns as in fit", got_text=f"{end.shape[1]} columns")
        raw = self._raw(end, lm, cov)
        if self.calibrator_ is None or not calibrated:
            return raw
        return np.asarray(self.calibrator_.transform(raw, groups=self._parts(lm, cov)))

    def predict(self, end_proba: Any, label_proba: Any, covered: Any) -> np.ndarray:
        """The chosen recipe's class ids ``(n,)``."""
        return np.asarray(self.predict_proba(end_proba, label_proba, covered).argmax(axis=1))

    def answered_by(self, label_proba: Any, covered: Any) -> np.ndarray:
        """Which model answers each item: ``"label_model"`` or ``"end_model"`` ``(n,)``."""
        check_fitted(self, "choice_")
        lm = check_proba("label_proba", label_proba)
        cov = self._covered(covered, lm.shape[0])
        return np.where(self._lm_rows(lm, cov), "label_model", "end_model")

    # ------------------------------------------------------------------ helpers
    def _inputs(self, end_proba: Any, label_proba: Any, covered: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        end = check_proba("end_proba", end_proba)
        lm = check_proba("label_proba", label_proba, n_classes=end.shape[1], n_rows=end.shape[0])
        return end, lm, self._covered(covered, end.shape[0])

    @staticmethod
    def _covered(covered: Any, n: int) -> np.ndarray:
        cov = np.asarray(covered)
        if cov.shape != (n,) or cov.dtype.kind != "b":
            raise fail("covered", f"{n} booleans (one per item: has at least one vote)", cov)
        return cov

    def _lm_rows(self, lm: np.ndarray, cov: np.ndarray) -> np.ndarray:
        if self.choice_ == "label_model":
            return np.ones(lm.shape[0], dtype=bool)
        if self.choice_ == "end_model":
            return np.zeros(lm.shape[0], dtype=bool)
        return cov & (lm.max(axis=1) >= float(self.threshold_ or 0.0))

    def _raw(self, end: np.ndarray, lm: np.ndarray, cov: np.ndarray) -> np.ndarray:
        return np.where(self._lm_rows(lm, cov)[:, None], lm, end)

    def _parts(self, lm: np.ndarray, cov: np.ndarray) -> np.ndarray:
        by_lm = self._lm_rows(lm, cov)
        return np.where(by_lm, np.where(cov, "label_model:covered", "label_model:uncovered"),
                        np.where(cov, "end_model:covered", "end_model:uncovered"))

    def _reason(self, t_best: float) -> str:
        s, z = self.scores_, self.z_
        text = (f"on {self.n_validation_} validation items ({self.metric}): end model {s['end_model']:.4f}, "
                f"label model {s['label_model']:.4f} (z {z['label_model']:+.2f}), combination (label model on "
                f"covered items with confidence >= {t_best:g}, end model elsewhere) {s['combined']:.4f} "
                f"(z {z['combined']:+.2f}); ")
        if self.choice_ == "end_model":
            return text + f"kept the end model (nothing beat it by >= {self.min_z:g} standard errors)"
        if self.choice_ == "combined":
            return text + f"fell back to the combination at threshold {t_best:g} (it beat the end model)"
        return text + "fell back to the label model (it beat the end model and every combination)"


def _mix(end: np.ndarray, lm: np.ndarray, cov: np.ndarray, threshold: float) -> np.ndarray:
    use_lm = cov & (lm.max(axis=1) >= threshold)
    return np.where(use_lm[:, None], lm, end)
