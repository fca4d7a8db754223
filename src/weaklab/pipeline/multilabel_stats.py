"""Per-label statistics of a multi-label run's votes: coverage, overlap and conflict of the sources on each label.

A conflict on a label is an item where one source votes the label present
and another votes it absent. :func:`label_vote_stats` gives one row per
label, :func:`source_label_stats` one row per (source, label) a source voted
on: how often it voted, either way, and how often another source said the
opposite on the same item.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core import MultiLabelMatrix

__all__ = ["label_vote_stats", "source_label_stats"]


def _cell_counts(L: MultiLabelMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Present and absent vote counts per (item, label), each ``(n, K)``."""
    present, absent = L.vote_counts()
    return np.asarray(present, dtype=np.int64), np.asarray(absent, dtype=np.int64)


def label_vote_stats(L: MultiLabelMatrix) -> pd.DataFrame:
    """Per label: shares of items with a vote, a present vote, an absent vote, two or more votes, and a conflict.

    Columns ``coverage``, ``present_coverage``, ``absent_coverage``,
    ``overlap`` (two or more votes), ``conflict`` (present and absent votes
    on the item), ``n_sources`` (sources that voted on the label),
    ``n_present`` and ``n_absent`` (votes; the three counts are integers); the index is the label names.

    Examples
    --------
    >>> votes = np.array([[[1, -1]], [[0, 1]]])                       # 2 items, 1 source, 2 labels
    >>> L = MultiLabelMatrix(np.concatenate([votes, np.array([[[0, -1]], [[0, -1]]])], axis=1),
    ...                      label_names=["a", "b"])
    >>> label_vote_stats(L).loc["a", ["coverage", "overlap", "conflict", "n_sources"]].tolist()
    [1.0, 1.0, 0.5, 2.0]
    """
    present, absent = _cell_counts(L)
    n = max(L.n_items, 1)
    _, sources, labels, _ = L.coo()
    voters = np.zeros((L.n_labels, L.n_sources), dtype=bool)
    voters[labels, sources] = True
    return pd.DataFrame({
        "coverage": ((present + absent) > 0).sum(axis=0) / n,
        "present_coverage": (present > 0).sum(axis=0) / n,
        "absent_coverage": (absent > 0).sum(axis=0) / n,
        "overlap": ((present + absent) > 1).sum(axis=0) / n,
        "conflict": ((present > 0) & (absent > 0)).sum(axis=0) / n,
        "n_sources": voters.sum(axis=1).astype(np.int64),
        "n_present": present.sum(axis=0).astype(np.int64),
        "n_absent": absent.sum(axis=0).astype(np.int64)}, index=pd.Index(list(L.label_names), name="label"))


def source_label_stats(L: MultiLabelMatrix) -> pd.DataFrame:
    """One row per (source, label) with votes: coverage, present and absent votes, and the share in conflict.

    ``coverage`` is the share of all items the source voted on for the label;
    ``conflict`` the share of those votes that another source contradicts on
    the same item and label (present against absent).

    Examples
    --------
    >>> L = MultiLabelMatrix(np.array([[[1], [0]], [[1], [-1]]]), source_names=["s", "t"], label_names=["a"])
    >>> source_label_stats(L)[["source", "label", "n_present", "n_absent", "conflict"]].values.tolist()
    [['s', 'a', 2, 0, 0.5], ['t', 'a', 0, 1, 1.0]]
    """
    present, absent = _cell_counts(L)
    items, sources, labels, votes = L.coo()
    against = np.where(votes == 1, absent[items, labels], present[items, labels]) > 0
    keys = sources.astype(np.int64) * max(L.n_labels, 1) + labels
    order = np.unique(keys)
    count = np.bincount(keys, minlength=int(order.max()) + 1 if len(order) else 0)
    n_present = np.bincount(keys, weights=(votes == 1), minlength=len(count))
    n_conflict = np.bincount(keys, weights=against, minlength=len(count))
    names, label_names = list(L.source_names), list(L.label_names)
    return pd.DataFrame({
        "source": [names[k // max(L.n_labels, 1)] for k in order],
        "label": [label_names[k % max(L.n_labels, 1)] for k in order],
        "coverage": count[order] / max(L.n_items, 1),
        "n_present": n_present[order].astype(np.int64),
        "n_absent": (count[order] - n_present[order]).astype(np.int64),
        "conflict": n_conflict[order] / count[order]})
