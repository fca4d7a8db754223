"""Noise rates per given class, estimated by confident learning on held-out probabilities.

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

from .._core.confident_joint import calibrate_joint, raw_confident_joint
from .._core.validation import check_labels, check_proba

__all__ = ["confident_joint_counts", "class_noise_rates", "prior_matched_forget_rates", "uniform_noise_explains"]


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
