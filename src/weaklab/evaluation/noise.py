"""Synthetic label noise for experiments with noisy-label learning.

Class-level noise draws each observed label from a noise matrix
``noise[true, given]`` (built by :func:`weaklab.synthetic.make_noise_matrix`);
instance-dependent noise flips items near the class boundary more often.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._core.validation import check_choice, check_float, check_labels, check_random_state, fail
from ..synthetic import corrupt_labels, make_noise_matrix
from ._inputs import n_classes_of

__all__ = ["inject_noise", "NOISE_KINDS"]

NOISE_KINDS = ("uniform", "pair", "class_conditional", "instance")


def inject_noise(
    y: Any,
    kind: str = "uniform",
    rate: Any = None,
    *,
    random_state: Any = None,
    n_classes: int | None = None,
    features: Any = None,
    transition: Any = None,
) -> np.ndarray:
    """Corrupt clean labels with synthetic noise of a given kind and rate.

    Parameters
    ----------
    y : array-like of shape (n,)
        Clean class ids in ``[0, k)``.
    kind : {"uniform", "pair", "class_conditional", "instance"}, default="uniform"
        * ``"uniform"``: each label is flipped with probability ``rate`` to
          one of the other ``k - 1`` classes, chosen uniformly.
        * ``"pair"``: each label is flipped with probability ``rate`` to the
          next class ``(c + 1) % k``.
        * ``"class_conditional"``: labels are drawn from ``transition``
          (``noise[true, given]``) when given; otherwise class ``c`` is
          flipped with probability ``rate[c]`` (a float applies to every
          class) to other classes in proportions drawn from a flat Dirichlet.
        * ``"instance"``: instance-dependent noise from ``features``. Each
          item's margin is its squared distance to the nearest centroid of
          another class minus that to the centroid of its own class (a linear
          function of the features: the nearest-centroid boundary). Its flip
          probability is proportional to ``exp(-margin / std(margin))``,
          capped at 1 and scaled so that the mean flip probability is
          ``rate``; a flipped item takes the class of that nearest other
          centroid.
    rate : float or array-like of shape (k,), optional
        Expected share of flipped labels, in ``[0, 1]``. Required except for
        ``"class_conditional"`` with a ``transition``; a per-class vector only
        for ``"uniform"``, ``"pair"`` and ``"class_conditional"``.
    random_state : None, int or numpy.random.Generator
        Seed.
    n_classes : int, optional
        Number of classes ``k``; default one more than the largest label.
    features : array-like or sparse matrix of shape (n, d), optional
        Item features; required by ``"instance"``.
    transition : array-like of shape (k, k), optional
        Row-stochastic noise matrix for ``"class_conditional"``.

    Returns
    -------
    ndarray of shape (n,) and dtype int64
        The noisy labels (compare with ``y`` for the flip mask).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.evaluation import inject_noise
    >>> y = np.repeat([0, 1, 2], 100)
    >>> noisy = inject_noise(y, "uniform", 0.2, random_state=0)
    >>> float(np.mean(noisy != y))
    0.24333333333333335
    >>> noisy = inject_noise(y, "pair", 0.3, random_state=0)
    >>> sorted(set(zip(y[noisy != y].tolist(), noisy[noisy != y].tolist())))
    [(0, 1), (1, 2), (2, 0)]
    """
    check_choice("kind", kind, NOISE_KINDS)
    labels = np.asarray(y)
    k = n_classes_of(n_classes, labels if labels.ndim == 1 and labels.dtype.kind in "iu" else np.zeros(0))
    labels = check_labels("y", y, k)
    rng = check_random_state(random_state)
    if kind == "instance":
        return _instance_noise(labels, k, _scalar_rate(rate, kind), features, rng)
    if transition is not None:
        if kind != "class_conditional":
            expected = f"None for kind={kind!r} (only 'class_conditional' takes it)"
            raise fail("transition", expected, transition)
        if rate is not None:
            raise fail("rate", "None when a transition matrix is given", rate)
        return corrupt_labels(labels, transition, random_state=rng)
    if rate is None:
        raise fail("rate", f"a flip probability in [0, 1] for kind={kind!r}", rate)
    spread = {"uniform": "uniform", "pair": "pair", "class_conditional": "random"}[kind]
    noise = make_noise_matrix(k, rate, spread, random_state=rng)
    return corrupt_labels(labels, noise, random_state=rng)


def _scalar_rate(rate: Any, kind: str) -> float:
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool):
        raise fail("rate", f"a float in [0, 1] for kind={kind!r}", rate)
    return check_float("rate", rate, low=0.0, high=1.0)


def _instance_noise(
    y: np.ndarray, k: int, rate: float, features: Any, rng: np.random.Generator
) -> np.ndarray:
    X = _features(features, y.shape[0])
    present = np.bincount(y, minlength=k) > 0
    if present.sum() < 2:
        raise fail("y", "at least two classes present for instance-dependent noise",
                    got_text=f"{int(present.sum())} class")
    d2 = _squared_distances(X, y, k, present)
    own = d2[np.arange(y.shape[0]), y]
    d2[np.arange(y.shape[0]), y] = np.inf
    target = d2.argmin(axis=1)
    margin = d2[np.arange(y.shape[0]), target] - own
    scale = margin.std() or 1.0
    weights = np.exp(-np.clip(margin / scale, -50.0, 50.0))
    flip = rng.random(y.shape[0]) < _fill_to_mean(weights, rate)
    return np.where(flip, target, y).astype(np.int64)


def _features(features: Any, n: int) -> Any:
    if features is None:
        raise fail("features", "an (n, d) feature array for kind='instance'", features)
    if sp.issparse(features):
        X = features.tocsr().astype(np.float64)
    else:
        X = np.asarray(features, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != n:
        raise fail("features", f"a 2-d array with {n} rows (one per label)", X)
    if not sp.issparse(X) and not np.all(np.isfinite(X)):
        raise fail("features", "finite values", got_text="NaN or infinite values")
    return X


def _squared_distances(X: Any, y: np.ndarray, k: int, present: np.ndarray) -> np.ndarray:
    """Squared distance of every item to every class centroid (inf for absent classes)."""
    onehot = sp.csr_matrix((np.ones(y.shape[0]), (np.arange(y.shape[0]), y)), shape=(y.shape[0], k))
    counts = np.maximum(np.bincount(y, minlength=k), 1).astype(np.float64)
    centroids = np.asarray((onehot.T @ X).todense() if sp.issparse(X) else onehot.T @ X) / counts[:, None]
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum("ij,ij->i", X, X)
    cross = np.asarray(X @ centroids.T)
    d2 = sq[:, None] - 2 * cross + np.einsum("ij,ij->i", centroids, centroids)[None, :]
    d2[:, ~present] = np.inf
    return d2


def _fill_to_mean(weights: np.ndarray, rate: float) -> np.ndarray:
    """Probabilities ``min(1, c * weights)`` whose mean is ``rate`` (bisection on ``c``)."""
    if rate >= 1.0:
        return np.ones_like(weights)
    if rate <= 0.0:
        return np.zeros_like(weights)
    lo, hi = 0.0, 1.0
    while np.mean(np.minimum(1.0, hi * weights)) < rate:
        hi *= 2.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.mean(np.minimum(1.0, mid * weights)) < rate else (lo, mid)
    return np.minimum(1.0, hi * weights)
