"""Label models on a :class:`~weaklab.PartitionedLabelMatrix`: fit from reduced statistics, predict per partition.

``fit`` reduces the votes' statistics over the partitions once (a tree of
Dask tasks, see :func:`weaklab._core.partition_stats.reduce_statistics`) and
hands them to the model's ``_fit_reduced``; the client never reads a
partition. ``predict_proba`` maps the fitted model over the partitions, each
task writing its soft labels to Parquet beside the votes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core.dask_ops import map_partitions, map_reduce
from .._core.dataset_io import join, write_frame
from .._core.partition_stats import MAX_OVERLAP_DIM, PartitionStatistics
from .._core.partitioned import ITEM_ID, PartitionedLabelMatrix, PartitionedSoftLabels, proba_columns, soft_file
from .._core.validation import check_class_balance, check_labels, fail, validate_params
from ._base import random_gold
from ._onehot import one_hot_from_dense
from ._votes import VoteData

if TYPE_CHECKING:
    from ._base import LabelModel

__all__ = ["fit_partitioned", "predict_partitioned", "pattern_votes", "mean_voted_posterior", "reduced_overlaps",
           "SOFT_LABELS_DIR"]

SOFT_LABELS_DIR = "soft_labels"
"""Default folder of the soft labels, inside the votes' root."""


def fit_partitioned(model: LabelModel, plm: PartitionedLabelMatrix, *, gold: Any, class_balance: Any,
                    gold_sampling: str | np.ndarray = "random") -> None:
    """Fit ``model`` on the reduced statistics of ``plm`` (validates, then calls ``model._fit_reduced``).

    ``gold`` follows the in-memory rules: ``(n_items,)`` with -1 for unknown,
    ignored when chosen by a query strategy (``gold_sampling="active"``, or
    the items marked ``"active"`` of a per-item array) and the model does
    not clamp it, taken only by ``fits_partitioned_gold`` models.
    """
    validate_params(model, model._parameter_spec)
    name = type(model).__name__
    if gold is not None:
        gold = check_labels("gold", gold, plm.n_classes, length=plm.n_items, allow_abstain=True)
        if not model._clamps_gold:
            gold = random_gold(gold, gold_sampling)
        if gold is not None and not (gold >= 0).any():
            gold = None
    if gold is not None and not model.fits_partitioned_gold:
        raise fail("gold", f"None when {name} is fitted on a PartitionedLabelMatrix (models with "
                   "fits_partitioned_gold take it: MajorityVote, MatrixCompletion, Triplet)", got_text="gold labels")
    if plm.n_sources < model._min_sources:
        raise fail("L", f"at least {model._min_sources} sources for {name}", got_text=f"{plm.n_sources} source(s)")
    balance = check_class_balance("class_balance", class_balance, plm.n_classes)
    stats = plm.statistics()
    if stats.n_items == 0:
        raise fail("L", "at least one item", got_text="an empty PartitionedLabelMatrix")
    if not stats.source_votes.any():
        raise fail("L", "at least one non-abstain vote", got_text="partitions in which every vote abstains")
    model._fit_reduced(plm, stats, balance, gold)
    model.n_sources_ = plm.n_sources
    model.n_classes_ = plm.n_classes
    model.source_names_ = list(plm.source_names)
    model.class_names_ = None if plm.class_names is None else list(plm.class_names)


def predict_partitioned(model: LabelModel, plm: PartitionedLabelMatrix, output: Any) -> PartitionedSoftLabels:
    """Write ``model.predict_proba`` of every partition of ``plm`` to ``output`` (default ``ROOT/soft_labels``).

    Partition ``i`` of the result holds the rows of votes partition ``i``
    in order; ``_weaklab.json`` is written last.
    """
    model._check_fitted()
    root = join(plm.root, SOFT_LABELS_DIR) if output is None else _as_root(output)
    k = model.n_classes_
    if plm.n_classes > k:
        raise fail("L", f"votes with at most {k} classes (as fitted)", got_text=f"n_classes={plm.n_classes}")
    storage = plm.storage_options

    def write(i: int) -> int:
        votes = plm.read_partition(i)
        proba = model.predict_proba(votes)
        frame = {ITEM_ID: votes.item_ids, **dict(zip(proba_columns(k), proba.T, strict=True))}
        write_frame(pd.DataFrame(frame), root, soft_file(i), storage)
        return int(proba.shape[0])

    rows = map_partitions(plm.n_partitions, write)
    names = None if model.class_names_ is None else tuple(model.class_names_)
    soft = PartitionedSoftLabels(root, k, tuple(soft_file(i) for i in range(plm.n_partitions)), tuple(rows),
                                 names, model.fingerprint_, plm.root, storage)
    soft.save_metadata()
    return soft


def _as_root(output: Any) -> str:
    if isinstance(output, str):
        return output
    if hasattr(output, "__fspath__"):
        return str(output.__fspath__())
    raise fail("output", "a path or an fsspec URL", output)


def pattern_votes(stats: PartitionStatistics) -> VoteData:
    """The reduced vote patterns as weighted fit units (requires ``stats.patterns``)."""
    if stats.patterns is None or stats.pattern_counts is None:
        raise ValueError("pattern_votes needs statistics that kept their pattern table")
    patterns = np.ascontiguousarray(stats.patterns)
    return VoteData(stats.n_items, stats.n_sources, stats.n_classes,
                    weights=stats.pattern_counts.astype(np.float64), patterns=patterns,
                    design=one_hot_from_dense(patterns, stats.n_classes))


def reduced_overlaps(model: Any, stats: PartitionStatistics) -> np.ndarray:
    """The reduced ``(m k, m k)`` overlap counts as float64, or the error naming ``model`` when too many sources."""
    if stats.overlaps is None:
        raise fail("L", f"at most {MAX_OVERLAP_DIM} source-class pairs for {type(model).__name__} on partitioned "
                   "votes (its overlap matrix is (m k)^2)",
                   got_text=f"{stats.n_sources} sources x {stats.n_classes} classes")
    return stats.overlaps.astype(np.float64)


def mean_voted_posterior(plm: PartitionedLabelMatrix, posterior: Callable[[Any], np.ndarray],
                         fallback: np.ndarray) -> np.ndarray:
    """Mean of ``posterior(partition)`` over the items with at least one vote, reduced over partitions.

    ``fallback`` is returned when no item has a vote.
    """

    def partial(i: int) -> tuple[np.ndarray, int]:
        part = plm.read_partition(i)
        voted = part.votes_per_item() > 0
        return posterior(part)[voted].sum(axis=0), int(voted.sum())

    total, count = map_reduce(plm.n_partitions, partial, lambda a, b: (a[0] + b[0], a[1] + b[1]))
    return total / count if count else fallback
