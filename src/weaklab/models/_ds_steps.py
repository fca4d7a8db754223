"""The E- and M-steps of Dawid-Skene EM (see :mod:`weaklab.models.dawid_skene` for the model).

Pure functions on the one-hot design of the vote units: the E-step is one
sparse product with a ``(m * k, k - 1)`` table of log-likelihood ratios, the
M-step one transposed product giving expected vote counts, pooled over tied
sources and smoothed into confusions, abstain rates and a class prior.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._core.constants import TINY
from ._onehot import OneHot
from ._posterior import abstain_log_constant, log_likelihood_table, one_coin_matrix, row_max, row_sum

__all__ = ["e_step", "expected_counts", "full_confusion", "one_coin_confusion", "abstain_rates", "class_prior",
           "pool_groups", "log_prior_penalty", "tied_cell_weights", "vote_share_posterior", "MStep", "Params"]

Params = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]
"""Group confusions ``(n_groups, k, k)``, class prior ``(k,)``, group abstain rates ``(n_groups, k)`` or None."""


def e_step(
    design: OneHot | sp.csr_array | sp.csc_array,
    confusion: np.ndarray,
    prior: np.ndarray,
    vote_totals: np.ndarray,
    weights: np.ndarray,
    keys: np.ndarray | None = None,
    abstain_rate: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Posterior of every unit and the weighted log-likelihood of all units.

    Log-likelihoods are taken relative to class 0 (``log theta_j[c, v] -
    log theta_j[0, v]``), so the sparse product has ``k - 1`` columns (a
    single vector when binary); the dropped per-unit term enters the total
    through ``vote_totals``. Binary posteriors use the logistic form.

    Parameters
    ----------
    design : OneHot or sparse array of shape (n_units, m * k)
        One-hot votes.
    confusion : ndarray of shape (m, k, k)
        Per-source confusion matrices ``[source, true class, vote]``.
    prior : ndarray of shape (k,)
        Class prior.
    vote_totals : ndarray of shape (m * k,)
        ``design.T @ weights``: weighted number of votes of each (source, class).
    weights : ndarray of shape (n_units,)
        Items per unit.
    keys : ndarray of shape (n_units,), optional
        Known class of a unit (``-1`` = unknown); known units get a one-hot
        posterior and their complete-data log-likelihood.
    abstain_rate : ndarray of shape (m, k), optional
        ``P(source j abstains | y = c)``; when given, abstentions enter the
        likelihood (``log a`` for an abstain, ``log(1 - a)`` for a vote).

    Returns
    -------
    posterior : ndarray of shape (n_units, k)
    log_lik : float
        ``sum_u w_u log P(votes_u)`` (``log P(votes_u, y_u)`` for known units).
    """
    table = log_likelihood_table(confusion, abstain_rate)
    log_prior = np.log(np.clip(prior, TINY, None))
    if abstain_rate is not None:
        log_prior += abstain_log_constant(abstain_rate)
    shift = float(vote_totals @ table[:, 0]) + float(weights.sum()) * float(log_prior[0])
    diff = table[:, 1:] - table[:, :1]
    offset = log_prior[1:] - log_prior[0]
    posterior = np.empty((design.shape[0], prior.shape[0]), dtype=np.float64)
    log_norm = np.empty(design.shape[0], dtype=np.float64)
    for start, block in _row_blocks(design):  # block by block: no (n_units,)-sized temporaries
        stop = start + block.shape[0]
        relative = np.asarray(block @ diff)  # (rows, k - 1)
        relative += offset
        if relative.shape[1] == 1:
            log_norm[start:stop] = _binary_posterior(relative[:, 0], posterior[start:stop])
        else:
            posterior[start:stop, 0] = 0.0
            posterior[start:stop, 1:] = relative
            log_norm[start:stop] = _softmax_in_place(posterior[start:stop])
    if keys is not None:
        known = np.flatnonzero(keys >= 0)
        if known.size:
            log_norm[known] += np.log(np.clip(posterior[known, keys[known]], TINY, None))
            posterior[known] = 0.0
            posterior[known, keys[known]] = 1.0
    return posterior, shift + float(weights @ log_norm)


def _row_blocks(design: OneHot | sp.csr_array | sp.csc_array) -> Iterator[tuple[int, Any]]:
    """``(first_row, block)`` pieces of the design covering all its rows (a scipy array is one piece)."""
    if isinstance(design, OneHot):
        yield from design.csr_blocks()
    else:
        yield 0, design


