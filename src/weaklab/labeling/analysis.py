"""Source analysis: coverage, overlap, conflict and accuracy of the sources of a label matrix.

Pure functions over a :class:`~weaklab.LabelMatrix` (or an ``(n, m)`` vote
array). Each public function validates once, then computes with vectorised
numpy: on a sparse matrix from the coordinates of the non-abstain votes
(``bincount`` / ``reduceat``, cost following the number of votes, never
densified), on a dense matrix column-wise on the vote array itself.

Definitions (for ``n`` items and a source ``j``):

- an item is *covered* when at least one source votes on it, *overlapped*
  when at least two do, and *conflicted* when at least two non-abstain votes
  on it differ;
- ``lf_coverages[j]``: fraction of the ``n`` items that ``j`` votes on;
- ``lf_overlaps[j]``: fraction of the ``n`` items that ``j`` votes on and at
  least one other source votes on too;
- ``lf_conflicts[j]``: fraction of the ``n`` items that ``j`` votes on and
  some other source votes a different class on. Since ``j``'s own vote is
  among the item's votes, this is exactly "``j`` votes on a conflicted item".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN
from .._core.inputs import as_label_matrix
from .._core.label_matrix import LabelMatrix
from .._core.partitioned import PartitionedLabelMatrix
from .._core.validation import check_bool, check_labels, fail

__all__ = [
    "label_coverage",
    "label_overlap",
    "label_conflict",
    "lf_polarities",
    "lf_coverages",
    "lf_overlaps",
    "lf_conflicts",
    "lf_empirical_accuracies",
    "lf_summary",
    "gold_vote_counts",
    "gold_columns",
]


class _SparseVotes:
    """Vote statistics from the coordinates of the non-abstain votes (row-major).

    Used for sparse matrices; costs follow the number of votes, not ``n * m``.
    """

    def __init__(self, L: LabelMatrix) -> None:
        self.n, self.m, self.k = L.n_items, L.n_sources, L.n_classes
        self.rows, self.cols, self.labels = L.coo()
        self.per_item = L.votes_per_item()

    def conflicted(self) -> np.ndarray:
        """Items whose votes are not all equal (smallest vote != largest vote)."""
        out = np.zeros(self.n, dtype=bool)
        voted = self.per_item > 0
        if voted.any():
            starts = (np.cumsum(self.per_item) - self.per_item)[voted]
            out[voted] = np.minimum.reduceat(self.labels, starts) != np.maximum.reduceat(self.labels, starts)
        return out

    def source_counts(self, items: np.ndarray | None = None) -> np.ndarray:
        """Votes of each source, on the items of boolean mask ``items`` if given."""
        cols = self.cols if items is None else self.cols[items[self.rows]]
        return np.bincount(cols, minlength=self.m).astype(np.int64)

    def class_counts(self, items: np.ndarray | None = None) -> np.ndarray:
        """Votes per source and voted class, shape ``(m, k)``, on the ``items`` mask if given."""
        keep = slice(None) if items is None else items[self.rows]
        key = self.cols[keep] * self.k + self.labels[keep]
        return np.bincount(key, minlength=self.m * self.k).reshape(self.m, self.k).astype(np.int64)

    def correct_counts(self, gold: np.ndarray) -> np.ndarray:
        """Votes per source and class ``c`` cast on items whose gold class is ``c``, ``(m, k)``."""
        hits = self.labels == gold[self.rows]
        key = self.cols[hits] * self.k + self.labels[hits]
        return np.bincount(key, minlength=self.m * self.k).reshape(self.m, self.k).astype(np.int64)


class _DenseVotes:
    """The same statistics computed column-wise on the dense vote array (no coordinates)."""

    def __init__(self, L: LabelMatrix) -> None:
        self.n, self.m, self.k = L.n_items, L.n_sources, L.n_classes
        self.dense = L.to_dense()
        self.voted = self.dense != ABSTAIN
        self.per_item = np.count_nonzero(self.voted, axis=1)

    def conflicted(self) -> np.ndarray:
        if self.n == 0:
            return np.zeros(0, dtype=bool)
        high = self.dense.max(axis=1)
        low = np.where(self.voted, self.dense, self.k).min(axis=1)
        return (self.per_item > 0) & (low != high)

    def source_counts(self, items: np.ndarray | None = None) -> np.ndarray:
        voted = self.voted if items is None else self.voted[items]
        return np.count_nonzero(voted, axis=0).astype(np.int64)

    def class_counts(self, items: np.ndarray | None = None) -> np.ndarray:
        dense = self.dense if items is None else self.dense[items]
        out = np.empty((self.m, self.k), dtype=np.int64)
        for j in range(self.m):  # one bincount per source: O(n) each, whatever k is
            out[j] = np.bincount(dense[:, j].astype(np.int64) + 1, minlength=self.k + 1)[1:]
        return out

    def correct_counts(self, gold: np.ndarray) -> np.ndarray:
        out = np.zeros((self.m, self.k), dtype=np.int64)
        order = np.argsort(gold, kind="stable")
        bounds = np.searchsorted(gold[order], np.arange(self.k + 1))
        for c in range(self.k):  # the gold-class blocks partition the items: O(n * m) in total
            out[:, c] = np.count_nonzero(self.dense[order[bounds[c]:bounds[c + 1]]] == c, axis=0)
        return out


_Votes = _SparseVotes | _DenseVotes


def _votes(L: LabelMatrix) -> _Votes:
    return _SparseVotes(L) if L.is_sparse else _DenseVotes(L)


# ---------------------------------------------------------------------------
# item-level fractions
# ---------------------------------------------------------------------------


def label_coverage(L: Any) -> float:
    """Fraction of items with at least one non-abstain vote.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.

    Returns
    -------
    float
        In ``[0, 1]``; 0.0 for a matrix without items.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import label_coverage
    >>> label_coverage(np.array([[0, -1], [-1, -1], [1, 1], [0, 1]]))
    0.75
    """
    L = as_label_matrix(L)
    return _fraction(L.votes_per_item() >= 1)


def label_overlap(L: Any) -> float:
    """Fraction of items with at least two non-abstain votes.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.

    Returns
    -------
    float
        In ``[0, 1]``, at most :func:`label_coverage`.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import label_overlap
    >>> label_overlap(np.array([[0, -1], [-1, -1], [1, 1], [0, 1]]))
    0.5
    """
    L = as_label_matrix(L)
    return _fraction(L.votes_per_item() >= 2)


def label_conflict(L: Any) -> float:
    """Fraction of items with at least two different non-abstain votes.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.

    Returns
    -------
    float
        In ``[0, 1]``, at most :func:`label_overlap`.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import label_conflict
    >>> label_conflict(np.array([[0, -1], [-1, -1], [1, 1], [0, 1]]))
    0.25
    """
    L = as_label_matrix(L)
    return _fraction(_votes(L).conflicted())


def _fraction(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else 0.0


# ---------------------------------------------------------------------------
# per-source statistics
# ---------------------------------------------------------------------------


def lf_polarities(L: Any) -> list[list[int]]:
    """The classes each source votes, sorted.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.

    Returns
    -------
    list of list of int
        One list per source (empty for a source that always abstains).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import lf_polarities
    >>> lf_polarities(np.array([[0, -1, -1], [1, 1, -1], [0, 1, -1]]))
    [[0, 1], [1], []]
    """
    return _polarities(_votes(as_label_matrix(L)))


def _polarities(v: _Votes) -> list[list[int]]:
    return [np.flatnonzero(row).tolist() for row in v.class_counts() > 0]


def lf_coverages(L: Any) -> np.ndarray:
    """Fraction of items each source votes on.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.

    Returns
    -------
    numpy.ndarray of shape (n_sources,)
        Floats in ``[0, 1]`` (zeros for a matrix without items).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import lf_coverages
    >>> lf_coverages(np.array([[0, -1], [-1, -1], [1, 1], [0, 1]])).tolist()
    [0.75, 0.5]
    """
    L = as_label_matrix(L)
    return _per_item_fraction(L.votes_per_source(), L.n_items)


def lf_overlaps(L: Any, normalize_by_coverage: bool = False) -> np.ndarray:
    """Fraction of items each source votes on together with at least one other source.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.
    normalize_by_coverage : bool, default=False
        Divide by the source's coverage, giving the fraction of *its* votes
        that overlap (0 for a source without votes).

    Returns
    -------
    numpy.ndarray of shape (n_sources,)
        Floats in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import lf_overlaps
    >>> L = np.array([[0, -1], [-1, -1], [1, 1], [0, 1]])
    >>> lf_overlaps(L).tolist(), lf_overlaps(L, normalize_by_coverage=True).round(3).tolist()
    ([0.5, 0.5], [0.667, 1.0])
    """
    L = as_label_matrix(L)
    normalize_by_coverage = check_bool("normalize_by_coverage", normalize_by_coverage)
    v = _votes(L)
    counts = v.source_counts(v.per_item >= 2)
    if normalize_by_coverage:
        return _ratio(counts, v.source_counts())
    return _per_item_fraction(counts, v.n)


def lf_conflicts(L: Any, normalize_by_overlaps: bool = False) -> np.ndarray:
    """Fraction of items each source votes on where another source votes a different class.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.
    normalize_by_overlaps : bool, default=False
        Divide by the source's overlap count, giving the fraction of its
        overlapping votes that conflict (0 for a source without overlaps).

    Returns
    -------
    numpy.ndarray of shape (n_sources,)
        Floats in ``[0, 1]``, never above :func:`lf_overlaps`.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import lf_conflicts
    >>> L = np.array([[0, -1], [-1, -1], [1, 1], [0, 1]])
    >>> lf_conflicts(L).tolist(), lf_conflicts(L, normalize_by_overlaps=True).tolist()
    ([0.25, 0.25], [0.5, 0.5])
    """
    L = as_label_matrix(L)
    normalize_by_overlaps = check_bool("normalize_by_overlaps", normalize_by_overlaps)
    v = _votes(L)
    counts = v.source_counts(v.conflicted())
    if normalize_by_overlaps:
        return _ratio(counts, v.source_counts(v.per_item >= 2))
    return _per_item_fraction(counts, v.n)


def lf_empirical_accuracies(L: Any, gold: Any) -> np.ndarray:
    """Accuracy of each source's votes on the items with a known gold label.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.
    gold : array-like of shape (n_items,)
        Gold class ids in ``[0, n_classes)``, ``-1`` where unknown (ignored).

    Returns
    -------
    numpy.ndarray of shape (n_sources,)
        Correct votes / votes on gold items; NaN for a source with no vote
        on a gold item.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.labeling import lf_empirical_accuracies
    >>> L = np.array([[0, -1], [-1, -1], [1, 1], [0, 1]])
    >>> lf_empirical_accuracies(L, gold=np.array([0, 1, 1, -1])).tolist()
    [1.0, 1.0]
    """
    L = as_label_matrix(L)
    v = _votes(L)
    g = _check_gold(gold, L)
    return _ratio(v.correct_counts(g).sum(axis=1), v.source_counts(g >= 0), empty=np.nan)


def lf_summary(L: Any, gold: Any = None, *, est_accuracy: Any = None) -> pd.DataFrame:
    """A table of the sources' polarity, coverage, overlap, conflict and accuracy.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
        Votes; ``-1`` = abstain.
    gold : array-like of shape (n_items,), optional
        Gold class ids, ``-1`` where unknown (those items are ignored for the
        accuracy columns).
    est_accuracy : array-like of shape (n_sources,), optional
        Accuracies estimated without gold (e.g. a label model's
        ``source_accuracy_``), values in ``[0, 1]``.

    Returns
    -------
    pandas.DataFrame
        Indexed by source name (index name ``"source"``), one row per source,
        with columns:

        - ``polarity``: list of the classes the source votes;
        - ``coverage``, ``overlaps``, ``conflicts``: fractions of all items as
          in :func:`lf_coverages`, :func:`lf_overlaps`, :func:`lf_conflicts`;
        - with ``gold``: ``correct`` and ``incorrect`` (vote counts on gold
          items), ``emp_acc`` (their accuracy, NaN without such votes) and
          one ``acc_<class>`` column per class (class name, or id when the
          matrix has no class names): the accuracy of the source's votes *for*
          that class on gold items, i.e. the fraction of them whose gold class
          is that class (NaN when the source never votes it on a gold item).
          ``emp_acc`` is the vote-weighted mean of the ``acc_<class>`` values;
        - with ``est_accuracy``: ``est_acc``.

    Notes
    -----
    ``L`` may be a :class:`~weaklab.PartitionedLabelMatrix`: the table then
    comes from its statistics reduced over the partitions by Dask (the votes
    never reach the client); ``gold`` must be None there.

    Examples
    --------
    >>> import numpy as np
    >>> lf_summary(np.array([[0, 0], [0, 1], [-1, 1]]))[["coverage", "conflicts"]].round(3).to_numpy().tolist()
    [[0.667, 0.333], [1.0, 0.333]]
    """
    if isinstance(L, PartitionedLabelMatrix):
        return _partitioned_summary(L, gold, est_accuracy)
    L = as_label_matrix(L)
    g = None if gold is None else _check_gold(gold, L)
    est = None if est_accuracy is None else _check_est_accuracy(est_accuracy, L.n_sources)
    v = _votes(L)
    table: dict[str, Any] = {
        "polarity": _polarities(v),
        "coverage": _per_item_fraction(v.source_counts(), v.n),
        "overlaps": _per_item_fraction(v.source_counts(v.per_item >= 2), v.n),
        "conflicts": _per_item_fraction(v.source_counts(v.conflicted()), v.n),
    }
    if g is not None:
        table.update(_gold_columns(v, g, L.class_names))
    if est is not None:
        table["est_acc"] = est
    return pd.DataFrame(table, index=pd.Index(list(L.source_names), name="source"))


def _partitioned_summary(L: PartitionedLabelMatrix, gold: Any, est_accuracy: Any) -> pd.DataFrame:
    """:func:`lf_summary` of partitioned votes from their reduced statistics."""
    if gold is not None:
        raise fail("gold", "None for a PartitionedLabelMatrix", got_text="gold labels")
    est = None if est_accuracy is None else _check_est_accuracy(est_accuracy, L.n_sources)
    stats = L.statistics()
    n = stats.n_items
    table: dict[str, Any] = {
        "polarity": [np.flatnonzero(row).tolist() for row in stats.class_votes > 0],
        "coverage": _per_item_fraction(stats.source_votes, n),
        "overlaps": _per_item_fraction(stats.source_overlaps, n),
        "conflicts": _per_item_fraction(stats.source_conflicts, n),
    }
    if est is not None:
        table["est_acc"] = est
    return pd.DataFrame(table, index=pd.Index(list(L.source_names), name="source"))


# ---------------------------------------------------------------------------
# private compute helpers
# ---------------------------------------------------------------------------


def _per_item_fraction(counts: np.ndarray, n: int) -> np.ndarray:
    return counts / n if n else np.zeros(counts.shape, dtype=np.float64)


def _ratio(num: np.ndarray, den: np.ndarray, empty: float = 0.0) -> np.ndarray:
    out = np.full(num.shape, empty, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _gold_columns(v: _Votes, gold: np.ndarray, class_names: tuple[str, ...] | None) -> dict[str, Any]:
    return gold_columns(v.correct_counts(gold), v.class_counts(gold >= 0), class_names)


def gold_vote_counts(L: Any, gold: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each source's votes per class on the items with gold, and how many of them are right.

    Counts over disjoint parts of the items (partitions) add up to the
    counts over all of them; :func:`gold_columns` turns them into the gold
    columns of :func:`lf_summary`.

    Parameters
    ----------
    L : LabelMatrix or array-like of shape (n_items, n_sources)
    gold : array-like of shape (n_items,)
        Gold class ids, ``-1`` where unknown.

    Returns
    -------
    correct : ndarray of shape (n_sources, n_classes)
        Votes for class ``c`` on items whose gold class is ``c``.
    total : ndarray of shape (n_sources, n_classes)
        Votes for class ``c`` on items with gold.

    Examples
    --------
    >>> L = np.array([[0, 1], [1, 1], [1, -1]])
    >>> correct, total = gold_vote_counts(L, np.array([0, 1, -1]))
    >>> correct.tolist(), total.tolist()
    ([[1, 1], [0, 1]], [[1, 1], [0, 2]])
    """
    L = as_label_matrix(L)
    g = _check_gold(gold, L)
    v = _votes(L)
    return v.correct_counts(g), v.class_counts(g >= 0)


