"""Out-of-fold predicted probabilities: every item is predicted by a model that never saw its label."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import _safe_indexing

from .._core.soft_labels import SoftLabels
from .._core.validation import check_int, check_labels, check_proba, check_random_state, fail
from ._fit import fit_clone, proba_columns

__all__ = ["out_of_fold_proba"]



def out_of_fold_proba(
    estimator: Any,
    X: Any,
    labels: Any,
    *,
    cv: int = 5,
    n_classes: int | None = None,
    soft: bool | None = None,
    random_state: Any = None,
) -> np.ndarray:
    """Predicted class probabilities of each item from a model trained on the other folds.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Anything with ``fit`` and ``predict_proba``; it is cloned for every
        fold and never fitted itself.
    X : array-like, sparse matrix or DataFrame of shape (n, ...)
        Features, indexed by rows.
    labels : array-like of shape (n,) or (n, k)
        Hard class ids in ``[0, k)`` or soft labels (rows sum to 1).
    cv : int, default=5
        Number of folds, stratified on the (argmax) label.
    n_classes : int, optional
        Number of classes ``k`` for hard labels (default one more than the
        largest label); soft labels give it by their columns.
    soft : bool or None, default=None
        How soft labels reach the estimator. True: the ``(n, k)`` matrix is
        passed to ``fit`` (e.g. :class:`weaklab.endmodel.SoftLabelClassifier`).
        False: their argmax is. None (auto): the first fold tries the soft
        matrix; if ``fit`` rejects it with ``ValueError`` or ``TypeError``,
        as every plain scikit-learn classifier does for a continuous 2-d
        target, all folds use the argmax. Hard labels are always passed as
        they are.
    random_state : None, int or numpy.random.Generator
        Seed of the fold shuffle.

    Returns
    -------
    ndarray of shape (n, k)
        Rows sum to 1; a class missing from a fold's training part gets 0 there.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> X, y = make_classification(300, 5, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(), X, y, cv=5, random_state=0)
    >>> pred_probs.shape, bool(np.allclose(pred_probs.sum(axis=1), 1))
    ((300, 2), True)
    """
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict_proba"):
        raise fail("estimator", "a scikit-learn classifier with fit and predict_proba", estimator)
    targets, hard, k = _targets(labels, n_classes)
    n = hard.shape[0]
    if _n_rows(X) != n:
        raise fail("X", f"{n} rows (one per label)", got_text=f"{_n_rows(X)} rows")
    folds = check_int("cv", cv, low=2, high=max(2, n))
    if soft is not None and not isinstance(soft, (bool, np.bool_)):
        raise fail("soft", "True, False or None", soft)
    seed = int(check_random_state(random_state).integers(0, 2**31 - 1))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return _oof(estimator, X, targets, hard, k, splitter, soft)


def _targets(labels: Any, n_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    if isinstance(labels, SoftLabels):
        labels = labels.proba
    arr = np.asarray(labels)
    if arr.ndim == 2:
        proba = check_proba("labels", arr)
        return proba, proba.argmax(axis=1).astype(np.int64), proba.shape[1]
    if n_classes is not None:
        k = check_int("n_classes", n_classes, low=2)
    elif arr.ndim == 1 and arr.size and arr.dtype.kind in "iuf" and np.all(np.isfinite(arr)):
        k = max(int(arr.max()) + 1, 2)
    else:
        k = 2
    hard = check_labels("labels", arr, k)
    return hard, hard, k


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _oof(
    estimator: Any, X: Any, targets: np.ndarray, hard: np.ndarray, k: int, splitter: Any, soft: bool | None
) -> np.ndarray:
    out = np.zeros((hard.shape[0], k))
    decided: bool | None = soft if targets.ndim == 2 else False  # None until the first fold decides
    for train, test in splitter.split(np.zeros(hard.shape[0]), hard):  # one loop per fold
        model, decided = fit_clone(estimator, _safe_indexing(X, train), targets[train], hard[train], decided)
        out[test] = proba_columns(model, np.asarray(model.predict_proba(_safe_indexing(X, test))), k)
    sums = out.sum(axis=1, keepdims=True)
    return np.divide(out, sums, out=np.full_like(out, 1.0 / k), where=sums > 0)