def _binary_posterior(d: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write the posterior ``(n, 2)`` from log-odds ``d`` of class 1 into ``out``; return ``log(1 + exp(d))``.

    Stable for any sign of ``d``.
    """
    e = np.exp(-np.abs(d))
    big = 1.0 / (1.0 + e)
    small = e * big
    positive = d >= 0
    out[:, 1] = np.where(positive, big, small)
    out[:, 0] = np.where(positive, small, big)
    return np.maximum(d, 0.0) + np.log1p(e)


def _softmax_in_place(logits: np.ndarray) -> np.ndarray:
    """Turn ``logits`` into row-wise softmax probabilities; return each row's log-sum-exp."""
    top = row_max(logits)
    logits -= top[:, None]
    np.exp(logits, out=logits)
    total = row_sum(logits)
    logits /= total[:, None]
    top += np.log(total)
    return top


def expected_counts(design: OneHot | sp.csr_array | sp.csc_array, posterior: np.ndarray, weights: np.ndarray,
                    vote_totals: np.ndarray, n_sources: int) -> np.ndarray:
    """Expected vote counts ``N[j, c, v] = sum_u w_u T[u, c] [source j voted v on u]``.

    For two classes, class 0 is the rest of ``vote_totals`` (posteriors sum
    to 1), so the sparse product is a single vector.

    Returns
    -------
    ndarray of shape (n_sources, k, k)
    """
    k = posterior.shape[1]
    ones = _all_ones(weights)
    if k == 2:
        flat = np.empty((vote_totals.shape[0], 2), dtype=np.float64)  # [j * k + v, c]
        flat[:, 1] = design.T @ (posterior[:, 1].copy() if ones else posterior[:, 1] * weights)
        flat[:, 0] = np.clip(vote_totals - flat[:, 1], 0.0, None)
    else:
        flat = np.asarray(design.T @ (posterior if ones else posterior * weights[:, None]))
    return flat.reshape(n_sources, k, k).transpose(0, 2, 1)


def full_confusion(counts: np.ndarray, smoothing: float) -> np.ndarray:
    """Row-normalised ``counts + smoothing``; rows without mass become uniform."""
    smoothed = counts + smoothing
    totals = smoothed.sum(axis=2, keepdims=True)
    k = counts.shape[2]
    return np.divide(smoothed, totals, out=np.full_like(smoothed, 1.0 / k), where=totals > 0)


def one_coin_confusion(counts: np.ndarray, smoothing: float) -> np.ndarray:
    """One accuracy per group, errors spread evenly over the other classes.

    With ``smoothing`` ``s`` per cell (as in :func:`full_confusion`) the
    accuracy is ``(correct + s k) / (votes + s k^2)``.
    """
    k = counts.shape[2]
    correct = np.trace(counts, axis1=1, axis2=2) + smoothing * k
    total = counts.sum(axis=(1, 2)) + smoothing * k * k
    acc = np.divide(correct, total, out=np.full_like(correct, 1.0 / k), where=total > 0)
    return one_coin_matrix(np.clip(acc, 0.0, 1.0), k)


def abstain_rates(counts: np.ndarray, class_mass: np.ndarray, members: np.ndarray,
                  smoothing: float, targets: np.ndarray | None = None) -> np.ndarray:
    """``P(abstain | class)`` per group, shape ``(n_groups, k)``.

    Parameters
    ----------
    counts : ndarray of shape (n_groups, k, k)
        Expected vote counts per group ``[group, class, vote]``.
    class_mass : ndarray of shape (k,)
        Expected number of items of every class, ``sum_u w_u T[u, c]``.
    members : ndarray of shape (n_groups,)
        Number of sources in every group (each sees every item once).
    smoothing : float
        Beta pseudo-count ``s`` added to abstains and to votes.
    targets : ndarray of bool, shape (n_groups, k), optional
        The classes each group ever votes. When given, the classes a group
        never votes share one rate, pooled over them (a keyword LF for class
        ``c`` fires on the other classes' items only by mistake, at one
        rate; a rate per class would let EM read *which* wrong class an item
        has from which unrelated LFs fire).

    Returns
    -------
    ndarray of shape (n_groups, k)
        ``(items - votes + s) / (items + 2 s)``; 0.5 where there is no mass.
    """
    items = members[:, None] * class_mass[None, :]
    abstains = np.clip(items - counts.sum(axis=2), 0.0, None)
    if targets is not None:
        other = ~targets
        abstains = np.where(other, (abstains * other).sum(axis=1, keepdims=True), abstains)
        items = np.where(other, (items * other).sum(axis=1, keepdims=True), items)
    total = items + 2.0 * smoothing
    return np.divide(abstains + smoothing, total, out=np.full_like(total, 0.5), where=total > 0)


def tied_cell_weights(targets: np.ndarray) -> np.ndarray:
    """``(n_groups, k)`` weight of every abstain-rate cell in the penalty: ``1 / n`` for ``n`` tied cells.

    Examples
    --------
    >>> tied_cell_weights(np.array([[True, False, False, False]])).tolist()
    [[1.0, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333]]
    """
    other = ~targets
    n_other = np.maximum(other.sum(axis=1, keepdims=True), 1)
    return np.where(other, 1.0 / n_other, 1.0)


def class_prior(class_mass: np.ndarray, smoothing: float) -> np.ndarray:
    """``(m_c + smoothing) / (sum_c m_c + k smoothing)`` for the expected class mass ``m = sum_u w_u T[u]``."""
    mass = class_mass + smoothing
    return mass / mass.sum()


def vote_share_posterior(class_counts: np.ndarray) -> np.ndarray:
    """Each unit's share of votes per class ``(n_units, k)``; units without votes get uniform rows.

    Examples
    --------
    >>> import numpy as np
    >>> vote_share_posterior(np.array([[3.0, 1.0], [0.0, 0.0]])).tolist()
    [[0.75, 0.25], [0.5, 0.5]]
    """
    posterior = np.array(class_counts, dtype=np.float64)
    totals = row_sum(posterior)[:, None]
    np.divide(posterior, totals, out=posterior, where=totals > 0)
    posterior[totals[:, 0] == 0] = 1.0 / posterior.shape[1]
    return posterior


class MStep:
    """The closed-form Dawid-Skene M-step from reduced sums, and the penalised loss.

    Everything the M-step needs is a sum over units, so it runs the same
    on one matrix and on sums reduced over partitions.

    Parameters
    ----------
    one_coin : bool
        One accuracy per group instead of a full confusion.
    smoothing : float
    groups : ndarray of shape (m,)
        Group of every source.
    n_groups : int
    fixed_prior : ndarray of shape (k,), optional
        A class balance held fixed.
    model_abstain : bool, default=False
        Learn ``P(abstain | class)`` per group.
    targets : ndarray of bool, shape (n_groups, k), optional
        With ``model_abstain``: the classes each group votes; the others
        share one abstain rate (see :func:`abstain_rates`).
    """

    def __init__(self, *, one_coin: bool, smoothing: float, groups: np.ndarray, n_groups: int,
                 fixed_prior: np.ndarray | None, model_abstain: bool = False,
                 targets: np.ndarray | None = None) -> None:
        self.one_coin = one_coin
        self.smoothing = float(smoothing)
        self.groups = groups
        self.n_groups = n_groups
        self.fixed_prior = fixed_prior
        self.members = np.bincount(groups, minlength=n_groups).astype(np.float64)
        self.model_abstain = model_abstain
        self.targets = targets

    def __call__(self, counts: np.ndarray, class_mass: np.ndarray) -> Params:
        """Parameters from expected vote counts ``(m, k, k)`` and expected class mass ``(k,)``."""
        pooled = pool_groups(counts, self.groups, self.n_groups)
        confusion = (one_coin_confusion if self.one_coin else full_confusion)(pooled, self.smoothing)
        prior = self.fixed_prior if self.fixed_prior is not None else class_prior(class_mass, self.smoothing)
        abstain = None
        if self.model_abstain:
            abstain = abstain_rates(pooled, class_mass, self.members, self.smoothing, self.targets)
        return confusion, prior, abstain

    def loss(self, log_lik: float, params: Params, n_items: float) -> float:
        """Negative penalised log-likelihood per item."""
        confusion, prior, abstain = params
        learned_prior = None if self.fixed_prior is not None else prior
        weights = None if self.targets is None else tied_cell_weights(self.targets)
        penalty = log_prior_penalty(confusion, learned_prior, self.smoothing, abstain, weights)
        return -(log_lik + penalty) / float(n_items)

    def per_source(self, params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Confusions ``(m, k, k)``, prior and abstain rates ``(m, k)`` (or None) of every source."""
        confusion, prior, abstain = params
        return confusion[self.groups], prior, None if abstain is None else abstain[self.groups]


def pool_groups(counts: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum per-source counts ``(m, k, k)`` into per-group counts ``(n_groups, k, k)``."""
    pooled = np.zeros((n_groups, *counts.shape[1:]), dtype=np.float64)
    np.add.at(pooled, groups, counts)
    return pooled


def log_prior_penalty(confusion_groups: np.ndarray, prior: np.ndarray | None, smoothing: float,
                      abstain_groups: np.ndarray | None = None, abstain_weights: np.ndarray | None = None) -> float:
    """Log-density (up to a constant) of the Dirichlet/Beta pseudo-counts: the MAP term EM also increases.

    ``abstain_weights`` (``(n_groups, k)``, see :func:`tied_cell_weights`)
    counts a rate shared by several cells once.
    """
    if smoothing == 0:
        return 0.0
    total = float(np.log(np.clip(confusion_groups, TINY, None)).sum())
    if prior is not None:
        total += float(np.log(np.clip(prior, TINY, None)).sum())
    if abstain_groups is not None:
        w = 1.0 if abstain_weights is None else abstain_weights
        total += float((w * np.log(np.clip(abstain_groups, TINY, None))).sum())
        total += float((w * np.log(np.clip(1.0 - abstain_groups, TINY, None))).sum())
    return smoothing * total


def _all_ones(weights: np.ndarray) -> bool:
    return bool(weights.shape[0] == 0 or (weights.min() == 1.0 and weights.max() == 1.0))
