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
from ._votes import one_hot_matrix

__all__ = ["softmax_rows", "log_likelihood_table", "confusion_log_posterior", "predict_with_confusion"]

_EPS = 1e-12


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, in place on a float array, returned for chaining."""
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
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
    """Posterior ``(n, k)`` of every item of ``L`` (no pattern compression)."""
    return softmax_rows(confusion_log_posterior(one_hot_matrix(L), confusion, prior))
