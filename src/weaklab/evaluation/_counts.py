"""Counting helpers the metrics, calibration and slice reports share.

* :func:`confusion_counts`, :func:`per_class`, :func:`averaged_f1`: the
  confusion counts (with an abstain column) and what follows from them;
* :func:`binned`: per-bin counts, confidence and accuracy of top-label predictions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["confusion_counts", "per_class", "averaged_f1", "binned"]


def confusion_counts(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Counts ``(k, k + 1)`` of (true, predicted) pairs; the last column counts abstentions (``p < 0``)."""
    col = np.where(p < 0, k, p)
    return np.bincount(t * (k + 1) + col, minlength=k * (k + 1)).reshape(k, k + 1)


def per_class(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1, support and predicted count per class (0 where undefined)."""
    k = conf.shape[0]
    tp = np.diag(conf[:, :k]).astype(np.float64)
    predicted = conf[:, :k].sum(axis=0).astype(np.float64)
    support = conf.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    return precision, recall, f1, support, predicted


def averaged_f1(conf: np.ndarray, average: str) -> float:
    """F1 averaged over classes: "macro" (classes present), "weighted" (by support) or "micro"."""
    _, _, f1, support, predicted = per_class(conf)
    if average == "micro":
        tp = float(np.trace(conf[:, : conf.shape[0]]))
        mp = tp / predicted.sum() if predicted.sum() else 0.0
        mr = tp / support.sum()
        return float(2 * mp * mr / (mp + mr)) if mp + mr else 0.0
    present = (support > 0) | (predicted > 0)
    if average == "weighted":
        return float(np.sum(f1 * support) / support.sum())
    return float(f1[present].mean())


def _top_label(proba: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = proba.argmax(axis=1)
    return proba[np.arange(proba.shape[0]), pred], (pred == y).astype(np.float64)


def _bin_ids(conf: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        return np.clip(np.searchsorted(edges[1:-1], conf, side="left"), 0, n_bins - 1)
    edges = np.quantile(conf, np.linspace(0.0, 1.0, n_bins + 1))
    return np.searchsorted(edges[1:-1], conf, side="left")


def binned(proba: np.ndarray, y: np.ndarray, n_bins: int, strategy: str) -> tuple[np.ndarray, ...]:
    """Per bin: item count, mean confidence, accuracy, lowest and highest confidence."""
    conf, correct = _top_label(proba, y)
    ids = _bin_ids(conf, n_bins, strategy)
    count = np.bincount(ids, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(ids, weights=conf, minlength=n_bins) / count
        acc = np.bincount(ids, weights=correct, minlength=n_bins) / count
    lo = np.full(n_bins, np.nan)
    hi = np.full(n_bins, np.nan)
    np.fmin.at(lo, ids, conf)
    np.fmax.at(hi, ids, conf)
    return count, mean_conf, acc, lo, hi
