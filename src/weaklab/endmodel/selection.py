"""Clean/noisy item selection for training on noisy labels, as pure numpy functions.

Each function scores the labelled items from the current model's view of
them (its probability of the given label, its per-item loss, its hidden
features) and returns per-class thresholds, per-item weights or a clean
probability. :class:`~weaklab.endmodel.TorchClassifier` calls them once per
epoch with ``sample_selection=``; they are usable on their own with any
model's probabilities.

- :func:`dynamic_class_thresholds` and :func:`confidence_weights`: the
  confidence-weighted loss with class-wise dynamic thresholds and confidence
  decay of CW-BASS (Tarubinga et al., "Confidence-Weighted Boundary-Aware
  Learning for Semi-Supervised Semantic Segmentation", 2025).
- :func:`fit_gmm_1d` and :func:`gmm_class_thresholds`: per-class thresholds
  from a two-component Gaussian mixture on the scores, as Consistent-Teacher
  sets its pseudo-label score threshold (Wang et al., "Consistent-Teacher:
  Towards Reducing Inconsistent Pseudo-targets in Semi-supervised Object
  Detection", CVPR 2023).
- :func:`prototype_proba` and :func:`prototype_clean_proba`: the class-aware,
  prototype-based clean/noisy split of CPC (Zhang et al., "Class
  Prototype-based Cleaner for Label Noise Learning", 2022): a mixture on the
  losses fitted per class (not one for all classes), combined with the
  agreement between an item's label and its nearest class prototype in
  feature space.
- :func:`estimate_noise_rate`: the noise rate by confident learning on
  held-out probabilities (it counts the held-out model's own errors too;
  co-teaching's ``forget_rate="auto"`` uses
  :func:`~weaklab.endmodel.anchor_noise_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.validation import check_float, check_int, check_labels, check_proba, fail
from .noise_rates import confident_joint_counts

__all__ = [
    "GaussianMixture1D",
    "fit_gmm_1d",
    "gmm_class_thresholds",
    "class_clean_proba",
    "dynamic_class_thresholds",
    "confidence_weights",
    "prototype_proba",
    "prototype_clean_proba",
    "estimate_noise_rate",
]

_MIN_VAR = 1e-6


@dataclass(frozen=True)
class GaussianMixture1D:
    """A fitted two-component 1-d Gaussian mixture; component 1 has the larger mean.

    Attributes
    ----------
    means, variances, weights : tuple of two floats
    """

    means: tuple[float, float]
    variances: tuple[float, float]
    weights: tuple[float, float]

    def posterior_high(self, x: Any) -> np.ndarray:
        """Posterior probability of the higher-mean component for each value of ``x``.

        Parameters
        ----------
        x : array-like of shape (n,)

        Returns
        -------
        ndarray of shape (n,)
        """
        values = np.asarray(x, dtype=np.float64)
        log_dens = np.stack([
            np.log(w) - 0.5 * np.log(2 * np.pi * v) - 0.5 * (values - m) ** 2 / v
            for m, v, w in zip(self.means, self.variances, self.weights)
        ])
        log_dens -= log_dens.max(axis=0)
        dens = np.exp(log_dens)
        return np.asarray(dens[1] / dens.sum(axis=0))


def _scores(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise fail(name, "a 1-d array of finite numbers", arr)
    return arr


def fit_gmm_1d(x: Any, *, n_iter: int = 100, tol: float = 1e-6) -> GaussianMixture1D:
    """Fit a two-component Gaussian mixture to 1-d values by EM.

    The fit is deterministic: the components start at the 25th and 75th
    percentiles with the overall variance and equal weights. Variances are
    floored at ``1e-6``.

    Parameters
    ----------
    x : array-like of shape (n,)
        At least two values.
    n_iter : int, default=100
        Maximum EM iterations.
    tol : float, default=1e-6
        Stop when the mean log-likelihood improves by less than this.

    Returns
    -------
    GaussianMixture1D

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.full(50, 0.1), np.full(50, 0.9)] + np.linspace(-0.05, 0.05, 100)
    >>> gmm = fit_gmm_1d(x)
    >>> [round(m, 1) for m in gmm.means]
    [0.1, 0.9]
    """
    values = _scores("x", x)
    if values.shape[0] < 2:
        raise fail("x", "at least 2 values", got_text=f"{values.shape[0]} value(s)")
    n_iter = check_int("n_iter", n_iter, low=1)
    means = np.percentile(values, [25, 75]).astype(np.float64)
    var = np.full(2, max(float(values.var()), _MIN_VAR))
    weights = np.full(2, 0.5)
    previous = -np.inf
    for _ in range(n_iter):
        log_dens = np.log(weights)[:, None] - 0.5 * np.log(2 * np.pi * var)[:, None] - 0.5 * (
            values[None, :] - means[:, None]
        ) ** 2 / var[:, None]
        top = log_dens.max(axis=0)
        log_norm = top + np.log(np.exp(log_dens - top).sum(axis=0))
        resp = np.exp(log_dens - log_norm)
        mass = resp.sum(axis=1) + 1e-12
        weights = np.clip(mass / values.shape[0], 1e-6, None)
        weights /= weights.sum()
        means = (resp @ values) / mass
        var = np.maximum((resp * (values[None, :] - means[:, None]) ** 2).sum(axis=1) / mass, _MIN_VAR)
        current = float(log_norm.mean())
        if current - previous < tol:
            break
        previous = current
    order = np.argsort(means)
    return GaussianMixture1D(
        means=(float(means[order[0]]), float(means[order[1]])),
        variances=(float(var[order[0]]), float(var[order[1]])),
        weights=(float(weights[order[0]]), float(weights[order[1]])),
    )


def _grouped(scores: Any, labels: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray, int]:
    values = _scores("scores", scores)
    n_classes = check_int("n_classes", n_classes, low=1)
    y = check_labels("labels", labels, n_classes, length=values.shape[0])
    return values, y, n_classes


def class_clean_proba(scores: Any, labels: Any, n_classes: int, *, min_items: int = 10) -> np.ndarray:
    """Per-item probability of the high-score component of its class's mixture.

    One :func:`fit_gmm_1d` per class on the scores of the items labelled with
    that class (class-aware, as CPC argues: classes differ in difficulty, so
    one mixture for all classes misplaces the clean/noisy boundary of the
    hard ones). Pass a score that is high for clean items, for example the
    model's probability of the given label or the negative loss. A class
    with fewer than ``min_items`` items, or whose mixture is unimodal (means
    less than two standard deviations of the wider component apart: then the
    split would cut one population in two), gets probability 1 for all its
    items.

    Parameters
    ----------
    scores : array-like of shape (n,)
    labels : array-like of shape (n,)
        Given class ids in ``[0, n_classes)``.
    n_classes : int
    min_items : int, default=10

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.r_[np.linspace(0.8, 1.0, 40), np.linspace(0.0, 0.2, 10)]
    >>> p = class_clean_proba(scores, np.zeros(50, dtype=int), 1)
    >>> bool(p[:40].min() > 0.9 and p[40:].max() < 0.1)
    True
    """
    values, y, k = _grouped(scores, labels, n_classes)
    min_items = check_int("min_items", min_items, low=2)
    out = np.ones(values.shape[0])
    for c in range(k):
        rows = np.flatnonzero(y == c)
        if rows.shape[0] < min_items or np.ptp(values[rows]) <= 1e-9:
            continue
        gmm = fit_gmm_1d(values[rows])
        if gmm.means[1] - gmm.means[0] < 2.0 * np.sqrt(max(gmm.variances)):
            continue
        out[rows] = gmm.posterior_high(values[rows])
    return out


def gmm_class_thresholds(scores: Any, labels: Any, n_classes: int, *, min_items: int = 10) -> np.ndarray:
    """Per-class score thresholds at the boundary of a two-component mixture (Consistent-Teacher).

    For each class, a :func:`fit_gmm_1d` on its items' scores; the threshold
    is the smallest score of the class whose posterior of the high-score
    component is at least 0.5, so the threshold follows the model as its
    scores move during training instead of staying fixed. A class with fewer
    than ``min_items`` items or a unimodal mixture (see
    :func:`class_clean_proba`) gets 0 (keep all).

    Parameters
    ----------
    scores : array-like of shape (n,)
        For example the model's probability of each item's given label.
    labels : array-like of shape (n,)
    n_classes : int
    min_items : int, default=10

    Returns
    -------
    ndarray of shape (n_classes,)

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.r_[np.linspace(0.7, 1.0, 30), np.linspace(0.0, 0.3, 20)]
    >>> tau = gmm_class_thresholds(scores, np.zeros(50, dtype=int), 1)
    >>> bool(0.3 < tau[0] <= 0.7)
    True
    """
    values, y, k = _grouped(scores, labels, n_classes)
    post = class_clean_proba(values, y, k, min_items=min_items)
    tau = np.zeros(k)
    for c in range(k):
        rows = np.flatnonzero(y == c)
        high = rows[post[rows] >= 0.5]
        if rows.shape[0] >= min_items and 0 < high.shape[0] < rows.shape[0]:
            tau[c] = float(values[high].min())
    return tau


def dynamic_class_thresholds(
    confidence: Any, labels: Any, n_classes: int, previous: Any = None, *, momentum: float = 0.9
) -> np.ndarray:
    """Class-wise dynamic thresholds of CW-BASS: a running mean of each class's confidence.

    ``tau_c <- momentum * tau_c + (1 - momentum) * mean(confidence of items labelled c)``;
    without ``previous`` the thresholds start at the class means. A class
    with no item keeps its previous threshold (0 at the start). Classes the
    model fits worse get lower thresholds, so selection does not starve them.

    Parameters
    ----------
    confidence : array-like of shape (n,)
        The model's probability of each item's given label.
    labels : array-like of shape (n,)
    n_classes : int
    previous : array-like of shape (n_classes,), optional
    momentum : float in [0, 1), default=0.9

    Returns
    -------
    ndarray of shape (n_classes,)

    Examples
    --------
    >>> dynamic_class_thresholds([0.9, 0.7, 0.4], [0, 0, 1], 2).round(2).tolist()
    [0.8, 0.4]
    """
    values, y, k = _grouped(confidence, labels, n_classes)
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
    counts = np.bincount(y, minlength=k)
    means = np.bincount(y, weights=values, minlength=k) / np.maximum(counts, 1)
    if previous is None:
        return np.where(counts > 0, means, 0.0)
    prev = np.asarray(previous, dtype=np.float64)
    if prev.shape != (k,):
        raise fail("previous", f"an array of shape ({k},)", prev)
    return np.where(counts > 0, momentum * prev + (1.0 - momentum) * means, prev)


def confidence_weights(confidence: Any, labels: Any, thresholds: Any, *, below_scale: float = 0.0) -> np.ndarray:
    """CW-BASS item weights: the confidence above the class threshold, decayed below it.

    ``w_i = c_i`` when ``c_i >= tau[y_i]`` and ``below_scale * c_i`` otherwise,
    where ``c_i`` is the model's probability of the given label. A trainer
    lowers ``below_scale`` from 1 to 0 over training (confidence decay), so
    the items the model doubts lose their influence progressively.

    Parameters
    ----------
    confidence : array-like of shape (n,)
    labels : array-like of shape (n,)
    thresholds : array-like of shape (n_classes,)
    below_scale : float in [0, 1], default=0.0

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> confidence_weights([0.9, 0.3], [0, 0], [0.5], below_scale=0.5).tolist()
    [0.9, 0.15]
    """
    tau = np.asarray(thresholds, dtype=np.float64)
    if tau.ndim != 1 or tau.shape[0] == 0:
        raise fail("thresholds", "a non-empty 1-d array", tau)
    values, y, _ = _grouped(confidence, labels, tau.shape[0])
    below_scale = check_float("below_scale", below_scale, low=0.0, high=1.0)
    return np.where(values >= tau[y], values, below_scale * values)


def prototype_proba(
    embeddings: Any, labels: Any, n_classes: int, weights: Any = None, *, temperature: float = 0.1
) -> np.ndarray:
    """Softmax over cosine similarities to class prototypes.

    The prototype of class ``c`` is the (``weights``-weighted) mean of the
    L2-normalised embeddings of the items labelled ``c``; an item's row is
    ``softmax(cos(e_i, prototype_c) / temperature)``. A class without weight
    gets no prototype (probability 0).

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
    labels : array-like of shape (n,)
    n_classes : int
    weights : array-like of shape (n,), optional
        Non-negative; default all 1.
    temperature : float > 0, default=0.1

    Returns
    -------
    ndarray of shape (n, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> prototype_proba(E, [0, 0, 1, 1], 2).argmax(axis=1).tolist()
    [0, 0, 1, 1]
    """
    emb = np.asarray(embeddings, dtype=np.float64)
    if emb.ndim != 2 or not np.all(np.isfinite(emb)):
        raise fail("embeddings", "a 2-d array of finite numbers", emb)
    n_classes = check_int("n_classes", n_classes, low=1)
    y = check_labels("labels", labels, n_classes, length=emb.shape[0])
    w = np.ones(emb.shape[0]) if weights is None else _scores("weights", weights)
    if w.shape[0] != emb.shape[0] or np.any(w < 0):
        raise fail("weights", f"{emb.shape[0]} non-negative numbers", w)
    temperature = check_float("temperature", temperature, low=0.0, low_open=True)
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    onehot = np.eye(n_classes)[y] * w[:, None]
    protos = onehot.T @ unit
    present = onehot.sum(axis=0) > 0
    protos /= np.maximum(np.linalg.norm(protos, axis=1, keepdims=True), 1e-12)
    logits = np.where(present[None, :], unit @ protos.T / temperature, -np.inf)
    logits -= logits.max(axis=1, keepdims=True)
    expo = np.exp(logits)
    return np.asarray(expo / expo.sum(axis=1, keepdims=True))


def prototype_clean_proba(
    losses: Any, embeddings: Any, labels: Any, n_classes: int, *, temperature: float = 0.1
) -> np.ndarray:
    """CPC's class-aware clean probability: per-class loss mixture and prototype agreement.

    Two views of each item are combined by their geometric mean: (1) the
    posterior of the low-loss component of a mixture fitted per class on the
    losses (:func:`class_clean_proba` on ``-losses``); (2) the probability of
    the item's given label under :func:`prototype_proba`, with prototypes
    built from the items view (1) calls clean (weights = that posterior),
    which is CPC's intra-class consistency in feature space. An item is
    clean only if both views allow it: a label its nearest prototype
    contradicts is flagged even when the loss mixture of its class is
    unimodal.

    Parameters
    ----------
    losses : array-like of shape (n,)
        Per-item loss under the given label.
    embeddings : array-like of shape (n, d)
        The model's features of the items (for example its last hidden layer).
    labels : array-like of shape (n,)
    n_classes : int
    temperature : float > 0, default=0.1

    Returns
    -------
    ndarray of shape (n,)
        In [0, 1]; items at 0.5 or above are the clean side of the split.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> E = np.r_[rng.normal([3, 0], 1, (40, 2)), rng.normal([0, 3], 1, (40, 2))]
    >>> y = np.r_[np.zeros(40, int), np.ones(40, int)]
    >>> y[:8] = 1  # eight class-0 items labelled 1
    >>> losses = np.where(np.arange(80) < 8, 2.0, 0.1) + rng.normal(0, 0.05, 80)
    >>> p = prototype_clean_proba(losses, E, y, 2)
    >>> bool(p[:8].max() < 0.5 < p[8:].min())
    True
    """
    loss = _scores("losses", losses)
    by_loss = class_clean_proba(-loss, labels, n_classes)
    y = check_labels("labels", labels, n_classes, length=loss.shape[0])
    proto = prototype_proba(embeddings, y, n_classes, by_loss, temperature=temperature)
    return np.sqrt(by_loss * proto[np.arange(y.shape[0]), y])


def estimate_noise_rate(proba: Any, labels: Any) -> float:
    """Share of wrong labels estimated by confident learning from held-out probabilities.

    With ``t_j`` the mean probability of class ``j`` over the items labelled
    ``j``, each item counts toward ``(given label, j)`` for the class ``j`` of
    highest probability among those with ``p_ij >= t_j`` (items with none are
    not counted). The counts are rescaled so each given class keeps its size,
    and the estimate is the off-diagonal share (Northcutt et al., "Confident
    Learning", JAIR 2021). Use out-of-fold probabilities: a model that
    trained on the items agrees with their labels. Every item the held-out
    model confidently gets wrong counts, so a weak model's own errors add to
    the estimate even on clean labels; :func:`~weaklab.endmodel.anchor_noise_rate`
    (co-teaching's ``forget_rate="auto"``) does not count them.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Held-out class probabilities.
    labels : array-like of shape (n,)
        Given (noisy) class ids.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1]] * 6 + [[0.1, 0.9]] * 4)
    >>> round(estimate_noise_rate(P, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), 3)
    0.1
    """
    p = check_proba("proba", proba)
    check_labels("labels", labels, p.shape[1], length=p.shape[0])
    if p.shape[0] == 0:
        return 0.0
    joint = confident_joint_counts(p, labels)
    total = joint.sum()
    return float(1.0 - np.trace(joint) / total) if total > 0 else 0.0
