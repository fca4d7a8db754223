"""mi-SVM-style instance baseline for multiple-instance learning (Andrews, Tsochantaridis & Hofmann 2002).

Instances inherit their bag's label; a classifier is fitted on instances; instances of positive bags are
relabelled by its predictions (each positive bag keeps at least its highest-scoring instance positive,
instances of negative bags stay negative); repeat until the labels stop changing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.validation import fail, instance_of, interval, optional, validate_params
from ..errors import NotFittedError
from .bags import as_bags, check_bag_labels, flatten_bags

__all__ = ["MISVM"]

_PARAMS = {
    "max_iter": interval(int, 1, None),
    "standardize": instance_of(bool),
    "random_state": optional(instance_of(int, np.random.Generator)),
}


def _bag_max(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    starts = np.concatenate([[0], np.cumsum(np.bincount(index))[:-1]])
    return np.maximum.reduceat(values, starts)


class MISVM:
    """Instance-level MIL baseline: iterative relabelling of the instances of positive bags (mi-SVM).

    Parameters
    ----------
    estimator : scikit-learn classifier or None, default None
        Instance classifier with ``decision_function`` or ``predict_proba``; ``None`` means
        ``SVC(kernel="rbf", C=1.0, gamma="scale")``. It is cloned for every fit.
    max_iter : int, default 10
        Relabelling rounds at most.
    standardize : bool, default True
        Scale features to zero mean, unit variance over the training instances.
    random_state : int or None, default None
        Passed to the estimator when it takes one.

    Attributes
    ----------
    estimator_ : classifier
        The instance classifier of the last round.
    instance_labels_ : ndarray of shape (n_instances,)
        The final training instance labels.
    n_iter_ : int
        Rounds run.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bags = [rng.normal(size=(5, 2)) for _ in range(20)]
    >>> y = np.array([i % 2 for i in range(20)])
    >>> for bag, label in zip(bags, y):
    ...     bag[0] += 5.0 * label
    >>> model = MISVM(random_state=0).fit(bags, y)
    >>> float(np.mean(model.predict(bags) == y)) >= 0.9
    True
    """

    def __init__(self, estimator: Any = None, max_iter: int = 10, standardize: bool = True,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.max_iter = max_iter
        self.standardize = standardize
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        return {"estimator": self.estimator, "max_iter": self.max_iter, "standardize": self.standardize,
                "random_state": self.random_state}

    def _new_estimator(self) -> Any:
        from sklearn.base import clone
        from sklearn.svm import SVC

        est = SVC(kernel="rbf", C=1.0, gamma="scale") if self.estimator is None else clone(self.estimator)
        if "random_state" in est.get_params():
            est.set_params(random_state=self.random_state)
        return est

    def fit(self, bags: Any, y: Any, *, bag_ids: Any = None) -> MISVM:
        """Fit on bags with binary bag labels.

        Parameters
        ----------
        bags : list of array-like
            ``(n_i, d)`` arrays, or stacked instances with ``bag_ids``.
        y : array-like of shape (n_bags,)
            Bag labels, 0 or 1.
        bag_ids : array-like of shape (n_instances,), optional
            Bag of each instance when ``bags`` is a stacked array.

        Returns
        -------
        MISVM
            ``self``, fitted.
        """
        validate_params(self, _PARAMS)
        data = as_bags(bags, bag_ids)
        if data[0].ndim != 2:
            raise fail("bags", "bags of feature vectors, shape (n_i, d)",
                       got_text=f"instances of shape {data[0].shape[1:]}")
        labels = check_bag_labels(y, len(data))
        X, index = flatten_bags(data)
        X = X.reshape(len(X), -1)
        self.mean_ = X.mean(axis=0) if self.standardize else np.zeros(X.shape[1])
        self.scale_ = X.std(axis=0) + 1e-6 if self.standardize else np.ones(X.shape[1])
        X = (X - self.mean_) / self.scale_
        in_positive = labels[index] == 1
        current = labels[index].copy()
        for it in range(1, self.max_iter + 1):
            est = self._new_estimator().fit(X, current)
            score = self._score(est, X)
            proposal = np.where(in_positive, (score > 0).astype(np.int64), 0)
            proposal = self._keep_one_positive(proposal, score, index, labels)
            self.estimator_, self.n_iter_ = est, it
            if np.array_equal(proposal, current) or len(np.unique(proposal)) < 2:
                break
            current = proposal
        self.instance_labels_ = current
        return self

    @staticmethod
    def _keep_one_positive(proposal: np.ndarray, score: np.ndarray, index: np.ndarray,
                           labels: np.ndarray) -> np.ndarray:
        has_positive = _bag_max(proposal, index) > 0
        for b in np.flatnonzero((labels == 1) & ~has_positive):
            rows = np.flatnonzero(index == b)
            proposal[rows[np.argmax(score[rows])]] = 1
        return proposal

    @staticmethod
    def _score(est: Any, X: np.ndarray) -> np.ndarray:
        if hasattr(est, "decision_function"):
            return np.asarray(est.decision_function(X), dtype=np.float64)
        p = np.asarray(est.predict_proba(X))[:, 1]
        return np.log(np.clip(p, 1e-12, 1.0)) - np.log(np.clip(1.0 - p, 1e-12, 1.0))

    def _instance_decision(self, bags: Any, bag_ids: Any) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "estimator_"):
            raise NotFittedError("MISVM is not fitted yet; call fit(bags, y) first")
        X, index = flatten_bags(as_bags(bags, bag_ids))
        X = X.reshape(len(X), -1)
        if X.shape[1] != len(self.mean_):
            raise fail("bags", f"instances with {len(self.mean_)} features as in fit", got_text=f"{X.shape[1]}")
        return self._score(self.estimator_, (X - self.mean_) / self.scale_), index

    def decision_function(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag scores: the largest instance score of each bag, shape ``(n_bags,)``."""
        score, index = self._instance_decision(bags, bag_ids)
        return _bag_max(score, index)

    def predict_proba(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """``(n_bags, 2)`` scores in [0, 1] (a logistic squashing of the bag score; not calibrated)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(bags, bag_ids=bag_ids)))
        return np.column_stack([1.0 - p, p])

    def predict(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag labels (0/1), shape ``(n_bags,)``."""
        return (self.decision_function(bags, bag_ids=bag_ids) > 0).astype(np.int64)

    def instance_scores(self, bags: Any, *, bag_ids: Any = None) -> list[np.ndarray]:
        """Logistic squashing of each instance's score; one ``(n_i,)`` array per bag."""
        score, index = self._instance_decision(bags, bag_ids)
        p = 1.0 / (1.0 + np.exp(-score))
        return np.split(p, np.cumsum(np.bincount(index))[:-1])
