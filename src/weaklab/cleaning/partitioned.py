"""Label issues of partitioned data: score per partition, keep the worst ``n`` with a bounded-memory merge.

Each Dask task reads one partition of the given labels (the majority vote of
a :class:`~weaklab.PartitionedLabelMatrix`, or the most probable class of a
:class:`~weaklab.PartitionedSoftLabels`) and of the predicted probabilities,
scores its items with :func:`~weaklab.cleaning.label_quality_scores` and keeps
its ``n`` lowest scores. Partial lists are merged pairwise by a tree of tasks,
each merge keeping ``n`` of at most ``2 n`` rows, so neither a worker nor the
client ever holds more than ``split_every * n`` candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core.dask_ops import map_reduce
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from .._core.validation import check_choice, check_int, fail
from .scores import QUALITY_SCORES, label_quality_scores

__all__ = ["top_label_issues", "ISSUE_COLUMNS"]

ISSUE_COLUMNS = ("rank", "item_id", "given", "suggested", "score", "partition", "row")
"""Columns of the table :func:`top_label_issues` returns."""


def top_label_issues(
    given: PartitionedLabelMatrix | PartitionedSoftLabels,
    pred: PartitionedSoftLabels,
    *,
    n: int = 100,
    score: str = "self_confidence",
    split_every: int = 8,
) -> pd.DataFrame:
    """The ``n`` items whose given label is most likely wrong, over all partitions.

    Equals ``rank_label_issues(labels, pred_probs, score=score, mask=covered)[:n]``
    on the concatenated data (ties keep the order of the rows).

    Parameters
    ----------
    given : PartitionedLabelMatrix or PartitionedSoftLabels
        Votes, whose given label is each item's majority vote (ties go to
        the lowest class; items without a vote are skipped), or soft labels,
        whose given label is the most probable class.
    pred : PartitionedSoftLabels
        Predicted probabilities with the same partitions (row for row), e.g.
        ``model.predict_proba(plm, output=...)``.
    n : int, default=100
        How many items to return (fewer when fewer are scored).
    score : str, default="self_confidence"
        One of :data:`~weaklab.cleaning.QUALITY_SCORES`.
    split_every : int, default=8
        Partial lists merged by one task of the reduction tree.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ISSUE_COLUMNS`: ``rank`` (1 = worst), ``item_id``,
        ``given`` and ``suggested`` (most probable predicted class) class ids,
        ``score`` (ascending), ``partition`` and ``row`` (within it).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> from weaklab.models import MajorityVote
    >>> votes = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [
    ...     LabelMatrix(np.array([[0, 0, 1], [1, 1, 1]])), LabelMatrix(np.array([[0, 1, 1], [-1, -1, -1]]))])
    >>> soft = MajorityVote().fit(votes).predict_proba(votes)
    >>> issues = top_label_issues(votes, soft, n=2)
    >>> issues[["item_id", "given"]].to_numpy().tolist(), issues["score"].round(3).tolist()
    ([[0, 0], [2, 1]], [0.667, 0.667])
    """
    n = check_int("n", n, low=1)
    check_choice("score", score, QUALITY_SCORES)
    _check_aligned(given, pred)

    def partial(i: int) -> pd.DataFrame:
        return _partition_issues(given, pred, i, n, score)

    def merge(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
        return _worst(pd.concat([a, b], ignore_index=True), n)

    table = map_reduce(pred.n_partitions, partial, merge, split_every=split_every).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[list(ISSUE_COLUMNS)]


def _check_aligned(given: Any, pred: Any) -> None:
    if not isinstance(pred, PartitionedSoftLabels):
        raise fail("pred", "a PartitionedSoftLabels", pred)
    if not isinstance(given, (PartitionedLabelMatrix, PartitionedSoftLabels)):
        raise fail("given", "a PartitionedLabelMatrix or a PartitionedSoftLabels", given)
    if tuple(given.partition_rows) != tuple(pred.partition_rows):
        raise fail("pred", f"partitions of {list(given.partition_rows)} rows (as given)",
                   got_text=f"{list(pred.partition_rows)}")
    if given.n_classes > pred.n_classes:
        raise fail("pred", f"at least {given.n_classes} classes (as given)", got_text=f"{pred.n_classes}")


def _partition_issues(given: Any, pred: PartitionedSoftLabels, i: int, n: int, score: str) -> pd.DataFrame:
    """The ``n`` worst scored items of partition ``i`` (runs on a worker)."""
    soft = pred.read_partition(i)
    if isinstance(given, PartitionedLabelMatrix):
        votes = given.read_partition(i)
        counts = votes.class_counts()
        labels, scored, ids = np.argmax(counts, axis=1), np.flatnonzero(counts.sum(axis=1) > 0), votes.item_ids
    else:
        theirs = given.read_partition(i)
        labels, scored, ids = np.argmax(theirs.proba, axis=1), np.arange(theirs.proba.shape[0]), theirs.item_ids
    if ids is not None and soft.item_ids is not None and not np.array_equal(ids, soft.item_ids):
        raise fail("pred", f"the item ids of the given labels in partition {i}", got_text="other ids")
    proba = soft.proba[scored]
    table = pd.DataFrame({
        "item_id": (soft.item_ids if soft.item_ids is not None else np.arange(soft.proba.shape[0]))[scored],
        "given": labels[scored].astype(np.int64), "suggested": np.argmax(proba, axis=1).astype(np.int64),
        "score": label_quality_scores(labels[scored], proba, score=score) if scored.size else np.zeros(0),
        "partition": np.full(scored.size, i, dtype=np.int64), "row": scored.astype(np.int64),
    })
    return _worst(table, n)


def _worst(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` rows of lowest score; ties by partition, then row."""
    return table.sort_values(["score", "partition", "row"], kind="stable").head(n)
