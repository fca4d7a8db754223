"""MILES: multiple-instance learning via embedded instance selection (Chen, Bi & Wang, TPAMI 2006).

A bag ``B`` is embedded as its similarity to every training instance ``c_k`` (the *concepts*),
``s_k(B) = max_j exp(-gamma * ||x_j - c_k||^2 / d)``, and a 1-norm (sparse) linear SVM separates the
embedded bags; the few concepts it keeps are the instances that decide a bag's label. The RBF width and
the SVM's ``C`` are chosen by an inner stratified cross-validation over the training bags only. Pure
numpy / scikit-learn: no torch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, state_params, to_jsonable
from .._core.validation import check_random_state, fail, instance_of, interval, optional, validate_params
from ..errors import NotFittedError
from .bags import as_bags, check_bag_labels, flatten_bags

__all__ = ["MILES", "similarity_embedding"]

_PARAMS = {
    "cv": interval(int, 2, None),
    "standardize": instance_of(bool),
    "max_concepts": optional(interval(int, 1, None)),
    "random_state": optional(instance_of(int, np.random.Generator)),
}
_CHUNK = 1024


def similarity_embedding(X: np.ndarray, index: np.ndarray, n_bags: int, concepts: np.ndarray,
                         gammas: Sequence[float]) -> list[np.ndarray]:
    """MILES embedding of bags for several RBF widths at once.

    Parameters
    ----------
    X : ndarray of shape (n_instances, d)
        Instances of all bags, stacked (bags contiguous, in order).
    index : ndarray of shape (n_instances,)
        Bag of each instance (non-decreasing, every bag ``0 .. n_bags-1`` present).
    n_bags : int
        Number of bags.
    concepts : ndarray of shape (n_concepts, d)
        The instances bags are compared with.
    gammas : sequence of float
        RBF widths; the kernel is ``exp(-gamma * squared distance / d)``.

    Returns
    -------
    list of ndarray
        One ``(n_bags, n_concepts)`` embedding per gamma: each bag's largest similarity to each concept.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [2.0], [5.0]]); index = np.array([0, 0, 1])
    >>> E = similarity_embedding(X, index, 2, np.array([[0.0]]), [1.0])[0]
    >>> E.round(4).tolist()
    [[1.0], [0.0]]
    """
    starts = np.concatenate([[0], np.cumsum(np.bincount(index, minlength=n_bags))[:-1]])
    d = max(X.shape[1], 1)
    x2 = np.einsum("ij,ij->i", X, X)[:, None]
    nearest = np.empty((n_bags, len(concepts)))  # each bag's smallest squared distance to each concept
    for lo in range(0, len(concepts), _CHUNK):
        C = concepts[lo: lo + _CHUNK]
        d2 = x2 + np.einsum("ij,ij->i", C, C)[None, :] - 2.0 * X @ C.T
        nearest[:, lo: lo + len(C)] = np.maximum(np.minimum.reduceat(d2, starts, axis=0), 0.0) / d
    return [np.exp(-g * nearest) for g in gammas]  # exp is decreasing: the max similarity is at the min distance


def _fit_l1_svm(E: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    """1-norm linear SVM (squared hinge); a large ``C`` of the grid may stop at ``max_iter`` (no warning)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    svm = LinearSVC(penalty="l1", loss="squared_hinge", dual=False, C=C, max_iter=1000, tol=1e-4,
                    random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(E, y)
    return svm.coef_.ravel().astype(np.float64), float(svm.intercept_[0])


def _inner_scores(embeddings: list[np.ndarray], y: np.ndarray, Cs: Sequence[float], cv: int,
                  seed: int) -> np.ndarray:
    """Inner-CV (accuracy, AUC) of every (gamma, C) pair, shape ``(n_gammas, n_Cs, 2)``."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    folds = min(cv, int(np.bincount(y).min()))
    scores = np.zeros((len(embeddings), len(Cs), 2))
    if folds < 2:
        return scores
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    for g, E in enumerate(embeddings):
        for c, C in enumerate(Cs):
            decision = np.zeros(len(y))
            for train, test in splits:
                w, b = _fit_l1_svm(E[train], y[train], C)
                decision[test] = E[test] @ w + b
            scores[g, c] = np.mean((decision > 0) == y), roc_auc_score(y, decision)
    return scores


class MILES:
    """Bag classifier on the similarity of a bag to every training instance, with a sparse linear SVM.

    Parameters
    ----------
    gammas : sequence of float, default (0.25, 0.5, 1.0, 2.0, 4.0)
        RBF widths tried (per feature, on standardised features: ``exp(-gamma * ||x - c||^2 / d)``).
    Cs : sequence of float, default (1.0, 10.0, 100.0)
        1-norm SVM regularisation values tried (larger: less sparse).
    cv : int, default 5
        Folds of the inner stratified cross-validation over the training bags that picks
        ``(gamma, C)`` (by accuracy, ties by AUC, then the earlier pair of the grid).
    standardize : bool, default True
        Scale each feature to zero mean, unit variance over the training instances.
    max_concepts : int or None, default None
        Use at most this many training instances as concepts (a random subset; ``None``: all).
    random_state : int, numpy Generator or None, default None
        Seeds the inner folds and the concept subset.

    Attributes
    ----------
    gamma_, C_ : float
        The chosen pair.
    cv_scores_ : ndarray of shape (n_gammas, n_Cs, 2)
        Inner-CV accuracy and AUC of every pair.
    concepts_ : ndarray of shape (n_kept, d)
        The standardised concepts with a non-zero weight (the selected instances).
    coef_ : ndarray of shape (n_kept,)
        Their weights; ``intercept_`` the SVM's offset.
    mean_, scale_ : ndarray of shape (d,)
        Feature standardisation.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bags = [rng.normal(size=(4, 3)) for _ in range(30)]
    >>> y = np.array([i % 2 for i in range(30)])
    >>> for bag, label in zip(bags, y):
    ...     bag[0, :2] += 4.0 * label
    >>> model = MILES(random_state=0).fit(bags, y)
    >>> float(np.mean(model.predict(bags) == y)) >= 0.9
    True
    >>> [len(s) for s in model.instance_scores(bags[:2])]
    [4, 4]
    """

    def __init__(
        self,
        gammas: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
        Cs: Sequence[float] = (1.0, 10.0, 100.0),
        *,
        cv: int = 5,
        standardize: bool = True,
        max_concepts: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.gammas = gammas
        self.Cs = Cs
        self.cv = cv
        self.standardize = standardize
        self.max_concepts = max_concepts
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        names = ("gammas", "Cs", "cv", "standardize", "max_concepts", "random_state")
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params: Any) -> MILES:
        """Set parameters (scikit-learn convention); returns self."""
        for name, value in params.items():
            if name not in self.get_params():
                raise fail("params", f"parameters of MILES {sorted(self.get_params())}", got_text=repr(name))
            setattr(self, name, value)
        return self

    def _check_params(self) -> tuple[list[float], list[float]]:
        validate_params(self, _PARAMS)
        grids = []
        for name in ("gammas", "Cs"):
            values = getattr(self, name)
            ok = isinstance(values, (tuple, list)) and len(values) > 0 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v > 0 for v in values)
            if not ok:
                raise fail(f"MILES({name})", "a non-empty tuple of positive numbers", values)
            grids.append([float(v) for v in values])
        return grids[0], grids[1]

    def fit(self, bags: Any, y: Any, *, bag_ids: Any = None) -> MILES:
        """Embed the training bags, choose ``(gamma, C)`` by inner CV, refit on all training bags.

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
        MILES
            ``self``, fitted.
        """
        gammas, Cs = self._check_params()
        data = as_bags(bags, bag_ids)
        if data[0].ndim != 2:
            raise fail("bags", "bags of feature vectors, shape (n_i, d)",
                       got_text=f"instances of shape {data[0].shape[1:]}")
        labels = check_bag_labels(y, len(data))
        rng = check_random_state(self.random_state)
        X, index = flatten_bags(data)
        X = X.astype(np.float64)
        self.mean_ = X.mean(axis=0) if self.standardize else np.zeros(X.shape[1])
        self.scale_ = X.std(axis=0) + 1e-6 if self.standardize else np.ones(X.shape[1])
        X = (X - self.mean_) / self.scale_
        concepts = X
        if self.max_concepts is not None and len(X) > self.max_concepts:
            concepts = X[np.sort(rng.choice(len(X), self.max_concepts, replace=False))]
        embeddings = similarity_embedding(X, index, len(data), concepts, gammas)
        self.cv_scores_ = _inner_scores(embeddings, labels, Cs, self.cv, int(rng.integers(2**31 - 1)))
        flat = [(self.cv_scores_[g, c, 0], self.cv_scores_[g, c, 1], -g * len(Cs) - c)
                for g in range(len(gammas)) for c in range(len(Cs))]
        best = max(range(len(flat)), key=lambda i: flat[i])
        g, c = divmod(best, len(Cs))
        self.gamma_, self.C_ = gammas[g], Cs[c]
        w, b = _fit_l1_svm(embeddings[g], labels, self.C_)
        keep = np.flatnonzero(w != 0)
        self.concepts_, self.coef_, self.intercept_ = concepts[keep], w[keep], b
        return self

    # ------------------------------------------------------------------ predict
    def _embed(self, bags: Any, bag_ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not hasattr(self, "coef_"):
            raise NotFittedError("MILES is not fitted yet; call fit(bags, y) first")
        data = as_bags(bags, bag_ids)
        X, index = flatten_bags(data)
        X = X.reshape(len(X), -1).astype(np.float64)
        if X.shape[1] != len(self.mean_):
            raise fail("bags", f"instances with {len(self.mean_)} features as in fit", got_text=f"{X.shape[1]}")
        return (X - self.mean_) / self.scale_, index, np.arange(len(data))

    def decision_function(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag scores ``w . s(B) + b``, shape ``(n_bags,)`` (positive means a positive bag)."""
        X, index, bag_range = self._embed(bags, bag_ids)
        E = similarity_embedding(X, index, len(bag_range), self.concepts_, [self.gamma_])[0]
        return E @ self.coef_ + self.intercept_

    def predict_proba(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """``(n_bags, 2)`` scores in [0, 1]: a logistic squashing of the bag score (not calibrated)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(bags, bag_ids=bag_ids)))
        return np.column_stack([1.0 - p, p])

    def predict(self, bags: Any, *, bag_ids: Any = None) -> np.ndarray:
        """Bag labels (0/1), shape ``(n_bags,)``."""
        return (self.decision_function(bags, bag_ids=bag_ids) > 0).astype(np.int64)

    def instance_scores(self, bags: Any, *, bag_ids: Any = None) -> list[np.ndarray]:
        """Each instance scored as a bag of its own (logistic squashing); one ``(n_i,)`` array per bag.

        Parameters
        ----------
        bags : list of array-like
            Bags as in :meth:`fit`.
        bag_ids : array-like, optional
            Bag of each instance when ``bags`` is a stacked array.

        Returns
        -------
        list of ndarray
            One ``(n_i,)`` array of scores in [0, 1] per bag.
        """
        X, index, _ = self._embed(bags, bag_ids)
        E = similarity_embedding(X, np.arange(len(X)), len(X), self.concepts_, [self.gamma_])[0]
        p = 1.0 / (1.0 + np.exp(-(E @ self.coef_ + self.intercept_)))
        return np.split(p, np.cumsum(np.bincount(index))[:-1])

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        """JSON-able parameters plus arrays (no pickle); see :meth:`from_state`."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("MILES is not fitted yet; call fit(bags, y) first")
        params = self.get_params()
        attributes = {"gamma_": self.gamma_, "C_": self.C_, "intercept_": self.intercept_}
        arrays = {"concepts_": self.concepts_, "coef_": self.coef_, "mean_": self.mean_, "scale_": self.scale_,
                  "cv_scores_": self.cv_scores_}
        return {"schema_version": STATE_SCHEMA_VERSION, "class": "MILES", "module": "weaklab.vision",
                "params": state_params(params), "attributes": to_jsonable(attributes), "arrays": arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MILES:
        """Rebuild a fitted model from :meth:`to_state` output.

        Examples
        --------
        >>> import numpy as np
        >>> bags = [np.full((2, 1), float(i % 2)) for i in range(10)]
        >>> m = MILES(cv=2, random_state=0).fit(bags, [i % 2 for i in range(10)])
        >>> twin = MILES.from_state(m.to_state())
        >>> bool(np.allclose(twin.decision_function(bags), m.decision_function(bags)))
        True
        """
        check_state(state, "MILES")
        params = dict(state["params"])
        params["gammas"], params["Cs"] = tuple(params["gammas"]), tuple(params["Cs"])
        model = cls(**params)
        model._check_params()
        attrs, arrays = state["attributes"], state["arrays"]
        model.gamma_, model.C_ = float(attrs["gamma_"]), float(attrs["C_"])
        model.intercept_ = float(attrs["intercept_"])
        for name in ("concepts_", "coef_", "mean_", "scale_", "cv_scores_"):
            setattr(model, name, np.asarray(arrays[name], dtype=np.float64))
        return model
