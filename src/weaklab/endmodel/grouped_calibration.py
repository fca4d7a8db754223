"""Calibration per group of items, with the method chosen by cross-validation on the dev items.

Weakly supervised predictions mix items of very different kinds: items the
sources voted on and items no source covered (often most of a data set),
items a label model answered and items an end model answered. One
temperature for all of them is a compromise that fits none; here each group
gets its own calibrator, and each group picks the calibrator (none,
temperature scaling, or isotonic regression of the top-label confidence)
whose out-of-fold ECE on its dev items is lowest. Every method keeps each
row's predicted class.

Calibrators are fitted to Platt's smoothed targets by default
(``targets="platt"``, :func:`~weaklab.endmodel.calibration.platt_targets`):
fitted to 0/1 gold, a group whose dev items the model got all right (common
for a confident end model on the items the sources voted on) was sharpened
to probabilities of exactly 1, by a temperature near 0 or an isotonic step
at 1, which the out-of-fold ECE could not tell from a calibrated model (on
five table projects, 42 % of held-out dev items at p = 1 and NLL 0.55 ->
0.58 after calibration; with Platt's targets none, NLL 0.55 -> 0.26).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, state_params, to_jsonable
from .._core.validation import check_choice, check_int, check_labels, check_proba, fail
from ..evaluation import expected_calibration_error
from ._targets import check_fitted
from .calibration import CALIBRATION_TARGETS, TemperatureScaling

__all__ = ["TopLabelIsotonic", "GroupedCalibration", "CALIBRATION_METHODS"]

#: Methods :class:`GroupedCalibration` chooses from (``"auto"``) or is told to use.
CALIBRATION_METHODS = ("none", "temperature", "isotonic")
#: Version of the layout :meth:`GroupedCalibration.to_state` wrote before it took the common state layout
#: (``schema_version``, ``attributes``); :meth:`GroupedCalibration.from_state` still reads it (runs stored then).
STATE_VERSION = 1


class TopLabelIsotonic(BaseEstimator):
    """Isotonic regression of "the predicted class is right" on the top-label confidence.

    The predicted class keeps the calibrated confidence; the other classes
    share the rest in their original proportions. The confidence is kept at
    least as large as the runner-up's new probability, so the argmax never
    changes.

    Parameters
    ----------
    targets : {"hard", "platt"}, default="hard"
        Regress "right" as 1 and "wrong" as 0 (``"hard"``), or, as Platt
        (1999), as ``(H + 1) / (H + 2)`` and ``1 / (M + 2)`` for ``H`` right
        and ``M`` wrong items (``"platt"``): a confidence range where every
        dev item was right then maps to just below 1, not to 1.

    Attributes
    ----------
    isotonic_ : sklearn.isotonic.IsotonicRegression
    x_thresholds_, y_thresholds_ : ndarray
        The fitted step function (``transform`` interpolates between these
        points and clips outside them, as the isotonic regression does), so
        that a saved calibrator is two arrays (:meth:`GroupedCalibration.to_state`).
    n_classes_ : int

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1]] * 10 + [[0.6, 0.4]] * 10)
    >>> y = np.array([0] * 7 + [1] * 3 + [0] * 5 + [1] * 5)
    >>> out = TopLabelIsotonic().fit(proba, y).transform(proba)
    >>> np.round(out[[0, -1], 0], 2).tolist()
    [0.7, 0.5]
    """

    def __init__(self, targets: str = "hard") -> None:
        self.targets = targets

    def fit(self, proba: Any, y: Any) -> TopLabelIsotonic:
        """Fit on probabilities ``(n, k)`` and gold labels ``(n,)`` (``-1`` = unknown, skipped).

        Returns
        -------
        self
        """
        p = check_proba("proba", proba)
        labels = check_labels("y", y, p.shape[1], length=p.shape[0], allow_abstain=True)
        known = labels >= 0
        if not known.any():
            raise fail("y", "at least one gold label (not -1)", got_text="none")
        check_choice("TopLabelIsotonic(targets=...)", self.targets, CALIBRATION_TARGETS)
        p, labels = p[known], labels[known]
        hit = p.argmax(axis=1) == labels
        target = hit.astype(np.float64)
        if self.targets == "platt":
            n_hit, n_miss = int(hit.sum()), int((~hit).sum())
            target = np.where(hit, (n_hit + 1) / (n_hit + 2), 1.0 / (n_miss + 2))
        self.isotonic_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p.max(axis=1), target)
        self.x_thresholds_ = np.asarray(self.isotonic_.X_thresholds_, dtype=np.float64)
        self.y_thresholds_ = np.asarray(self.isotonic_.y_thresholds_, dtype=np.float64)
        self.n_classes_ = p.shape[1]
        return self

    def transform(self, proba: Any) -> np.ndarray:
        """Calibrated probabilities ``(n, k)``; each row keeps its argmax."""
        check_fitted(self, "x_thresholds_")
        p = check_proba("proba", proba, n_classes=self.n_classes_)
        top = p.argmax(axis=1)
        rows = np.arange(p.shape[0])
        conf = p[rows, top]
        rest = 1.0 - conf
        others = p.copy()
        others[rows, top] = 0.0
        second = others.max(axis=1)
        # the runner-up's new share is second * (1 - c') / rest; c' >= it keeps the argmax
        floor = np.where(rest > 0, second / np.maximum(rest + second, 1e-300), 1.0 / p.shape[1])
        floor = np.minimum(conf, np.maximum(floor, 1.0 / p.shape[1]) * (1 + 1e-9))  # strictly above the runner-up
        new = np.clip(np.interp(conf, self.x_thresholds_, self.y_thresholds_), floor, 1.0)
        scale = np.where(rest > 0, (1.0 - new) / np.maximum(rest, 1e-300), 0.0)
        out = others * scale[:, None]
        spread = (rest <= 0) & (new < 1.0)  # a one-hot row that must give mass away: spread it evenly
        if spread.any():
            out[spread] = (1.0 - new[spread])[:, None] / (p.shape[1] - 1)
        out[rows, top] = new
        return np.asarray(out / out.sum(axis=1, keepdims=True))


def _restored(method: str, entry: dict[str, Any], arrays: dict[str, Any], i: int, k: int) -> Any:
    """One group's calibrator rebuilt from its saved entry (None for ``"none"``)."""
    if method == "none":
        return None
    calibrator = _make(method, "hard")  # what it was fitted to does not change how it transforms
    if method == "temperature":
        calibrator.temperature_ = float(entry["temperature"])
    else:
        calibrator.x_thresholds_ = np.asarray(arrays[f"isotonic_x_{i}"], dtype=np.float64)
        calibrator.y_thresholds_ = np.asarray(arrays[f"isotonic_y_{i}"], dtype=np.float64)
    calibrator.n_classes_ = k
    return calibrator


