"""Posterior computation shared by label models with per-source confusions.

Under conditional independence of sources given the true class ``y``::

    log P(y = c | votes) = log pi_c + sum_j log theta_j[c, v_j] + const

where abstains carry no information. Every model that learns a confusion
tensor ``theta`` (m, k, k) and a class prior ``pi`` predicts with this code.

A model that also learns *when* sources abstain, ``a_j[c] = P(source j
abstains | y = c)`` (``abstain_rate``, shape (m, k)), adds
``sum_j [j abstains] log a_j[c] + [j votes] log(1 - a_j[c])``. That is folded
into the same one-hot product: every vote's row of the table gains
``log(1 - a_j[c]) - log a_j[c]`` and the prior gains ``sum_j log a_j[c]``, so
an item on which every source abstains gets ``pi_c prod_j a_j[c]``
(normalised), not ``pi``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._core import LabelMatrix
from .._core.constants import EPS
from ._votes import iter_one_hot_blocks

__all__ = [
    "row_max",
    "row_sum",
    "softmax_rows",
    "log_likelihood_table",
    "abstain_log_prior",
    "abstain_log_constant",
    "confusion_log_posterior",
    "predict_with_confusion",
    "one_coin_matrix",
]

_FEW_COLUMNS = 16


def row_max(a: np.ndarray) -> np.ndarray:
    """Maximum of every row of a 2-d array, shape ``(n,)``.

    For few columns a loop over columns is several times faster than
    ``a.max(axis=1)`` on a C-ordered array.
    """
    if a.shape[1] > _FEW_COLUMNS or a.shape[1] == 0:
        return a.max(axis=1)
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        np.maximum(out, a[:, c], out=out)
    return out


def row_sum(a: np.ndarray) -> np.ndarray:
    """Sum of every row of a 2-d array, shape ``(n,)`` (column loop for few columns)."""
    if a.shape[1] > _FEW_COLUMNS or a.shape[1] == 0:
        return a.sum(axis=1)
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        out += a[:, c]
    return out


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in place on a float array, returned for chaining."""
    logits -= row_max(logits)[:, None]
    np.exp(logits, out=logits)
    logits /= row_sum(logits)[:, None]
    return logits


def one_coin_matrix(accuracy: np.ndarray, n_classes: int) -> np.ndarray:
    """One-coin confusions ``(m, k, k)``: ``accuracy_j`` on the diagonal, ``(1 - accuracy_j) / (k - 1)`` elsewhere.

    Examples
    --------
    >>> one_coin_matrix(np.array([0.8]), 3)[0]
    array([[0.8, 0.1, 0.1],
           [0.1, 0.8, 0.1],
           [0.1, 0.1, 0.8]])
    """
    k = n_classes
    off = (1.0 - accuracy) / (k - 1)
    confusion = np.repeat(off[:, None, None], k, axis=1).repeat(k, axis=2)
    diag = np.arange(k)
    confusion[:, diag, diag] = accuracy[:, None]
    return confusion


def log_likelihood_table(confusion: np.ndarray, abstain_rate: np.ndarray | None = None) -> np.ndarray:
    """``W[j * k + v, c] = log theta_j[c, v]``, shape ``(m * k, k)``.

    Parameters
    ----------
    confusion : ndarray of shape (m, k, k)
        ``confusion[j, c, v] = P(source j votes v | y = c, source j votes)``.
    abstain_rate : ndarray of shape (m, k), optional
        ``P(source j abstains | y = c)``. When given, every row ``j * k + v``
        gains ``log(1 - a_j[c]) - log a_j[c]`` (the rest of the abstention
        term is :func:`abstain_log_prior`).
    """
    m, k, _ = confusion.shape
    logs = np.log(np.clip(confusion, EPS, None))
    if abstain_rate is not None:
        logs += _vote_log_odds(abstain_rate)[:, :, None]
    return np.ascontiguousarray(logs.transpose(0, 2, 1).reshape(m * k, k))


def _vote_log_odds(abstain_rate: np.ndarray) -> np.ndarray:
    """``log(1 - a) - log a`` per (source, class), shape ``(m, k)``."""
    a = np.clip(abstain_rate, EPS, 1.0 - EPS)
    return np.log1p(-a) - np.log(a)


def abstain_log_prior(prior: np.ndarray, abstain_rate: np.ndarray | None = None) -> np.ndarray:
    """``log pi_c (+ sum_j log a_j[c])``, shape ``(k,)``: the log posterior of an all-abstain unit."""
    out = np.log(np.clip(prior, EPS, None))
    if abstain_rate is not None:
        out += abstain_log_constant(abstain_rate)
    return out


def abstain_log_constant(abstain_rate: np.ndarray) -> np.ndarray:
    """``sum_j log a_j[c]``, shape ``(k,)``: the log-likelihood of every source abstaining."""
    return np.log(np.clip(abstain_rate, EPS, 1.0 - EPS)).sum(axis=0)


def confusion_log_posterior(
    one_hot: sp.csr_array | sp.csc_array, confusion: np.ndarray, prior: np.ndarray,
    abstain_rate: np.ndarray | None = None,
) -> np.ndarray:
    """Unnormalised log posterior ``(n_units, k)`` from a one-hot vote matrix."""
    return _log_posterior(one_hot, log_likelihood_table(confusion, abstain_rate),
                          abstain_log_prior(prior, abstain_rate))


def _log_posterior(one_hot: sp.csr_array | sp.csc_array, table: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    logits = np.asarray(one_hot @ table)
    logits += log_prior[None, :]
    return logits


def predict_with_confusion(L: LabelMatrix, confusion: np.ndarray, prior: np.ndarray,
                           abstain_rate: np.ndarray | None = None) -> np.ndarray:
    """Posterior ``(n, k)`` of every item of ``L`` (no compression; dense rows streamed in blocks).

    ``abstain_rate`` (m, k), when given, makes abstentions informative (see
    the module docstring).
    """
    table = log_likelihood_table(confusion, abstain_rate)
    log_prior = abstain_log_prior(prior, abstain_rate)
    out = np.empty((L.n_items, confusion.shape[1]), dtype=np.float64)
    for start, block in iter_one_hot_blocks(L):
        out[start:start + block.shape[0]] = _log_posterior(block, table, log_prior)
    return softmax_rows(out)
