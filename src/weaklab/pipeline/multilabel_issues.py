"""Label issues of a multi-label run: (item, label) cells whose weak label the item's text contradicts.

The ``issues`` step of a classification run, label by label. On one label
the weak label of an item is the label model's ``P(applies) >= 0.5``
(present or absent); the items some source voted on for the label (outside
the dev split) are that label's training set. A logistic regression on the
run's TF-IDF features, trained on the other folds
(:func:`~weaklab.cleaning.out_of_fold_proba`), judges each of them, and
:func:`~weaklab.cleaning.detect_label_issues` flags the cells whose weak
label the judge confidently contradicts (confident learning;
``[issues].method``, ``"auto"`` by default: ``"votes"``, the classification
default that judges with the votes, does not apply, as the label model *is*
the votes' verdict here). A flagged cell's ``score`` is the judge's
probability of the weak label (its self-confidence): the lower, the more
likely wrong. The run keeps the ``[issues].max_issues`` lowest (200 by
default) in its metrics (``label_issues``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core import MultiLabelMatrix

__all__ = ["ISSUE_COLUMNS", "label_cell_issues"]

#: Columns of the issues table.
ISSUE_COLUMNS = ("item_id", "label", "weak", "p_label_model", "p_judge", "score", "method")
#: A label needs this many voted items of each weak value (present, absent) to be judged.
MIN_PER_SIDE = 2


def label_cell_issues(X: Any, proba: np.ndarray, L: MultiLabelMatrix, item_ids: Any, rows: np.ndarray, *,
                      method: str = "auto", C: float = 1.0, max_iter: int = 1000, random_state: int = 0,
                      max_issues: int = 200) -> pd.DataFrame:
    """The (item, label) cells of ``rows`` whose weak label the out-of-fold text model contradicts, most likely first.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n, d)
        Features of every item (the run's TF-IDF).
    proba : ndarray of shape (n, K)
        The label model's ``P(applies)``.
    L : MultiLabelMatrix
        The run's votes (a label's cells are judged where some source voted on it).
    item_ids : array-like of shape (n,)
    rows : ndarray of shape (n,) of bool
        The items to judge (the run's non-dev items).
    method : str, default="auto"
        A method of :func:`~weaklab.cleaning.detect_label_issues`.
    C, max_iter : float, int
        The judge's logistic regression.
    random_state : int, default=0
        Seeds the folds and the regression.
    max_issues : int, default=200
        Keep at most this many (lowest score first).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ISSUE_COLUMNS`: ``weak`` is ``"present"`` or
        ``"absent"``, ``p_judge`` the judge's out-of-fold ``P(applies)``,
        ``score`` its probability of the weak label, ``method`` what flagged it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(0, 2, 200)
    >>> X = np.c_[truth + rng.normal(0, 0.1, 200)]
    >>> weak = np.where(np.arange(200) < 10, 1 - truth, truth)          # 10 wrong weak labels
    >>> L = MultiLabelMatrix(weak[:, None, None], label_names=["a"])
    >>> found = label_cell_issues(X, weak[:, None].astype(float), L, np.arange(200), np.ones(200, dtype=bool))
    >>> set(found["item_id"]) <= set(range(10)), len(found) >= 5    # only flipped ones, most of them
    (True, True)
    """
    from sklearn.linear_model import LogisticRegression

    from ..cleaning import detect_label_issues, out_of_fold_proba

    present, absent = L.vote_counts()
    voted = (np.asarray(present) + np.asarray(absent)) > 0
    ids = np.asarray(item_ids, dtype=object)
    frames = []
    for j, label in enumerate(L.label_names):
        at = np.flatnonzero(voted[:, j] & np.asarray(rows, dtype=bool))
        given = (proba[at, j] >= 0.5).astype(np.int64)
        smaller = int(min(given.sum(), len(given) - given.sum())) if len(at) else 0
        if smaller < MIN_PER_SIDE:
            continue
        judge = LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)
        oof = out_of_fold_proba(judge, X[at], given, cv=min(5, smaller), n_classes=2, random_state=random_state)
        found = detect_label_issues(given, oof, method=method)
        flagged = np.flatnonzero(found.mask)
        frames.append(pd.DataFrame({
            "item_id": ids[at[flagged]], "label": label,
            "weak": np.where(given[flagged] == 1, "present", "absent"),
            "p_label_model": proba[at[flagged], j], "p_judge": oof[flagged, 1],
            "score": oof[flagged, given[flagged]], "method": found.method}))
    if not frames:
        return pd.DataFrame(columns=list(ISSUE_COLUMNS))
    table = pd.concat(frames, ignore_index=True).sort_values(["score", "label"], kind="stable")
    return table.head(int(max_issues)).reset_index(drop=True)
