"""Calibration of a multi-label run's ``P(label applies)`` on the dev gold, recorded for the model-health page.

:func:`label_reliability` bins each label's probabilities on the dev items
(equal-width bins of ``[0, 1]``) and gives per bin the mean probability
(``confidence``), the share of the items whose gold set holds the label
(``accuracy``: the observed rate) and the count: the points of a
reliability diagram, one per label and one pooled over all labels. A
calibrated model's points lie on the diagonal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.validation import check_int, fail

__all__ = ["label_reliability", "POOLED"]

#: The key of the curve pooled over all labels.
POOLED = "all labels"


def _bins(p: np.ndarray, y: np.ndarray, n_bins: int) -> list[dict[str, Any]]:
    which = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    conf = np.bincount(which, weights=p, minlength=n_bins)
    hits = np.bincount(which, weights=y, minlength=n_bins)
    return [{"confidence": float(conf[b] / count[b]), "accuracy": float(hits[b] / count[b]), "count": int(count[b])}
            for b in range(n_bins) if count[b]]


def label_reliability(proba: Any, gold: Any, label_names: Sequence[str], *,
                      n_bins: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Per label (and pooled over labels, key :data:`POOLED`): the non-empty reliability bins of ``P(applies)``.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        ``P(label applies)`` of the dev items.
    gold : array-like of shape (n, K)
        Their gold: 1 / 0 (NaN cells are left out).
    label_names : sequence of str, length K
    n_bins : int, default=10
        Equal-width bins of ``[0, 1]``.

    Returns
    -------
    dict
        ``{label: [{"confidence", "accuracy", "count"}, ...]}``, bins with
        items only.

    Examples
    --------
    >>> curves = label_reliability([[0.75, 0.25], [0.75, 0.25]], [[1, 0], [0, 0]], ["a", "b"], n_bins=2)
    >>> curves["a"]
    [{'confidence': 0.75, 'accuracy': 0.5, 'count': 2}]
    >>> [b["count"] for b in curves["all labels"]]
    [2, 2]
    """
    nb = check_int("n_bins", n_bins, low=1)
    p = np.clip(np.asarray(proba, dtype=np.float64), 0.0, 1.0)
    g = np.asarray(gold, dtype=np.float64)
    if p.ndim != 2 or p.shape != g.shape or p.shape[1] != len(label_names):
        raise fail("proba", f"an (n, {len(label_names)}) array shaped as gold", got_text=f"shape {p.shape} and "
                   f"gold shape {g.shape}")
    known = ~np.isnan(g)
    out = {str(name): _bins(p[known[:, j], j], g[known[:, j], j], nb) for j, name in enumerate(label_names)}
    out[POOLED] = _bins(p[known], g[known], nb)
    return out
