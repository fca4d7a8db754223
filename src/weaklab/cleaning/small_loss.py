"""Small-loss split: the probability that an item's label is clean from its training loss.

Networks fit clean labels before noisy ones, so early in training the loss of
a mislabelled item is large. A two-component mixture on the losses separates
the low-loss (clean) from the high-loss (noisy) items. The split is made *per
given class*: a hard class has larger losses for its clean items too, and a
single threshold over all classes would call them noisy (and miss the noisy
items of an easy class).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from .._core.validation import check_1d, check_choice, check_int, check_labels, check_random_state, fail

__all__ = ["small_loss_clean_proba", "MIXTURES"]

#: Names accepted by ``mixture=``.
MIXTURES = ("gaussian", "beta")
_MAX_ITER = 200
_TOL = 1e-7
_N_INIT = 3


def small_loss_clean_proba(
    losses: Any,
    labels: Any,
    *,
    n_classes: int | None = None,
    mixture: str = "gaussian",
    min_class_size: int = 20,
    random_state: Any = None,
) -> np.ndarray:
    """P(clean) of each item from a per-class two-component mixture on its training loss.

    Parameters
    ----------
    losses : array-like of shape (n,)
        Per-item training losses (e.g. cross-entropy against the given label,
        averaged over a few early epochs); finite, any scale.
    labels : array-like of shape (n,) or (n, k)
        Given class ids, or soft labels (grouped by their most probable class).
    n_classes : int, optional
        Number of classes ``k``; default one more than the largest label.
    mixture : {"gaussian", "beta"}, default="gaussian"
        Component family. ``"beta"`` first maps each class's losses to
        ``(0, 1)`` by their min and max.
    min_class_size : int, default=20
        Classes with fewer items take their probabilities from one mixture
        fitted on all items.
    random_state : None, int or numpy.random.Generator
        Seed of the extra random initialisations (the first start is
        deterministic: the 20th and 80th percentiles); the fit with the
        highest likelihood is kept.

    Returns
    -------
    ndarray of shape (n,)
        Posterior probability of the low-loss component, in ``[0, 1]``. It is
        non-increasing in the loss within each class at the tails: items below
        the clean component's mean get at least its value there, items above
        the noisy mean at most its value there.

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
    >>> from weaklab.cleaning import small_loss_clean_proba
    >>> losses = -np.log(pred_probs[np.arange(len(labels)), labels])
    >>> p_clean = small_loss_clean_proba(losses, labels, random_state=0)
    >>> wrong = labels != y
    >>> bool(p_clean[~wrong].mean() > p_clean[wrong].mean())
    True
    """
    check_choice("mixture", mixture, MIXTURES)
    loss = check_1d("losses", losses).astype(np.float64)
    if not np.all(np.isfinite(loss)):
        raise fail("losses", "finite values", got_text=f"{int((~np.isfinite(loss)).sum())} NaN or infinite")
    groups = _groups(labels, loss.shape[0], n_classes)
    min_size = check_int("min_class_size", min_class_size, low=2)
    rng = check_random_state(random_state)
    return _split(loss, groups, mixture, min_size, rng)


def _groups(labels: Any, n: int, n_classes: int | None) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim == 2:
        if arr.shape[0] != n:
            raise fail("labels", f"{n} rows (one per loss)", got_text=f"{arr.shape[0]} rows")
        return arr.argmax(axis=1).astype(np.int64)
    if arr.ndim == 1 and arr.size and arr.dtype.kind in "iu":
        k = int(arr.max()) + 1 if n_classes is None else check_int("n_classes", n_classes, low=1)
    else:
        k = 1 if n_classes is None else check_int("n_classes", n_classes, low=1)
    return check_labels("labels", arr, max(k, 1), length=n)


def _split(loss: np.ndarray, groups: np.ndarray, mixture: str, min_size: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(loss.shape[0])
    sizes = np.bincount(groups)
    small = sizes[groups] < min_size
    if small.any():
        out[small] = _clean_posterior(loss, mixture, rng)[small]
    for c in np.flatnonzero(sizes >= min_size):  # one fit per class, vectorised over its items
        rows = groups == c
        out[rows] = _clean_posterior(loss[rows], mixture, rng)
    return out


def _clean_posterior(x: np.ndarray, mixture: str, rng: np.random.Generator) -> np.ndarray:
    if x.shape[0] < 2 or np.ptp(x) <= 1e-12 * max(1.0, np.abs(x).max()):
        return np.ones(x.shape[0])
    if mixture == "beta":
        x = (x - x.min()) / np.ptp(x)
        x = np.clip(x, 1e-4, 1 - 1e-4)
    best_ll, best = -np.inf, np.ones(x.shape[0])
    for start in _starts(x, rng):
        ll, post, means = _em(x, start, mixture)
        if ll > best_ll:
            best_ll, best = ll, _monotone_tails(x, post, means)
    return best


def _starts(x: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    first = np.quantile(x, [0.2, 0.8])
    draws = [np.sort(np.quantile(x, rng.uniform(0.05, 0.95, size=2))) for _ in range(_N_INIT - 1)]
    return [first, *draws]


def _em(x: np.ndarray, means: np.ndarray, mixture: str) -> tuple[float, np.ndarray, np.ndarray]:
    """EM for two components; returns (log-likelihood, P(low-mean component), component means)."""
    var = np.full(2, max(np.var(x), 1e-12))
    mu = means.astype(np.float64).copy()
    weight = np.array([0.5, 0.5])
    floor = 1e-6 * max(np.var(x), 1e-12)
    ll_old = -np.inf
    for _ in range(_MAX_ITER):
        logp = np.log(weight)[None, :] + _log_density(x, mu, var, mixture)
        ll = float(special.logsumexp(logp, axis=1).sum())
        resp = np.exp(logp - special.logsumexp(logp, axis=1, keepdims=True))
        mass = resp.sum(axis=0) + 1e-12
        weight = np.clip(mass / mass.sum(), 1e-6, 1.0)
        mu = (resp * x[:, None]).sum(axis=0) / mass
        var = np.maximum((resp * (x[:, None] - mu[None, :]) ** 2).sum(axis=0) / mass, floor)
        if ll - ll_old < _TOL * max(1.0, abs(ll)):
            break
        ll_old = ll
    low = int(np.argmin(mu))
    return ll, resp[:, low], mu[[low, 1 - low]]


def _log_density(x: np.ndarray, mu: np.ndarray, var: np.ndarray, mixture: str) -> np.ndarray:
    if mixture == "gaussian":
        return np.asarray(-0.5 * ((x[:, None] - mu[None, :]) ** 2 / var[None, :] + np.log(2 * np.pi * var)[None, :]))
    # beta by the method of moments (means and variances kept inside the feasible region)
    m = np.clip(mu, 1e-3, 1 - 1e-3)
    v = np.minimum(var, m * (1 - m) * 0.999)
    common = m * (1 - m) / v - 1
    return np.asarray(stats.beta.logpdf(x[:, None], (m * common)[None, :], ((1 - m) * common)[None, :]))


def _monotone_tails(x: np.ndarray, post: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Items below the clean mean get at least, items above the noisy mean at most, the value there."""
    at_low = np.interp(means[0], np.sort(x), post[np.argsort(x)])
    at_high = np.interp(means[1], np.sort(x), post[np.argsort(x)])
    out = np.where(x <= means[0], np.maximum(post, at_low), post)
    return np.clip(np.where(x >= means[1], np.minimum(out, at_high), out), 0.0, 1.0)
