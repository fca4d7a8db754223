"""Posterior computation shared by label models with per-source confusions.

Under conditional independence of sources given the true class ``y``::

    log P(y = c | votes) = log pi_c + sum_j log theta_j[c, v_j] + const

where abstains carry no information. Every model that learns a confusion
tensor ``theta`` (m, k, k) and a class prior ``pi`` predicts with this code.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._core import LabelMatrix
from ._votes import iter_one_hot_blocks

__all__ = [
    "row_max",
    "row_sum",
    "softmax_rows",
    "log_likelihood_table",
    "confusion_log_posterior",
    "predict_with_confusion",
]

_EPS = 1e-12
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


def log_likelihood_table(confusion: np.ndarray) -> np.ndarray:
    """``W[j * k + v, c] = log theta_j[c, v]``, shape ``(m * k, k)``.

    Parameters
    ----------
    confusion : ndarray of shape (m, k, k)
        ``confusion[j, c, v] = P(source j votes v | y = c, source j votes)``.
    """
    m, k, _ = confusion.shape
    logs = np.log(np.clip(confusion, _EPS, None))
    return np.ascontiguousarray(logs.transpose(0, 2, 1).reshape(m * k, k))


def confusion_log_posterior(
    one_hot: sp.csr_array | sp.csc_array, confusion: np.ndarray, prior: np.ndarray
) -> np.ndarray:
    """Unnormalised log posterior ``(n_units, k)`` from a one-hot vote matrix."""
    logits = one_hot @ log_likelihood_table(confusion)
    logits += np.log(np.clip(prior, _EPS, None))[None, :]
    return np.asarray(logits)


def predict_with_confusion(L: LabelMatrix, confusion: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Posterior ``(n, k)`` of every item of ``L`` (no compression; dense rows streamed in blocks)."""
    out = np.empty((L.n_items, confusion.shape[1]), dtype=np.float64)
    for start, block in iter_one_hot_blocks(L):
        out[start:start + block.shape[0]] = confusion_log_posterior(block, confusion, prior)
    return softmax_rows(out)
