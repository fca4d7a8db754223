"""Classification metrics on hard predictions, with abstentions (``-1``) allowed.

An abstention is a prediction of no class: it counts against recall (and
accuracy) but never as a false positive of any class. On predictions without
abstentions every metric equals scikit-learn's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_choice, check_int, fail
from ._counts import averaged_f1, confusion_counts, per_class
from ._inputs import checked_pair

__all__ = [
    "accuracy",
    "f1_score",
    "precision_recall_f1",
    "confusion_matrix",
    "coverage",
    "covered_scores",
]

F1_AVERAGES = ("macro", "micro", "weighted", "binary")


def accuracy(y_true: Any, y_pred: Any, *, n_classes: int | None = None) -> float:
    """Share of items whose prediction equals the gold label (an abstention is wrong).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    y_pred : array-like of shape (n,)
        Predicted class ids, ``-1`` for an abstention.
    n_classes : int, optional
        Number of classes ``k``; default one more than the largest id seen.

    Returns
    -------
    float
        In ``[0, 1]``. Use :func:`covered_scores` for the accuracy on the
        items that were not abstained on.

    Examples
    --------
    >>> from weaklab.evaluation import accuracy
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    t, p, _ = checked_pair(y_true, y_pred, n_classes)
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, *, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[true, predicted]``; the last column counts abstentions.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    y_pred : array-like of shape (n,)
        Predicted class ids; ``-1`` = abstain.
    n_classes : int, optional
        Number of classes (default: inferred from the labels).

    Returns
    -------
    ndarray of shape (k, k + 1) and dtype int64
        ``C[:, :k]`` equals scikit-learn's ``confusion_matrix`` on the
        covered items; ``C[:, k]`` the abstentions per gold class.

    Examples
    --------
    >>> from weaklab.evaluation import confusion_matrix
    >>> confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0]).tolist()
    [[2, 0, 0], [1, 1, 0]]
    """
    t, p, k = checked_pair(y_true, y_pred, n_classes)
    return confusion_counts(t, p, k)


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    average: str = "macro",
    pos_label: int = 1,
    n_classes: int | None = None,
) -> float:
    """F1 score, averaged over classes or of one class.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    y_pred : array-like of shape (n,)
        Predicted class ids, ``-1`` for an abstention.
    average : {"macro", "micro", "weighted", "binary"}, default="macro"
        ``"macro"``: unweighted mean over the classes that occur in
        ``y_true`` or ``y_pred``; ``"weighted"``: mean weighted by support;
        ``"micro"``: from total true positives, predictions and items (equals
        accuracy without abstentions); ``"binary"``: F1 of ``pos_label``.
    pos_label : int, default=1
        The class scored by ``average="binary"``.
    n_classes : int, optional
        Number of classes; default one more than the largest id seen.

    Returns
    -------
    float
        In ``[0, 1]``; an undefined precision or recall counts as 0.

    Examples
    --------
    >>> from weaklab.evaluation import f1_score
    >>> round(f1_score([0, 1, 1, 0], [0, 1, 0, 0]), 3)
    0.733
    >>> round(f1_score([0, 1, 1, 0], [0, 1, 0, 0], average="binary"), 3)
    0.667
    """
    check_choice("average", average, F1_AVERAGES)
    t, p, k = checked_pair(y_true, y_pred, n_classes)
    conf = confusion_counts(t, p, k)
    if average == "binary":
        pos = check_int("pos_label", pos_label, low=0, high=k - 1)
        return float(per_class(conf)[2][pos])
    return averaged_f1(conf, average)


def precision_recall_f1(
    y_true: Any,
    y_pred: Any,
    *,
    n_classes: int | None = None,
    class_names: Any = None,
) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Gold ids and predictions (``-1`` = abstain).
    n_classes : int, optional
        Number of classes; default one more than the largest id seen.
    class_names : sequence of str, optional
        One name per class (the frame's ``name`` column).

    Returns
    -------
    pandas.DataFrame
        One row per class ``0..k-1`` with columns ``class``, ``name``,
        ``precision``, ``recall``, ``f1``, ``support`` (gold items),
        ``predicted`` (items predicted as the class).

    Examples
    --------
    >>> from weaklab.evaluation import precision_recall_f1
    >>> precision_recall_f1([0, 1, 1, 0], [0, 1, 0, 0], class_names=["ham", "spam"]).round(3)
       class  name  precision  recall     f1  support  predicted
    0      0   ham      0.667     1.0  0.800        2          3
    1      1  spam      1.000     0.5  0.667        2          1
    """
    t, p, k = checked_pair(y_true, y_pred, n_classes)
    names = _class_names(class_names, k)
    precision, recall, f1, support, predicted = per_class(confusion_counts(t, p, k))
    return pd.DataFrame({
        "class": np.arange(k), "name": names, "precision": precision, "recall": recall, "f1": f1,
        "support": support.astype(np.int64), "predicted": predicted.astype(np.int64),
    })


def _class_names(class_names: Any, k: int) -> list[str]:
    if class_names is None:
        return [str(c) for c in range(k)]
    names = [str(n) for n in class_names] if not isinstance(class_names, str) else None
    if names is None or len(names) != k:
        raise fail("class_names", f"{k} class names", class_names)
    return names


def coverage(y_pred: Any) -> float:
    """Share of items that got a prediction (not ``-1``).

    Parameters
    ----------
    y_pred : array-like of shape (n,)
        Predicted class ids, ``-1`` for an abstention.

    Returns
    -------
    float
        In ``[0, 1]``; 0 for an empty input.

    Examples
    --------
    >>> from weaklab.evaluation import coverage
    >>> coverage([0, -1, 1, -1])
    0.5
    """
    arr = np.asarray(y_pred)
    if arr.ndim != 1:
        raise fail("y_pred", "a 1-d array of class ids", arr)
    if arr.size and not np.issubdtype(arr.dtype, np.number):
        raise fail("y_pred", "integer class ids", arr)
    return float(np.mean(arr >= 0)) if arr.size else 0.0


def covered_scores(y_true: Any, y_pred: Any, *, n_classes: int | None = None) -> dict[str, float]:
    """Coverage and the scores on the covered items only.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Gold ids and predictions (``-1`` = abstain).
    n_classes : int, optional
        Number of classes; default one more than the largest id seen.

    Returns
    -------
    dict of str to float
        ``coverage``, ``n_covered``, and on the covered items ``accuracy``,
        ``macro_f1`` and ``micro_f1`` (NaN when nothing is covered). Scores
        over *all* items (abstentions wrong) come from :func:`accuracy` and
        :func:`f1_score`.

    Examples
    --------
    >>> from weaklab.evaluation import covered_scores
    >>> {name: round(value, 3) for name, value in covered_scores([0, 1, 1, 0], [0, -1, 0, 0]).items()}
    {'coverage': 0.75, 'n_covered': 3.0, 'accuracy': 0.667, 'macro_f1': 0.4, 'micro_f1': 0.667}
    """
    t, p, k = checked_pair(y_true, y_pred, n_classes)
    covered = p >= 0
    out = {"coverage": float(covered.mean()), "n_covered": float(covered.sum())}
    if not covered.any():
        return {**out, "accuracy": float("nan"), "macro_f1": float("nan"), "micro_f1": float("nan")}
    conf = confusion_counts(t[covered], p[covered], k)
    out["accuracy"] = float(np.mean(t[covered] == p[covered]))
    out["macro_f1"] = averaged_f1(conf, "macro")
    out["micro_f1"] = averaged_f1(conf, "micro")
    return out
