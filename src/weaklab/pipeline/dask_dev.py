"""What a Dask run measures on the items that hold gold, reduced over the partitions as the local engine measures it.

The local engine scores each source and the label model on the dev split's
gold rows: the ``analyse`` step records each source's empirical accuracy
(``emp_accuracy``, from :func:`~weaklab.labeling.lf_summary` with gold) and
the ``fit`` step the label model's ``accuracy``, ``macro_f1``, ``ece``,
``coverage_dev`` and ``accuracy_covered``
(:func:`~weaklab.pipeline.training.dev_metrics`). On the Dask engine each
partition's task counts what those need on its own gold rows (the rows the
run listed, :mod:`~weaklab.pipeline.dask_gold`): votes per source and class
on gold items, and the label model's confusion and confidence bins; a tree of
tasks sums the counts, and the same figures follow from the sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.constants import ABSTAIN
from .._core.dask_ops import import_dask, tree_reduce
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from ..labeling import gold_columns, gold_vote_counts
from .dask_train import ECE_BINS, confidence_bins, dev_metrics_from_counts

__all__ = ["label_model_dev_metrics", "source_gold_columns"]

GoldParts = Sequence[tuple[np.ndarray, np.ndarray]]


def source_gold_columns(plm: PartitionedLabelMatrix, gold: GoldParts) -> dict[str, np.ndarray]:
    """Each source's votes on the items that hold gold: the columns :func:`~weaklab.labeling.lf_summary` adds.

    Parameters
    ----------
    plm : PartitionedLabelMatrix
    gold : sequence of (rows, classes)
        Per partition, the rows (within it) that hold gold and their classes
        (:func:`~weaklab.pipeline.dask_gold.gold_by_partition`).

    Returns
    -------
    dict
        ``correct``, ``incorrect``, ``emp_acc`` (NaN for a source without a
        vote on gold) and one ``acc_<class>`` per class (class name, else id).
    """
    dask = import_dask()
    tasks = [dask.delayed(_source_counts)(plm, i, rows, labels) for i, (rows, labels) in enumerate(gold)]
    (correct, total), = dask.compute(tree_reduce(tasks, _add))
    return gold_columns(correct, total, plm.class_names)


def _source_counts(plm: PartitionedLabelMatrix, i: int, rows: np.ndarray,
                   labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~weaklab.labeling.gold_vote_counts` of partition ``i``'s gold rows (on a worker)."""
    part = plm.read_partition(i)
    gold = np.full(part.n_items, -1, dtype=np.int64)
    gold[rows] = labels
    return gold_vote_counts(part, gold)


def label_model_dev_metrics(soft: PartitionedSoftLabels, plm: PartitionedLabelMatrix,
                            gold: GoldParts) -> dict[str, Any]:
    """The label model's accuracy, macro F1, ECE, ``coverage_dev`` and ``accuracy_covered`` on the gold items.

    Parameters
    ----------
    soft : PartitionedSoftLabels
        The label model's soft labels (partitions of ``plm``).
    plm : PartitionedLabelMatrix
        The votes (an item with a vote is *covered*).
    gold : sequence of (rows, classes)
        As in :func:`source_gold_columns`.

    Returns
    -------
    dict
        As :func:`~weaklab.pipeline.training.dev_metrics` on the same items.
    """
    dask = import_dask()
    tasks = [dask.delayed(_dev_counts)(soft, plm, i, rows, labels) for i, (rows, labels) in enumerate(gold)]
    (confusion, binned, covered), = dask.compute(tree_reduce(tasks, _add))
    out = dev_metrics_from_counts(confusion, binned)
    n_dev, n_covered = float(confusion.sum()), float(covered.sum())
    if n_dev:
        out["coverage_dev"] = n_covered / n_dev
        if n_covered:
            out["accuracy_covered"] = float(np.trace(covered) / n_covered)
    return out


def _dev_counts(soft: PartitionedSoftLabels, plm: PartitionedLabelMatrix, i: int, rows: np.ndarray,
                labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confusion, confidence bins and covered items' confusion on the gold rows of partition ``i`` (on a worker)."""
    k = soft.n_classes
    confusion, covered = np.zeros((k, k)), np.zeros((k, k))
    binned = np.zeros((3, ECE_BINS))
    keep = labels < k
    rows, labels = rows[keep], labels[keep]
    if rows.size:
        q = soft.read_partition(i).proba[rows]
        pred, conf = np.argmax(q, axis=1), q.max(axis=1)
        confusion = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k).astype(np.float64)
        voted = (plm.read_partition(i).to_dense()[rows] != ABSTAIN).any(axis=1)
        covered = np.bincount(labels[voted] * k + pred[voted], minlength=k * k).reshape(k, k).astype(np.float64)
        bins = confidence_bins(conf)
        binned = np.stack([np.bincount(bins, minlength=ECE_BINS),
                           np.bincount(bins, weights=conf, minlength=ECE_BINS),
                           np.bincount(bins, weights=(pred == labels), minlength=ECE_BINS)]).astype(np.float64)
    return confusion, binned, covered


def _add(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(x + y for x, y in zip(a, b))