def gold_columns(correct: np.ndarray, total: np.ndarray,
                 class_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The gold columns of :func:`lf_summary` from :func:`gold_vote_counts` (or their sums over partitions).

    Parameters
    ----------
    correct, total : ndarray of shape (n_sources, n_classes)
    class_names : sequence of str, optional
        Names of the ``acc_<class>`` columns (class ids without them).

    Returns
    -------
    dict
        ``correct``, ``incorrect``, ``emp_acc`` (NaN for a source without a
        vote on gold) and one ``acc_<class>`` per class.

    Examples
    --------
    >>> columns = gold_columns(np.array([[1, 1], [0, 1]]), np.array([[1, 1], [0, 2]]), ["ham", "spam"])
    >>> columns["emp_acc"].tolist(), columns["acc_spam"].tolist()
    ([1.0, 0.5], [1.0, 0.5])
    """
    correct, total = np.asarray(correct, dtype=np.int64), np.asarray(total, dtype=np.int64)
    n_correct, n_total = correct.sum(axis=1), total.sum(axis=1)
    columns: dict[str, Any] = {
        "correct": n_correct,
        "incorrect": n_total - n_correct,
        "emp_acc": _ratio(n_correct, n_total, empty=np.nan),
    }
    per_class = _ratio(correct, total, empty=np.nan)
    names = class_names if class_names is not None else tuple(str(c) for c in range(correct.shape[1]))
    for c, name in enumerate(names):
        columns[f"acc_{name}"] = per_class[:, c]
    return columns


def _check_gold(gold: Any, L: LabelMatrix) -> np.ndarray:
    if gold is None:
        raise fail("gold", f"an array of {L.n_items} gold class ids (-1 = unknown)", gold)
    return check_labels("gold", gold, L.n_classes, length=L.n_items, allow_abstain=True)


def _check_est_accuracy(values: Any, m: int) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("est_accuracy", f"{m} accuracies in [0, 1]", values) from None
    if arr.shape != (m,):
        raise fail("est_accuracy", f"a 1-d array of {m} accuracies (one per source)", arr)
    if not np.all(np.isfinite(arr)) or arr.min(initial=0.0) < 0 or arr.max(initial=0.0) > 1:
        raise fail("est_accuracy", "finite accuracies in [0, 1]",
                   got_text=f"values in [{np.nanmin(arr):.4g}, {np.nanmax(arr):.4g}]")
    return arr
