"""``LabelCleaner``: out-of-fold probabilities, label issues, prune or relabel, retrain."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import _safe_indexing

from .._core.validation import check_float, check_int, check_random_state, fail, options, validate_params
from ..errors import NotFittedError
from ._fit import fit_clone, proba_columns
from ._inputs import Given, check_given
from ._log import CorrectionLog, apply_corrections
from ._steps import best_other, find_issues
from .filter import ISSUE_METHODS
from .oof import out_of_fold_proba

__all__ = ["LabelCleaner", "CLEANER_ACTIONS"]

#: Names accepted by ``action=``.
CLEANER_ACTIONS = ("prune", "relabel", "relabel_or_prune")


class LabelCleaner(ClassifierMixin, BaseEstimator):
    """Train a classifier after removing or correcting the labels that look wrong.

    ``fit`` computes out-of-fold probabilities with ``estimator``
    (:func:`out_of_fold_proba`), flags label issues with them
    (:func:`find_label_issues`), prunes or relabels the flagged items, and
    fits a clone of ``estimator`` on the result.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Anything with ``fit`` and ``predict_proba`` (e.g. a
        ``LogisticRegression``, or weaklab's ``SoftLabelClassifier`` to
        train on soft labels); cloned, never fitted itself.
    cv : int, default=5
        Folds for the out-of-fold probabilities.
    method : str, default="auto"
        Detection method (see :func:`find_label_issues`).
    action : {"prune", "relabel", "relabel_or_prune"}, default="prune"
        ``"prune"``: drop every flagged item from training. ``"relabel"``:
        relabel the flagged items whose out-of-fold probability of another
        class is at least ``threshold`` (:func:`correct_labels`) and keep the
        rest as given. ``"relabel_or_prune"``: relabel those, drop the other
        flagged items.
    threshold : float, default=0.9
        Confidence needed to relabel, in ``(0, 1]``.
    random_state : None, int or numpy.random.Generator
        Seed of the fold shuffle.

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
    pred_probs_ : ndarray of shape (n, k)
        The out-of-fold probabilities.
    label_issues_ : ndarray of shape (n,) and dtype bool
        The flagged items.
    correction_log_ : CorrectionLog
        Every change: relabelled items with their new class and pruned items
        with ``new_label = -1`` (their ``score`` is the probability of their
        most probable other class; ``threshold`` NaN).
    classes_ : ndarray of shape (k,)
        ``0..k-1``; labels must be class ids.

    Notes
    -----
    Soft labels ``(n, k)`` are relabelled in soft mode (a changed row becomes
    its out-of-fold probabilities) and reach the final estimator as they
    reached the fold models (see ``soft`` in :func:`out_of_fold_proba`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab.cleaning import out_of_fold_proba
    >>> from weaklab.evaluation import inject_noise
    >>> X, y = make_blobs(600, centers=3, cluster_std=1.0, random_state=0)
    >>> labels = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> pred_probs = out_of_fold_proba(LogisticRegression(max_iter=500), X, labels, random_state=0)
    >>> from weaklab import LabelCleaner
    >>> cleaner = LabelCleaner(LogisticRegression(max_iter=500), random_state=0).fit(X, labels)
    >>> int(cleaner.label_issues_.sum()), len(cleaner.correction_log_)
    (113, 113)
    >>> plain = LogisticRegression(max_iter=500).fit(X, labels)
    >>> float(np.mean(cleaner.predict(X) == y)) >= float(np.mean(plain.predict(X) == y))
    True
    """

    def __init__(
        self,
        estimator: Any,
        *,
        cv: int = 5,
        method: str = "auto",
        action: str = "prune",
        threshold: float = 0.9,
        random_state: Any = None,
    ) -> None:
        self.estimator = estimator
        self.cv = cv
        self.method = method
        self.action = action
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LabelCleaner:
        """Detect label issues in ``y``, clean them and fit the final estimator.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n, ...)
        y : array-like of shape (n,) or (n, k)
            Class ids in ``[0, k)`` or soft labels (rows sum to 1).

        Returns
        -------
        self
        """
        self._check_params()
        rng = check_random_state(self.random_state, "LabelCleaner(random_state=...)")
        y_arr = np.asarray(y)
        proba = out_of_fold_proba(self.estimator, X, y_arr, cv=self.cv, random_state=rng)
        g = check_given(y_arr, proba, labels_name="y")
        issues = find_issues(g, self.method)
        keep, targets, log = self._clean(g, issues)
        rows = np.flatnonzero(keep)
        hard = targets.argmax(axis=1) if targets.ndim == 2 else targets
        self.estimator_, _ = fit_clone(self.estimator, _safe_indexing(X, rows), targets[rows], hard[rows], None)
        self.pred_probs_ = proba
        self.label_issues_ = issues
        self.correction_log_ = log
        self.classes_ = np.arange(g.k)
        return self

    def _check_params(self) -> None:
        validate_params(self, {"method": options(*ISSUE_METHODS), "action": options(*CLEANER_ACTIONS)})
        check_int("LabelCleaner(cv=...)", self.cv, low=2)
        check_float("LabelCleaner(threshold=...)", self.threshold, low=0.0, high=1.0, low_open=True)
        if not hasattr(self.estimator, "fit") or not hasattr(self.estimator, "predict_proba"):
            raise fail("LabelCleaner(estimator=...)", "a classifier with fit and predict_proba", self.estimator)

    def _clean(self, g: Given, issues: np.ndarray) -> tuple[np.ndarray, np.ndarray, CorrectionLog]:
        if self.action == "prune":
            return ~issues, g.hard if g.soft is None else g.soft, _pruned_log(g, issues, self.method)
        mode = "hard" if g.soft is None else "soft"
        new, log = apply_corrections(g, issues, float(self.threshold), mode, self.method, np.arange(g.n))
        if self.action == "relabel":
            return np.ones(g.n, dtype=bool), new, log
        changed = np.zeros(g.n, dtype=bool)
        changed[log.item.astype(np.int64)] = True
        dropped = issues & ~changed
        return ~dropped, new, _merge(log, _pruned_log(g, dropped, self.method))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, k)`` of the final estimator (columns follow ``classes_``)."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError("LabelCleaner is not fitted yet; call fit(X, y) first")
        return proba_columns(self.estimator_, np.asarray(self.estimator_.predict_proba(X)), self.classes_.shape[0])

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class ``(n,)``."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _pruned_log(g: Given, pruned: np.ndarray, method: str) -> CorrectionLog:
    rows = np.flatnonzero(pruned)
    _, score = best_other(g)
    return CorrectionLog(
        item=rows,
        old_label=g.hard[rows],
        new_label=np.full(rows.shape[0], -1, dtype=np.int64),
        method=np.full(rows.shape[0], method, dtype=object),
        score=score[rows],
        threshold=np.full(rows.shape[0], np.nan),
    )


def _merge(a: CorrectionLog, b: CorrectionLog) -> CorrectionLog:
    order = np.argsort(np.concatenate([a.item, b.item]), kind="stable")
    cols = {c: np.concatenate([getattr(a, c), getattr(b, c)])[order] for c in a.to_dict()}
    return CorrectionLog(**cols)
