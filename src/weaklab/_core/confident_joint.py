"""The confident joint of confident learning (Northcutt et al., JAIR 2021), on validated arrays.

The base-layer home of the counts that both :mod:`weaklab.cleaning` (label-issue detection) and
:mod:`weaklab.endmodel` (co-teaching's estimated noise rates) build on, so the two stages share one
implementation: per-class thresholds (the mean self-confidence of each given class), each item's
confidently predicted class, the raw joint of (given class, confident class) counts, and its
calibration to the given class sizes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["membership", "class_thresholds", "confident_classes", "raw_confident_joint", "calibrate_joint"]


def membership(hard: np.ndarray, soft: np.ndarray | None, k: int) -> np.ndarray:
    """``(n, k)`` membership of each item in each given class (one-hot for hard labels).

    Examples
    --------
    >>> import numpy as np
    >>> membership(np.array([1, 0]), None, 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    if soft is not None:
        return soft
    out = np.zeros((hard.shape[0], k))
    out[np.arange(hard.shape[0]), hard] = 1.0
    return out


def class_thresholds(proba: np.ndarray, hard: np.ndarray, soft: np.ndarray | None = None) -> np.ndarray:
    """Per-class thresholds ``t_j``: the mean probability of class ``j`` over the items given ``j``.

    Soft given labels weigh each item by its membership; a class no item is given gets 1.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
    >>> class_thresholds(P, np.array([0, 0, 1])).round(2).tolist()
    [0.8, 0.8]
    """
    w = membership(hard, soft, proba.shape[1])
    mass = w.sum(axis=0)
    total = (w * proba).sum(axis=0)
    return np.divide(total, mass, out=np.ones(proba.shape[1]), where=mass > 0)


def confident_classes(proba: np.ndarray, hard: np.ndarray,
                      soft: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each item's confidently predicted class and whether it reaches any class's threshold.

    Among the classes whose probability reaches their threshold, the most probable one.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
    >>> true, has = confident_classes(P, np.array([0, 0, 1]))
    >>> true.tolist(), has.tolist()
    ([0, 0, 1], [True, False, True])
    """
    above = proba >= class_thresholds(proba, hard, soft)[None, :] - 1e-12
    masked = np.where(above, proba, -1.0)
    return masked.argmax(axis=1), np.asarray(above.any(axis=1))


def raw_confident_joint(proba: np.ndarray, hard: np.ndarray, soft: np.ndarray | None = None) -> np.ndarray:
    """Counts of (given class, confidently predicted class) over the confident items, ``(k, k)``.

    Soft given labels spread each item over its given classes by membership.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.95, 0.05]])
    >>> raw_confident_joint(P, np.array([0, 0, 1, 1])).tolist()  # item 3 is given 1 but confidently 0
    [[1.0, 0.0], [1.0, 1.0]]
    """
    k = proba.shape[1]
    true, has = confident_classes(proba, hard, soft)
    if soft is None:
        flat = hard[has] * k + true[has]
        return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.float64)
    onehot = np.zeros((proba.shape[0], k))
    onehot[np.flatnonzero(has), true[has]] = 1.0
    return soft.T @ onehot


def calibrate_joint(raw: np.ndarray, given_counts: np.ndarray) -> np.ndarray:
    """Rescale each row of a raw joint to its given class's size (a row with no count stays on the diagonal).

    Examples
    --------
    >>> import numpy as np
    >>> calibrate_joint(np.array([[3.0, 1.0], [0.0, 0.0]]), np.array([8.0, 2.0])).tolist()
    [[6.0, 2.0], [0.0, 2.0]]
    """
    k = raw.shape[0]
    sums = raw.sum(axis=1, keepdims=True)
    rates = np.divide(raw, sums, out=np.eye(k), where=sums > 0)
    return rates * given_counts[:, None]
