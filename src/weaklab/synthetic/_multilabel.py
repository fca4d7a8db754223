"""``make_multilabel_matrix``: multi-label votes with known truth, correlated labels and per-source accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from .._core import ABSTAIN, MultiLabelMatrix
from .._core.validation import check_float, check_int, check_random_state, fail
from ._common import check_probabilities, per_source

__all__ = ["SyntheticMultiLabels", "make_multilabel_matrix"]


@dataclass(frozen=True)
class SyntheticMultiLabels:
    """A multi-label vote matrix and the truth it was drawn from.

    Attributes
    ----------
    L : MultiLabelMatrix
        The votes ``(n, m, K)``.
    y : ndarray of shape (n, K), int8
        True label indicators (1 = the label applies).
    sensitivity : ndarray of shape (m,)
        ``P(vote present | label applies, source votes)`` of each source.
    specificity : ndarray of shape (m,)
        ``P(vote absent | label does not apply, source votes)``.
    coverage : ndarray of shape (m,)
        Probability that a source votes on an (item, label) it looks at.
    label_rate : ndarray of shape (K,)
        Marginal probability of each label.

    Examples
    --------
    >>> from weaklab.synthetic import make_multilabel_matrix
    >>> data = make_multilabel_matrix(500, 4, 3, random_state=0)
    >>> type(data).__name__, data.y.shape, data.sensitivity.shape, data.label_rate.shape
    ('SyntheticMultiLabels', (500, 3), (4,), (3,))
    """

    L: MultiLabelMatrix
    y: np.ndarray
    sensitivity: np.ndarray
    specificity: np.ndarray
    coverage: np.ndarray
    label_rate: np.ndarray


def make_multilabel_matrix(
    n_items: int,
    n_sources: int,
    n_labels: int = 5,
    *,
    label_rate: Any = (0.15, 0.45),
    correlation: float = 0.6,
    block_size: int = 2,
    sensitivity: Any = (0.65, 0.95),
    specificity: Any = (0.7, 0.95),
    coverage: Any = (0.1, 0.5),
    labels_per_source: int | None = None,
    random_state: Any = None,
) -> SyntheticMultiLabels:
    """Multi-label votes of sources whose accuracy is the same on every label.

    True labels come from a Gaussian copula: ``z ~ N(0, S)`` with ``S`` equal
    to 1 on the diagonal and ``correlation`` between labels of the same block
    (consecutive labels, ``block_size`` per block), 0 across blocks; label
    ``l`` applies when ``z_l < Phi^-1(label_rate[l])``. So labels of a block
    co-occur more often than independent labels would. Source ``j`` looks at
    every label (or ``labels_per_source`` of them, drawn at random) and votes
    on each (item, label) it looks at with probability ``coverage[j]``: present
    with probability ``sensitivity[j]`` when the label applies, absent with
    probability ``specificity[j]`` when it does not.

    Parameters
    ----------
    n_items, n_sources, n_labels : int
        ``n >= 1``, ``m >= 1``, ``K >= 1``.
    label_rate : float, tuple (low, high) or array-like of shape (K,)
        Marginal rate of each label, in (0, 1).
    correlation : float in [0, 1), default=0.6
        Latent correlation inside a block; 0 gives independent labels.
    block_size : int, default=2
        Labels per block.
    sensitivity, specificity, coverage : float, tuple (low, high) or array-like of shape (m,)
        Per-source values (a tuple draws them uniformly).
    labels_per_source : int, optional
        Labels each source looks at; all by default.
    random_state : None, int or numpy Generator

    Returns
    -------
    SyntheticMultiLabels

    Examples
    --------
    >>> data = make_multilabel_matrix(200, 6, 4, random_state=0)
    >>> data.L.shape, data.y.shape
    ((200, 6, 4), (200, 4))
    """
    n = check_int("n_items", n_items, low=1)
    m = check_int("n_sources", n_sources, low=1)
    k = check_int("n_labels", n_labels, low=1)
    rho = check_float("correlation", correlation, low=0.0, high=1.0, high_open=True)
    block = check_int("block_size", block_size, low=1)
    rng = check_random_state(random_state)
    rates = _label_rates(label_rate, k, rng)
    sens, spec, cov = (per_source(name, value, m, rng) for name, value in
                       (("sensitivity", sensitivity), ("specificity", specificity), ("coverage", coverage)))
    y = _draw_truth(n, rates, rho, block, rng)
    looks = _looked_at(m, k, labels_per_source, rng)
    votes = _draw_votes(y, sens, spec, cov, looks, rng)
    L = MultiLabelMatrix(votes, source_names=[f"s{j}" for j in range(m)],
                         label_names=[f"l{j}" for j in range(k)])
    y.flags.writeable = False
    return SyntheticMultiLabels(L, y, sens, spec, cov, rates)


def _label_rates(value: Any, k: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(value, (tuple, float, int)) and not isinstance(value, bool):
        rates = per_source("label_rate", value, k, rng)
    else:
        rates = check_probabilities("label_rate", value, k, "a float, a (low, high) tuple or")
    if np.any(rates <= 0.0) or np.any(rates >= 1.0):
        raise fail("label_rate", "rates strictly between 0 and 1", rates)
    return rates


def _draw_truth(n: int, rates: np.ndarray, rho: float, block: int, rng: np.random.Generator) -> np.ndarray:
    k = rates.shape[0]
    groups = np.arange(k) // block
    cov = np.where(groups[:, None] == groups[None, :], rho, 0.0)
    np.fill_diagonal(cov, 1.0)
    z = rng.standard_normal((n, k)) @ np.linalg.cholesky(cov).T
    return (z < norm.ppf(rates)).astype(np.int8)


def _looked_at(m: int, k: int, per: int | None, rng: np.random.Generator) -> np.ndarray:
    if per is None:
        return np.ones((m, k), dtype=bool)
    per = check_int("labels_per_source", per, low=1, high=k)
    looks = np.zeros((m, k), dtype=bool)
    for j in range(m):
        looks[j, rng.choice(k, per, replace=False)] = True
    return looks


def _draw_votes(y: np.ndarray, sens: np.ndarray, spec: np.ndarray, cov: np.ndarray, looks: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    n, k = y.shape
    m = sens.shape[0]
    votes_on = (rng.random((n, m, k)) < cov[None, :, None]) & looks[None, :, :]
    u = rng.random((n, m, k))
    truth = y[:, None, :].astype(bool)
    present = np.where(truth, u < sens[None, :, None], u >= spec[None, :, None])
    out = np.where(present, 1, 0).astype(np.int8)
    out[~votes_on] = ABSTAIN
    return out
