"""Noise rates per given class, estimated from held-out probabilities of the given labels.

Co-teaching (Han et al. 2018) discards the share of each batch that it
believes mislabelled. With class imbalance that share differs widely between
the given classes: under 40 % uniform noise on a set with 13 % positives,
about 80 % of the items labelled positive are wrong but only 10 % of those
labelled negative. One forget rate for every class then keeps the wrong
items of the small class and throws away right items of the large one.
:func:`class_noise_rates` gives one rate per given class instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import nnls

from .._core.confident_joint import calibrate_joint, raw_confident_joint
from .._core.validation import check_float, check_labels, check_proba
from .calibration import TemperatureScaling

__all__ = [
    "confident_joint_counts", "class_noise_rates", "anchor_noise_rate", "uniform_noise_prior",
    "prior_matched_forget_rates", "uniform_noise_explains",
]


def confident_joint_counts(proba: Any, labels: Any) -> np.ndarray:
    """Counts ``(given class, likely true class)`` by confident learning, each row rescaled to its class size.

    With ``t_j`` the mean probability of class ``j`` over the items labelled
    ``j``, each item counts toward ``(given label, j)`` for the class ``j`` of
    highest probability among those with ``p_ij >= t_j`` (items with none are
    not counted). Each row is then rescaled to the number of items given that
    label; a row with no counted item keeps its items on the diagonal (Northcutt et al.,
    "Confident Learning", JAIR 2021). Use out-of-fold probabilities. The counting is
    the same as :func:`weaklab.cleaning.confident_joint` with hard labels (both use
    ``weaklab._core.confident_joint``).

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Held-out class probabilities.
    labels : array-like of shape (n,)
        Given (noisy) class ids.

    Returns
    -------
    ndarray of shape (k, k)

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1]] * 6 + [[0.1, 0.9]] * 4)
    >>> confident_joint_counts(P, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]).tolist()
    [[5.0, 0.0], [1.0, 4.0]]
    """
    p = check_proba("proba", proba)
    y = check_labels("labels", labels, p.shape[1], length=p.shape[0])
    counts = np.bincount(y, minlength=p.shape[1]).astype(np.float64)
    return calibrate_joint(raw_confident_joint(p, y), counts)


def class_noise_rates(proba: Any, labels: Any) -> np.ndarray:
    """Estimated share of wrong labels among the items given each class.

    Row ``j`` of :func:`confident_joint_counts`: its off-diagonal share. A class
    with no counted item (or no item) gets 0.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Held-out (out-of-fold) class probabilities.
    labels : array-like of shape (n,)
        Given (noisy) class ids.

    Returns
    -------
    ndarray of shape (k,) in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1]] * 6 + [[0.1, 0.9]] * 4)
    >>> class_noise_rates(P, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]).round(3).tolist()
    [0.0, 0.2]
    """
    joint = confident_joint_counts(proba, labels)
    row = joint.sum(axis=1)
    return np.where(row > 0, 1.0 - np.diag(joint) / np.maximum(row, 1e-12), 0.0)


def prior_matched_forget_rates(noise_rate: float, true_prior: Any, given_prior: Any, *, cap: float = 0.8) -> np.ndarray:
    """Per-class forget rates that keep each class at its estimated true share.

    Co-teaching keeps the ``1 - noise_rate`` small-loss share of the items.
    Selecting that share within each given class separately keeps the classes
    at their *given* shares, which noise distorts: uniform noise at 40 % on a
    set with 13 % positives labels 43 % of the items positive, and per-class
    selection then trains on a set that is 43 % "positive", mostly negatives.
    Here class ``c`` keeps ``(1 - noise_rate) * true_prior[c] / given_prior[c]``
    of its items (at most all of them), so the kept items follow the true
    prior, and forgets the rest, at most ``cap``. With a true prior equal to
    the given one every class forgets ``noise_rate``.

    Parameters
    ----------
    noise_rate : float in [0, 1]
        The overall share of wrong labels (for example
        :func:`~weaklab.endmodel.estimate_noise_rate`).
    true_prior : array-like of shape (k,)
        Estimated class shares of the true labels, for example the shares of
        the out-of-fold predicted classes of a model trained on the noisy
        labels (under noise that leaves the right class the most likely label,
        the best classifier of the noisy labels is the best of the clean ones).
    given_prior : array-like of shape (k,)
        Class shares of the given labels.
    cap : float in [0, 1], default=0.8

    Returns
    -------
    ndarray of shape (k,) in [0, cap]

    Examples
    --------
    >>> prior_matched_forget_rates(0.4, [0.87, 0.13], [0.57, 0.43]).round(2).tolist()
    [0.08, 0.8]
    >>> prior_matched_forget_rates(0.3, [0.5, 0.5], [0.5, 0.5]).round(2).tolist()
    [0.3, 0.3]
    """
    pi = np.asarray(true_prior, dtype=np.float64)
    rho = np.asarray(given_prior, dtype=np.float64)
    keep = np.where(rho > 0, (1.0 - float(noise_rate)) * pi / np.maximum(rho, 1e-12), 1.0)
    return np.asarray(np.clip(1.0 - np.minimum(keep, 1.0), 0.0, cap))


def uniform_noise_explains(true_prior: Any, given_prior: Any, *, max_residual: float = 0.5) -> bool:
    """Whether uniform noise can turn ``true_prior`` into ``given_prior``.

    Uniform noise at rate ``r`` moves every class's share toward ``1 / k`` by
    one common factor: ``given - 1/k = (1 - r k / (k - 1)) (true - 1/k)``. So
    ``true - 1/k`` must point the way ``given - 1/k`` does and be longer. True
    when the least-squares factor ``lam`` in ``true - 1/k ~ lam (given - 1/k)``
    is at least 1 and the residual is at most ``max_residual`` times the
    length of ``true - 1/k``. :class:`~weaklab.endmodel.TorchClassifier` uses
    :func:`prior_matched_forget_rates` only then: a predicted prior that
    uniform noise does not explain (a weak model's bias toward some classes,
    under pair noise for example) is not trusted to move the forget rates.

    Parameters
    ----------
    true_prior, given_prior : array-like of shape (k,)
    max_residual : float, default=0.5

    Returns
    -------
    bool

    Examples
    --------
    >>> uniform_noise_explains([0.94, 0.06], [0.57, 0.43])
    True
    >>> uniform_noise_explains([0.45, 0.1, 0.2, 0.05, 0.2], [0.22, 0.18, 0.22, 0.18, 0.2])
    False
    """
    pi = np.asarray(true_prior, dtype=np.float64)
    rho = np.asarray(given_prior, dtype=np.float64)
    centre = 1.0 / max(pi.shape[0], 1)
    a, b = pi - centre, rho - centre
    if float(b @ b) <= 1e-12 or float(a @ a) <= 1e-12:
        return False
    lam = float(a @ b) / float(b @ b)
    residual = float(np.linalg.norm(a - lam * b)) / float(np.linalg.norm(a))
    return lam >= 1.0 and residual <= max_residual


def anchor_noise_rate(proba: Any, labels: Any, *, quantile: float = 0.97) -> float:
    """Share of wrong labels read from each class's anchor points (items surely of that class).

    Under class-conditional noise ``T[i, j] = P(given j | true i)``, a model of
    the *given* labels estimates ``P(given | x) = sum_i P(true i | x) T[i]``,
    so at an item that surely belongs to class ``i`` it equals row ``i`` of
    ``T``. The held-out probabilities are first temperature-scaled to the
    given labels (maximum likelihood, one temperature), so that they estimate
    ``P(given | x)``; then row ``i`` of ``T`` is the probability row of the
    item at the ``quantile`` of ``P(given i | x)`` among the items given
    ``i`` (Patrini et al., "Making deep neural networks robust to label
    noise: a loss correction approach", CVPR 2017, take the 97th percentile
    for robustness to outliers). The true class shares ``pi`` solve
    ``pi T = given shares`` (non-negative least squares) and the rate is
    ``sum_i pi_i (1 - T[i, i])``.

    Unlike :func:`~weaklab.endmodel.estimate_noise_rate` (the confident
    joint), items the model gets wrong because they are hard do not count:
    with clean labels the anchors' probabilities are near one-hot and the
    estimate near 0, however weak the model.

    Parameters
    ----------
    proba : array-like of shape (n, k)
        Held-out (out-of-fold) probabilities of a model trained on the given labels.
    labels : array-like of shape (n,)
        Given (noisy) class ids.
    quantile : float in (0, 1], default=0.97
        ``1.0`` takes each class's most confident item.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean = rng.dirichlet([0.3, 0.3], size=2000)      # P(true class | x)
    >>> T = np.array([[0.7, 0.3], [0.3, 0.7]])            # 30 % uniform noise
    >>> noisy = np.array([rng.choice(2, p=row) for row in clean @ T])
    >>> round(anchor_noise_rate(clean @ T, noisy), 2)
    0.3
    >>> truth = np.array([rng.choice(2, p=row) for row in clean])
    >>> round(anchor_noise_rate(clean, truth), 2)          # clean labels
    0.0
    """
    p = check_proba("proba", proba)
    y = check_labels("labels", labels, p.shape[1], length=p.shape[0])
    q = check_float("quantile", quantile, low=0.0, high=1.0, low_open=True)
    if p.shape[0] == 0 or np.unique(y).size < 2:
        return 0.0
    scaled = TemperatureScaling(input="proba").fit(p, y).transform(p)
    T = _anchor_rows(scaled, y, q)
    given = np.bincount(y, minlength=p.shape[1]) / y.shape[0]
    pi = nnls(T.T, given)[0]
    pi = pi / pi.sum() if pi.sum() > 0 else given
    return float(np.clip(pi @ (1.0 - np.diag(T)), 0.0, 1.0))


def _anchor_rows(proba: np.ndarray, labels: np.ndarray, quantile: float) -> np.ndarray:
    """Row ``i``: the probabilities of the item at the ``quantile`` of column ``i`` among the items given ``i``."""
    k = proba.shape[1]
    T = np.eye(k)
    for i in range(k):
        rows = np.flatnonzero(labels == i)
        if rows.size == 0:
            continue
        column = proba[rows, i]
        cutoff = np.quantile(column, quantile, method="higher")
        T[i] = proba[rows[int(np.argmax(np.where(column <= cutoff, column, -np.inf)))]]
    return T / T.sum(axis=1, keepdims=True)


def uniform_noise_prior(noise_rate: float, given_prior: Any) -> np.ndarray | None:
    """The true class shares that uniform noise at ``noise_rate`` turns into ``given_prior``, or None.

    Uniform noise at rate ``r`` over ``k`` classes maps true shares ``pi`` to
    ``given = 1/k + (1 - r k / (k - 1)) (pi - 1/k)``; inverted,
    ``pi = 1/k + (given - 1/k) / (1 - r k / (k - 1))``. None when no class
    shares do it (a negative share, or ``r >= (k - 1) / k``): the rate is then
    too high for uniform noise to explain the given shares.

    Parameters
    ----------
    noise_rate : float in [0, 1]
    given_prior : array-like of shape (k,)

    Returns
    -------
    ndarray of shape (k,) or None

    Examples
    --------
    >>> uniform_noise_prior(0.3, [0.65, 0.35]).round(3).tolist()
    [0.875, 0.125]
    >>> uniform_noise_prior(0.0, [0.65, 0.35]).round(3).tolist()
    [0.65, 0.35]
    >>> uniform_noise_prior(0.45, [0.65, 0.35]) is None
    True
    """
    rho = np.asarray(given_prior, dtype=np.float64)
    k = max(rho.shape[0], 2)
    shrink = 1.0 - float(noise_rate) * k / (k - 1)
    if shrink <= 0:
        return None
    pi = 1.0 / k + (rho - 1.0 / k) / shrink
    return pi if float(pi.min()) >= 0 else None
