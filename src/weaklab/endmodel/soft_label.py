"""Train any scikit-learn estimator on soft (probabilistic) labels."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import has_fit_parameter

from .._core.validation import check_bool, check_float, fail
from ._targets import (
    ProbaClassifierMixin,
    as_weights,
    check_fitted,
    encode_targets,
    n_rows,
    require_y,
    take_rows,
)
from .prior import match_class_prior

__all__ = ["SoftLabelClassifier"]


class SoftLabelClassifier(ProbaClassifierMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier that accepts ``sample_weight`` on soft labels.

    Each item is expanded into one weighted copy per class whose probability
    is at least ``min_proba``; the copy's weight is that probability (times
    the item's ``sample_weight``, times its confidence when
    ``confidence_weighting`` is on). With one-hot labels this is plain
    training on hard labels.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Any classifier whose ``fit`` accepts ``sample_weight`` (a
        :class:`~sklearn.pipeline.Pipeline` gets the weights routed to its
        last step); it is cloned.
    min_proba : float, default=0.0
        Drop expanded copies whose class probability is below this value
        (0 keeps every class with positive probability).
    confidence_threshold : float, default=0.0
        Items whose largest class probability is below this value are not
        used for training.
    confidence_weighting : bool, default=False
        Multiply each item's weight by its largest class probability.
    classes : array-like of shape (k,), optional
        The classes, in the column order of ``predict_proba``. Default:
        ``0..k-1`` for soft labels, the sorted distinct labels for hard
        labels. Give it when hard labels may miss a class (e.g. the argmax of
        a label model that never predicts a rare class).

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
        Trained on class *indices* ``0..k-1``.
    classes_ : ndarray of shape (k,)
        The class labels; ``predict`` returns values from it.
    n_train_items_ : int
        Items that took part in training (unlabelled rows, items below
        ``confidence_threshold`` and items of zero weight do not).

    Notes
    -----
    Unlabelled rows, an all-NaN row of soft labels or a hard label NaN,
    ``None`` or ``-1`` (``ABSTAIN``), are skipped.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.endmodel import SoftLabelClassifier
    >>> X = np.array([[0.0], [0.2], [0.8], [1.0], [0.5]])
    >>> soft = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.5, 0.5]])
    >>> model = SoftLabelClassifier(LogisticRegression()).fit(X, soft)
    >>> model.predict(np.array([[0.1], [0.9]])).tolist(), model.classes_.tolist()
    ([0, 1], [0, 1])
    >>> model.predict_proba(np.array([[0.5]])).round(2).tolist()
    [[0.5, 0.5]]
    """

    def __init__(
        self,
        estimator: Any,
        *,
        min_proba: float = 0.0,
        confidence_threshold: float = 0.0,
        confidence_weighting: bool = False,
        classes: Any = None,
        class_prior: Any = None,
    ) -> None:
        self.estimator = estimator
        self.min_proba = min_proba
        self.confidence_threshold = confidence_threshold
        self.confidence_weighting = confidence_weighting
        self.classes = classes
        self.class_prior = class_prior

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SoftLabelClassifier:
        """Fit on features ``X`` and soft ``(n, k)`` or hard ``(n,)`` labels ``y``.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of shape (n, ...)
            Whatever ``estimator`` accepts.
        y : array-like of shape (n, k) with rows summing to 1, or (n,) labels
            Soft labels (e.g. a label model's ``predict_proba``, or a
            :class:`~weaklab.SoftLabels`) or hard class labels.
        sample_weight : array-like of shape (n,), optional
            Non-negative per-item weights (default 1).

        Returns
        -------
        self
        """
        self._check_params()
        require_y(y, self)
        n = n_rows(X)
        proba, classes = encode_targets(y, n, classes=self.classes)
        if self.class_prior is not None:
            proba = match_class_prior(proba, self.class_prior, name=f"{type(self).__name__}(class_prior=...)")
        weights = as_weights(sample_weight, n)
        rows, cols, w = _expand(
            proba,
            weights,
            float(self.min_proba),
            float(self.confidence_threshold),
            bool(self.confidence_weighting),
        )
        if rows.size == 0:
            raise fail(
                "y",
                "at least one labelled item above confidence_threshold with positive weight",
                got_text="none",
            )
        trained = np.unique(cols)
        if trained.size < 2:
            raise fail(
                "y",
                "training weight on at least 2 classes (the estimator needs two to tell apart)",
                got_text=f"every kept label on class {classes[trained[0]]!r}",
            )
        estimator = clone(self.estimator)
        estimator.fit(take_rows(X, rows), cols, **_weight_param(estimator, w))
        self.estimator_ = estimator
        self.classes_ = classes
        self.n_train_items_ = int(np.unique(rows).size)
        return self

    def _check_params(self) -> None:
        name = type(self).__name__
        check_float(f"{name}(min_proba=...)", self.min_proba, low=0.0, high=1.0)
        check_float(f"{name}(confidence_threshold=...)", self.confidence_threshold, low=0.0, high=1.0)
        check_bool(f"{name}(confidence_weighting=...)", self.confidence_weighting)
        if not hasattr(self.estimator, "fit") or not hasattr(self.estimator, "predict_proba"):
            raise fail(
                f"{name}(estimator=...)",
                "a scikit-learn classifier with fit and predict_proba",
                self.estimator,
            )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n, ...)

        Returns
        -------
        ndarray of shape (n, k)
            Columns follow ``classes_``; a class never seen in training gets 0.
        """
        check_fitted(self, "estimator_")
        raw = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        out = np.zeros((raw.shape[0], self.classes_.shape[0]))
        out[:, np.asarray(self.estimator_.classes_, dtype=np.int64)] = raw
        return out


    @property
    def n_features_in_(self) -> int:
        """Number of features seen in ``fit`` (when the inner estimator records it)."""
        check_fitted(self, "estimator_")
        return int(self.estimator_.n_features_in_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = copy.deepcopy(inner.input_tags)
        tags.classifier_tags = (
            copy.deepcopy(inner.classifier_tags) if inner.classifier_tags else tags.classifier_tags
        )
        tags.classifier_tags.multi_label = False
        return tags


def _weight_param(estimator: Any, w: np.ndarray) -> dict[str, np.ndarray]:
    steps = getattr(estimator, "steps", None)
    if steps:  # a Pipeline: route the weights to its last step
        name, last = steps[-1]
        if not has_fit_parameter(last, "sample_weight"):
            raise fail(
                "estimator",
                "a classifier whose fit accepts sample_weight",
                got_text=f"a Pipeline whose last step {type(last).__name__} does not",
            )
        return {f"{name}__sample_weight": w}
    if not has_fit_parameter(estimator, "sample_weight"):
        raise fail("estimator", "a classifier whose fit accepts sample_weight", estimator)
    return {"sample_weight": w}


def _expand(
    proba: np.ndarray, weights: np.ndarray, min_proba: float, threshold: float, confidence_weighting: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, class indices and weights of the expanded training copies."""
    labelled = ~np.isnan(proba[:, 0])
    safe = np.where(labelled[:, None], proba, 0.0)
    confidence = safe.max(axis=1)
    item_w = weights * (confidence if confidence_weighting else 1.0)
    keep_item = labelled & (confidence >= threshold) & (item_w > 0)
    mask = (safe > 0) & (safe >= min_proba) & keep_item[:, None]
    rows, cols = np.nonzero(mask)
    return rows, cols, safe[rows, cols] * item_w[rows]
