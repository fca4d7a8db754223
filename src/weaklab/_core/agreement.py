"""Agreement between sources, and with a label model, reduced over partitions (what the dashboard shows).

For each partition (pure numpy and scipy, on a worker) the non-abstain votes
are turned into sparse indicator matrices and multiplied by their transpose
(a sparse Gram product), for the first ``max_pair_sources`` sources:

* ``co_votes[j, l]``: items voted on by both ``j`` and ``l``
  (``V^T V`` with ``V[i, j] = 1`` when ``j`` votes on ``i``);
* ``agreements[j, l]``: items where both vote the same class
  (``Z^T Z`` with one row per item and class, ``Z[i k + c, j] = 1`` when
  ``j`` votes ``c`` on ``i``).

With the label model's hard labels of the same partition it also counts, for
**every** source and voted class, the votes the label model's label matches,
and keeps the first items where each source votes against it
(``max_samples`` per source, fewer when ``m * max_samples`` would pass
``MAX_SAMPLE_ITEMS``). Every count is a sum over items, so two partitions
merge by addition (samples: the first partition's first), and a tree of Dask
tasks reduces them; the client receives ``O(p^2 + m k)`` numbers whatever the
number of items.

Why the pairwise counts have a cap: they are two dense ``(p, p)`` int64
matrices in every partial result a tree task holds (``split_every`` of them
at once) and in the run's record the dashboard reads, so they grow with the
square of the sources (6,000 crowd workers: 2 x 288 MB per partial). The
dashboard draws at most 40 of them; the per-source counts (linear in ``m``)
are kept for all. :func:`reduce_agreement` warns when it leaves sources out
of the pairs, and ``max_pair_sources`` raises the cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .state import to_jsonable
from .validation import check_int, fail
from .warn import warn

if TYPE_CHECKING:
    from .label_matrix import LabelMatrix
    from .partitioned import PartitionedLabelMatrix, PartitionedSoftLabels

__all__ = ["SourceAgreement", "MAX_AGREEMENT_SOURCES", "MAX_DISAGREEMENT_SAMPLES", "MAX_SAMPLE_ITEMS",
           "agreement_counts", "merge_agreement", "reduce_agreement", "sample_limit"]

MAX_AGREEMENT_SOURCES = 100
"""Default ``max_pair_sources``: the first sources (in matrix order) whose pairwise agreement is counted
(2 x 10,000 int64)."""
MAX_DISAGREEMENT_SAMPLES = 200
"""Items kept per source where it votes against the label model."""
MAX_SAMPLE_ITEMS = 100_000
"""Disagreement samples kept over all sources: ``max_samples`` per source shrinks to ``MAX_SAMPLE_ITEMS // m``
(at least 1) when ``m`` sources would keep more."""

Samples = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SourceAgreement:
    """Pairwise agreement counts of sources, and their agreement with a label model's hard labels.

    Attributes
    ----------
    source_names : tuple of str
        The ``s`` sources whose votes are counted: all of them (records
        written before the pairwise cap was split from the per-source counts
        hold only the first ``s`` of ``n_sources``).
    n_sources : int
        Sources of the votes (``s <= n_sources``).
    n_items, n_classes : int
    co_votes : ndarray of shape (p, p), int64
        Items voted on by both sources, for the first ``p <= s`` sources
        (:attr:`pair_sources`; diagonal: each source's votes).
    agreements : ndarray of shape (p, p), int64
        Items on which both sources vote the same class.
    class_votes : ndarray of shape (s, k), int64
        Votes of each source for each class.
    model_agrees : ndarray of shape (s, k), int64, or None
        Of those votes, the ones the label model's hard label matches
        (None without a label model).
    samples : dict of str to (item_ids, votes, model_labels), or None
        Per source, the first ``max_samples`` items (in data order) where it
        votes against the label model.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import LabelMatrix
    >>> a = agreement_counts(LabelMatrix(np.array([[0, 0], [0, 1], [1, -1]])))
    >>> a.co_votes.tolist(), a.agreements.tolist()
    ([[3, 2], [2, 2]], [[3, 1], [1, 2]])
    >>> a.agreement_rate().round(2).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """

    source_names: tuple[str, ...]
    n_sources: int
    n_items: int
    n_classes: int
    co_votes: np.ndarray
    agreements: np.ndarray
    class_votes: np.ndarray
    model_agrees: np.ndarray | None = None
    samples: Mapping[str, Samples] | None = None

    @property
    def pair_sources(self) -> tuple[str, ...]:
        """The first ``p`` sources, whose pairwise counts are kept."""
        return self.source_names[: self.co_votes.shape[0]]

    def agreement_rate(self) -> np.ndarray:
        """``(p, p)``: the share of items voted on by both sources where they agree (NaN where none)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.co_votes > 0, self.agreements / np.maximum(self.co_votes, 1), np.nan)

    def model_agreement(self) -> np.ndarray | None:
        """``(s, k)``: per voted class, the share of a source's votes the label model's label matches."""
        if self.model_agrees is None:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.class_votes > 0, self.model_agrees / np.maximum(self.class_votes, 1), np.nan)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (:meth:`from_dict` reads it back)."""
        return to_jsonable({
            "kind": "source_agreement", "source_names": list(self.source_names), "n_sources": self.n_sources,
            "n_pair_sources": len(self.pair_sources),
            "n_items": self.n_items, "n_classes": self.n_classes, "co_votes": self.co_votes,
            "agreements": self.agreements, "class_votes": self.class_votes, "model_agrees": self.model_agrees,
            "samples": None if self.samples is None else {name: {"item_ids": ids, "votes": votes, "model": model}
                                                          for name, (ids, votes, model) in self.samples.items()},
        })

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceAgreement:
        """The counts :meth:`to_dict` wrote."""
        if not isinstance(data, Mapping) or data.get("kind") != "source_agreement":
            raise fail("data", "a dict written by SourceAgreement.to_dict()", data)
        s, k = len(data["source_names"]), int(data["n_classes"])
        p = int(data.get("n_pair_sources", s))

        def matrix(key: str, shape: tuple[int, int]) -> np.ndarray:
            return np.asarray(data[key], dtype=np.int64).reshape(shape)

        samples = data.get("samples")
        return cls(tuple(str(n) for n in data["source_names"]), int(data["n_sources"]), int(data["n_items"]), k,
                   matrix("co_votes", (p, p)), matrix("agreements", (p, p)), matrix("class_votes", (s, k)),
                   None if data.get("model_agrees") is None else matrix("model_agrees", (s, k)),
                   None if samples is None else {
                       str(name): (np.asarray(v["item_ids"]), np.asarray(v["votes"], dtype=np.int64),
                                   np.asarray(v["model"], dtype=np.int64)) for name, v in samples.items()})


def agreement_counts(L: LabelMatrix, model_labels: Any = None, *, max_pair_sources: int = MAX_AGREEMENT_SOURCES,
                     max_samples: int = MAX_DISAGREEMENT_SAMPLES) -> SourceAgreement:
    """The agreement counts of one label matrix (a partition), from sparse Gram products of its votes.

    Parameters
    ----------
    L : LabelMatrix
        Votes, dense or sparse.
    model_labels : array-like of shape (n_items,), optional
        The label model's hard label of each item (-1: none).
    max_pair_sources : int, default=MAX_AGREEMENT_SOURCES
        Pairwise counts (``co_votes``, ``agreements``) cover the first this
        many sources; the per-source counts cover all of them.
    max_samples : int, default=MAX_DISAGREEMENT_SAMPLES
        Items kept per source where it votes against ``model_labels`` (at
        most ``MAX_SAMPLE_ITEMS`` over all sources, at least 1 per source).

    Returns
    -------
    SourceAgreement

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import LabelMatrix
    >>> a = agreement_counts(LabelMatrix(np.array([[0, 0], [0, 1], [1, -1]])), model_labels=[0, 0, 0])
    >>> a.model_agreement().tolist()
    [[1.0, 0.0], [1.0, 0.0]]
    >>> [ids.tolist() for ids, _, _ in a.samples.values()]
    [[2], [1]]
    """
    max_pair_sources = check_int("max_pair_sources", max_pair_sources, low=1)
    max_samples = sample_limit(check_int("max_samples", max_samples, low=0), L.n_sources)
    n, k, s = L.n_items, L.n_classes, L.n_sources
    rows, cols, labels = L.coo()
    labels = labels.astype(np.int64)
    co_votes, agreements = _pair_counts(rows, cols, labels, n, k, min(s, max_pair_sources))
    out = SourceAgreement(
        tuple(L.source_names), s, n, k, co_votes=co_votes, agreements=agreements,
        class_votes=np.bincount(cols * k + labels, minlength=s * k).reshape(s, k).astype(np.int64))
    if model_labels is None:
        return out
    hard = np.asarray(model_labels, dtype=np.int64)
    if hard.shape != (n,):
        raise fail("model_labels", f"{n} class ids (one per item)", got_text=f"shape {hard.shape}")
    agrees = labels == hard[rows]
    ids = np.arange(n) if L.item_ids is None else np.asarray(L.item_ids)
    against = np.flatnonzero(~agrees)  # row-major coordinates: data order
    against = against[np.argsort(cols[against], kind="stable")]  # grouped by source, data order within
    bounds = np.searchsorted(cols[against], np.arange(s + 1))
    samples: dict[str, Samples] = {}
    for j, name in enumerate(out.source_names):
        mine = against[bounds[j]: min(bounds[j + 1], bounds[j] + max_samples)]
        samples[name] = (ids[rows[mine]], labels[mine], hard[rows[mine]])
    return SourceAgreement(out.source_names, out.n_sources, n, k, out.co_votes, out.agreements, out.class_votes,
                           np.bincount(cols * k + labels, weights=agrees, minlength=s * k).reshape(s, k)
                           .astype(np.int64), samples)


def sample_limit(max_samples: int, n_sources: int) -> int:
    """Disagreement samples kept per source: ``max_samples``, or fewer so that ``n_sources`` of them stay within
    ``MAX_SAMPLE_ITEMS`` (never below 1 while ``max_samples >= 1``).

    Examples
    --------
    >>> sample_limit(200, 20), sample_limit(200, 6000), sample_limit(0, 6000)
    (200, 16, 0)
    """
    if max_samples == 0:
        return 0
    return int(min(max_samples, max(1, MAX_SAMPLE_ITEMS // max(1, n_sources))))


def _pair_counts(rows: np.ndarray, cols: np.ndarray, labels: np.ndarray, n: int, k: int,
                 p: int) -> tuple[np.ndarray, np.ndarray]:
    """``(p, p)`` items both sources vote on, and agree on, for the first ``p`` sources (sparse Gram products)."""
    keep = cols < p
    rows, cols, labels = rows[keep], cols[keep], labels[keep]
    ones = np.ones(rows.shape[0], dtype=np.int64)
    voted = sp.csr_array((ones, (rows, cols)), shape=(n, p))
    same = sp.csr_array((ones, (rows * k + labels, cols)), shape=(n * k, p))
    return _dense(voted.T @ voted, p), _dense(same.T @ same, p)


def _dense(product: Any, s: int) -> np.ndarray:
    return np.asarray(sp.csr_array(product).toarray(), dtype=np.int64).reshape(s, s)


def merge_agreement(a: SourceAgreement, b: SourceAgreement, *,
                    max_samples: int = MAX_DISAGREEMENT_SAMPLES) -> SourceAgreement:
    """The counts of two partitions together (``a``'s items first).

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import LabelMatrix
    >>> a = agreement_counts(LabelMatrix(np.array([[0, 0]])))
    >>> merge_agreement(a, a).agreements.tolist()
    [[2, 2], [2, 2]]
    """
    if a.source_names != b.source_names or a.n_classes != b.n_classes or a.pair_sources != b.pair_sources:
        raise fail("b", f"counts of the sources {list(a.source_names)} ({len(a.pair_sources)} in pairs) and "
                   f"{a.n_classes} classes", got_text=f"{list(b.source_names)} ({len(b.pair_sources)} in pairs) and "
                   f"{b.n_classes} classes")
    agrees = None if a.model_agrees is None or b.model_agrees is None else a.model_agrees + b.model_agrees
    samples = None
    if a.samples is not None and b.samples is not None:
        limit = sample_limit(max_samples, len(a.source_names))
        samples = {name: _first(a.samples[name], b.samples[name], limit) for name in a.source_names}
    return SourceAgreement(a.source_names, a.n_sources, a.n_items + b.n_items, a.n_classes,
                           a.co_votes + b.co_votes, a.agreements + b.agreements, a.class_votes + b.class_votes,
                           agrees, samples)


def _first(a: Samples, b: Samples, limit: int) -> Samples:
    return tuple(np.concatenate([x, y])[:limit] for x, y in zip(a, b))  # type: ignore[return-value]


def reduce_agreement(plm: PartitionedLabelMatrix, soft: PartitionedSoftLabels | None = None, *,
                     max_pair_sources: int = MAX_AGREEMENT_SOURCES, max_samples: int = MAX_DISAGREEMENT_SAMPLES,
                     split_every: int = 8) -> SourceAgreement:
    """:func:`agreement_counts` of partitioned votes (and soft labels), tree-reduced by Dask.

    Each task reads one votes partition (and the soft-label partition with
    the same rows, whose arg-max is the label model's label) and counts; the
    counts are merged in partition order, so the client receives one
    :class:`SourceAgreement`, equal to :func:`agreement_counts` of the
    concatenated votes.

    Parameters
    ----------
    plm : PartitionedLabelMatrix
    soft : PartitionedSoftLabels, optional
        The label model's soft labels of ``plm`` (same partitions).
    max_pair_sources, max_samples : int
        As in :func:`agreement_counts`. With more sources than
        ``max_pair_sources``, a :class:`UserWarning` says how many are left
        out of the pairwise counts (every partial result holds two
        ``(p, p)`` int64 matrices: ``16 p^2`` bytes).
    split_every : int, default=8

    Returns
    -------
    SourceAgreement

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> plm = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(np.array([[0, 0], [0, 1]])),
    ...                                                          LabelMatrix(np.array([[1, 1]]))])
    >>> reduce_agreement(plm).agreement_rate().round(2).tolist()
    [[1.0, 0.67], [0.67, 1.0]]
    """
    from .dask_ops import map_reduce

    max_pair_sources = check_int("max_pair_sources", max_pair_sources, low=1)
    if plm.n_sources > max_pair_sources:
        warn(f"reduce_agreement: pairwise agreement is counted for the first {max_pair_sources} of "
                      f"{plm.n_sources} sources only (max_pair_sources={max_pair_sources}: each partial result holds "
                      f"2 x {max_pair_sources}^2 int64); agreement with the label model and disagreement samples cover "
                      "all sources. Pass a larger max_pair_sources to count more pairs.", UserWarning)
    if soft is not None and tuple(soft.partition_rows) != tuple(plm.partition_rows):
        raise fail("soft", f"partitions of {list(plm.partition_rows)} rows (as the votes)",
                   got_text=f"{list(soft.partition_rows)}")

    def count(i: int) -> SourceAgreement:
        hard = None if soft is None else _model_labels(soft, i)
        return agreement_counts(plm.read_partition(i), hard, max_pair_sources=max_pair_sources,
                                max_samples=max_samples)

    def merge(a: SourceAgreement, b: SourceAgreement) -> SourceAgreement:
        return merge_agreement(a, b, max_samples=max_samples)

    return map_reduce(plm.n_partitions, count, merge, split_every=split_every)


def _model_labels(soft: PartitionedSoftLabels, i: int) -> np.ndarray:
    proba = soft.read_partition(i).proba
    return np.argmax(proba, axis=1).astype(np.int64)