def _make(method: str, targets: str) -> Any:
    return TemperatureScaling(input="proba", targets=targets) if method == "temperature" \
        else TopLabelIsotonic(targets=targets)


class GroupedCalibration(BaseEstimator):
    """Calibrate each group of items on its own (e.g. items with and without a vote).

    Parameters
    ----------
    method : {"auto", "none", "temperature", "isotonic"}, default="auto"
        ``"auto"`` picks, per group, the method with the lowest out-of-fold
        ECE on the group's dev items (``n_folds`` folds; ties go to the
        simpler method, in the order none, temperature, isotonic), or the
        calibrator fitted on all groups together when its out-of-fold ECE
        on the group's items is lower still (``"pooled"``).
    min_items : int, default=30
        A group with fewer gold items than this uses the calibrator fitted on
        all gold items together.
    n_folds : int, default=5
    n_bins : int, default=15
        Bins of the ECE that ``"auto"`` compares.
    random_state : int, default=0
        Deals the dev items into folds.
    targets : {"platt", "hard"}, default="platt"
        What the calibrators are fitted to: Platt's smoothed targets
        (:func:`~weaklab.endmodel.calibration.platt_targets`; a group whose
        dev items are all right keeps probabilities below 1), or the gold
        labels as 0/1 (``"hard"``, the behaviour before ``targets`` existed).

    Attributes
    ----------
    groups_ : ndarray
        The groups seen in ``fit`` (plus the pooled fallback, key ``None``).
    methods_ : dict
        Group -> the method used (``"pooled"`` when it fell back).
    cv_ece_ : dict
        Group -> {method: out-of-fold ECE} for the groups where ``"auto"`` chose.
    calibrators_ : dict
        Group -> fitted calibrator (None for ``"none"``).
    n_items_ : dict
        Group -> gold items it was fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p1 = rng.uniform(0.5, 1.0, 400)
    >>> proba = np.c_[p1, 1 - p1]
    >>> covered = rng.random(400) < 0.5
    >>> y = np.where(rng.random(400) < np.where(covered, p1, 0.6), 0, 1)
    >>> cal = GroupedCalibration().fit(proba, y, groups=covered)
    >>> cal.transform(proba, groups=covered).shape
    (400, 2)
    """

    def __init__(self, method: str = "auto", min_items: int = 30, n_folds: int = 5, n_bins: int = 15,
                 random_state: int = 0, targets: str = "platt") -> None:
        self.method = method
        self.min_items = min_items
        self.n_folds = n_folds
        self.n_bins = n_bins
        self.random_state = random_state
        self.targets = targets

    def fit(self, proba: Any, y: Any, groups: Any = None) -> GroupedCalibration:
        """Fit on probabilities ``(n, k)``, gold labels ``(n,)`` (``-1`` = unknown) and group keys ``(n,)``.

        Returns
        -------
        self
        """
        check_choice("GroupedCalibration(method=...)", self.method, ("auto", *CALIBRATION_METHODS))
        check_choice("GroupedCalibration(targets=...)", self.targets, CALIBRATION_TARGETS)
        min_items = check_int("GroupedCalibration(min_items=...)", self.min_items, low=1)
        check_int("GroupedCalibration(n_folds=...)", self.n_folds, low=2)
        p = check_proba("proba", proba)
        labels = check_labels("y", y, p.shape[1], length=p.shape[0], allow_abstain=True)
        keys = self._keys(groups, p.shape[0])
        known = labels >= 0
        if not known.any():
            raise fail("y", "at least one gold label (not -1)", got_text="none")
        self.n_classes_ = p.shape[1]
        self.methods_: dict[Any, str] = {}
        self.calibrators_: dict[Any, Any] = {}
        self.cv_ece_: dict[Any, dict[str, float]] = {}
        self.n_items_: dict[Any, int] = {}
        p, labels, keys = p[known], labels[known], keys[known]
        folds = np.random.default_rng(self.random_state).permutation(labels.shape[0]) % min(int(self.n_folds),
                                                                                             labels.shape[0])
        pooled_oof = self._fit_group(None, p, labels, folds, None)
        for key in np.unique(keys):
            rows = keys == key
            self.n_items_[key.item()] = int(rows.sum())
            if rows.sum() < min_items:
                self.methods_[key.item()] = "pooled"
                continue
            self._fit_group(key.item(), p[rows], labels[rows], folds[rows], pooled_oof[rows])
        self.groups_ = np.unique(keys)
        return self

    def transform(self, proba: Any, groups: Any = None) -> np.ndarray:
        """Calibrated probabilities ``(n, k)``: each row through its group's calibrator."""
        check_fitted(self, "methods_")
        p = check_proba("proba", proba, n_classes=self.n_classes_)
        keys = self._keys(groups, p.shape[0])
        out = p.copy()
        for key in np.unique(keys):
            rows = keys == key
            group = key.item() if key.item() in self.calibrators_ else None
            calibrator = self.calibrators_[group]
            if calibrator is not None:
                out[rows] = calibrator.transform(p[rows])
        return out

    def fit_transform(self, proba: Any, y: Any, groups: Any = None) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform` of the same rows."""
        return self.fit(proba, y, groups).transform(proba, groups)

    def to_state(self) -> dict[str, Any]:
        """The fitted calibrator as JSON-able keys plus ``"arrays"`` (never pickle).

        Returns
        -------
        dict
            The common state layout (``weaklab.save_state`` writes it):
            ``schema_version``, ``class``, ``module``, ``params``,
            ``attributes`` (``n_classes_`` and ``groups``: one entry per group
            key, ``None`` = the pooled calibrator, with its ``method``,
            ``n_items`` and, for temperature scaling, its ``temperature``) and
            ``arrays`` (the isotonic step functions).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> p1 = rng.uniform(0.5, 1.0, 300)
        >>> proba = np.c_[p1, 1 - p1]
        >>> y = np.where(rng.random(300) < 0.75, 0, 1)
        >>> cal = GroupedCalibration().fit(proba, y)
        >>> again = GroupedCalibration.from_state(cal.to_state())
        >>> bool(np.allclose(again.transform(proba), cal.transform(proba)))
        True
        """
        check_fitted(self, "methods_")
        groups: list[dict[str, Any]] = []
        arrays: dict[str, np.ndarray] = {}
        for i, (key, method) in enumerate(self.methods_.items()):
            entry: dict[str, Any] = {"key": key, "method": method, "n_items": self.n_items_.get(key)}
            calibrator = self.calibrators_.get(key)
            if isinstance(calibrator, TemperatureScaling):
                entry["temperature"] = float(calibrator.temperature_)
            elif isinstance(calibrator, TopLabelIsotonic):
                arrays[f"isotonic_x_{i}"] = calibrator.x_thresholds_
                arrays[f"isotonic_y_{i}"] = calibrator.y_thresholds_
            groups.append(entry)
        return {"schema_version": STATE_SCHEMA_VERSION, "class": "GroupedCalibration", "module": "weaklab.endmodel",
                "params": state_params(self.get_params()),
                "attributes": to_jsonable({"n_classes_": int(self.n_classes_), "groups": groups}), "arrays": arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> GroupedCalibration:
        """Rebuild a calibrator saved by :meth:`to_state` (it transforms exactly as the saved one).

        The layout written before the common one (``version`` 1, ``n_classes``
        and ``groups`` at the top: the end-model states of earlier runs) is
        read too.
        """
        if isinstance(state, dict) and "schema_version" not in state and state.get("class") == "GroupedCalibration" \
                and state.get("version") == STATE_VERSION:
            state = {**state, "schema_version": 1, "attributes": {"n_classes_": state.get("n_classes"),
                                                                  "groups": state.get("groups")}}
        check_state(state, "GroupedCalibration")
        out = cls(**state["params"])
        k = int(state["attributes"]["n_classes_"])
        out.n_classes_, out.methods_, out.calibrators_, out.n_items_, out.cv_ece_ = k, {}, {}, {}, {}
        arrays = state.get("arrays", {})
        for i, entry in enumerate(state["attributes"]["groups"]):
            key, method = entry["key"], str(entry["method"])
            out.methods_[key] = method
            if entry.get("n_items") is not None:
                out.n_items_[key] = int(entry["n_items"])
            if method == "pooled":
                continue
            out.calibrators_[key] = _restored(method, entry, arrays, i, k)
        out.groups_ = np.asarray([key for key in out.methods_ if key is not None])
        return out

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _keys(groups: Any, n: int) -> np.ndarray:
        if groups is None:
            return np.zeros(n, dtype=np.int64)
        keys = np.asarray(groups)
        if keys.shape != (n,):
            raise fail("groups", f"one group key per row ({n})", keys)
        if keys.dtype.kind not in "biuU":
            raise fail("groups", "booleans, integers or strings", keys)
        return keys

    def _fit_group(self, key: Any, p: np.ndarray, labels: np.ndarray, folds: np.ndarray,
                   pooled_oof: np.ndarray | None) -> np.ndarray:
        """Fit the group's calibrator; return its out-of-fold probabilities (the chosen method's)."""
        methods = CALIBRATION_METHODS if self.method == "auto" else (self.method,)
        oof = {m: self._oof(m, p, labels, folds) for m in methods}
        if pooled_oof is not None and self.method == "auto":
            oof["pooled"] = pooled_oof
        scores = {m: expected_calibration_error(o, labels, n_bins=self.n_bins) for m, o in oof.items()}
        order = [*CALIBRATION_METHODS, "pooled"]
        method = min(scores, key=lambda m: (round(scores[m], 6), order.index(m)))
        if self.method == "auto":
            self.cv_ece_[key] = scores
        self.methods_[key] = method
        if method != "pooled":
            self.calibrators_[key] = None if method == "none" else _make(method, self.targets).fit(p, labels)
        return oof[method]

    def _oof(self, method: str, p: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
        out = p.copy()
        if method == "none":
            return out
        for f in np.unique(folds):
            test = folds == f
            if (~test).sum() == 0:
                continue
            out[test] = _make(method, self.targets).fit(p[~test], labels[~test]).transform(p[test])
        return out
