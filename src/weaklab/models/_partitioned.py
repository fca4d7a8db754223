"""Label models on a :class:`~weaklab.PartitionedLabelMatrix`: fit from reduced statistics, predict per partition.

``fit`` reduces the votes' statistics over the partitions once (a tree of
Dask tasks, see :func:`weaklab._core.partition_stats.reduce_statistics`) and
hands them to the model's ``_fit_reduced``; the client never reads a
partition. ``predict_proba`` maps the fitted model over the partitions, each
task writing its soft labels to Parquet beside the votes.

A model whose fit needs the votes themselves (``AutoLabelModel``: its
choice holds items out) fits instead on an in-memory uniform random sample
of the items, drawn partition by partition (:func:`sample_partitioned`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core import LabelMatrix
from .._core.dask_ops import map_partitions, map_reduce
from .._core.dataset_io import join, write_frame
from .._core.partition_stats import MAX_OVERLAP_DIM, PartitionStatistics
from .._core.partitioned import ITEM_ID, PartitionedLabelMatrix, PartitionedSoftLabels, proba_columns, soft_file
from .._core.patterns import vote_patterns
from .._core.validation import check_class_balance, check_int, check_labels, fail, validate_params
from .._core.warn import warn
from ._base import random_gold
from ._onehot import one_hot_from_dense
from ._votes import VoteData

if TYPE_CHECKING:
    from ._base import LabelModel

__all__ = ["FitSample", "fit_partitioned", "gold_by_partition", "keyed_pattern_votes", "mean_voted_posterior",
           "partition_gold", "pattern_votes", "predict_partitioned", "reduce_with_gold", "reduced_overlaps",
           "sample_partitioned", "SOFT_LABELS_DIR"]

SOFT_LABELS_DIR = "soft_labels"
"""Default folder of the soft labels, inside the votes' root."""


def fit_partitioned(model: LabelModel, plm: PartitionedLabelMatrix, *, gold: Any, class_balance: Any,
                    gold_sampling: str | np.ndarray = "random") -> None:
    """Fit ``model`` on the reduced statistics of ``plm`` (validates, then calls ``model._fit_reduced``).

    A model with ``_fits_on_sample`` (``AutoLabelModel``) is fitted in memory
    on a uniform random sample of the items instead (:func:`_fit_on_sample`).

    ``gold`` follows the in-memory rules: ``(n_items,)`` with -1 for unknown,
    ignored when chosen by a query strategy (``gold_sampling="active"``, or
    the items marked ``"active"`` of a per-item array) and the model does
    not clamp it, taken only by ``fits_partitioned_gold`` models (each uses it
    as its in-memory fit does, see :func:`reduce_with_gold`).
    """
    validate_params(model, model._parameter_spec)
    if type(model)._fits_on_sample:
        _fit_on_sample(model, plm, gold, class_balance, gold_sampling)
    else:
        _fit_on_statistics(model, plm, gold, class_balance, gold_sampling)
    model.n_sources_ = plm.n_sources
    model.n_classes_ = plm.n_classes
    model.source_names_ = list(plm.source_names)
    model.class_names_ = None if plm.class_names is None else list(plm.class_names)


def _fit_on_statistics(model: LabelModel, plm: PartitionedLabelMatrix, gold: Any, class_balance: Any,
                       gold_sampling: str | np.ndarray) -> None:
    """Validate, reduce the statistics of ``plm`` and call ``model._fit_reduced``."""
    name = type(model).__name__
    if gold is not None:
        gold = check_labels("gold", gold, plm.n_classes, length=plm.n_items, allow_abstain=True)
        if not model._clamps_gold:
            gold = random_gold(gold, gold_sampling)
        if gold is not None and not (gold >= 0).any():
            gold = None
    if gold is not None and not model.fits_partitioned_gold:
        raise fail("gold", f"None when {name} is fitted on a PartitionedLabelMatrix ({name} cannot use gold "
                   "there; fit it on a LabelMatrix, or pick a model with fits_partitioned_gold)",
                   got_text="gold labels")
    if plm.n_sources < model._min_sources:
        raise fail("L", f"at least {model._min_sources} sources for {name}", got_text=f"{plm.n_sources} source(s)")
    balance = check_class_balance("class_balance", class_balance, plm.n_classes)
    stats = plm.statistics()
    if stats.n_items == 0:
        raise fail("L", "at least one item", got_text="an empty PartitionedLabelMatrix")
    if not stats.source_votes.any():
        raise fail("L", "at least one non-abstain vote", got_text="partitions in which every vote abstains")
    model._fit_reduced(plm, stats, balance, gold)


def _fit_on_sample(model: Any, plm: PartitionedLabelMatrix, gold: Any, class_balance: Any,
                   gold_sampling: str | np.ndarray) -> None:
    """Fit ``model`` in memory on :func:`sample_partitioned` rows of ``plm``, with their gold (in-memory rules).

    Every item holding gold drawn at random joins the sample: the gold items
    are themselves a uniform sample, so the union still is one. At most
    ``max_fit_items`` of them are forced in (a uniform subset, seeded by the
    sample's seed, when more hold random gold: ``[data].fit_gold = "all"``
    on a large labelled split), so the sample stays bounded. Gold chosen by
    a query strategy is not forced in (the sample would no longer be
    uniform; ``AutoLabelModel`` does not use such gold, in a sample or in
    memory, see its Notes): ``fit_sample_`` counts the gold items
    (``n_gold``) and those in the sample (``n_gold_in_sample``), and of
    them the gold drawn at random (``n_random_gold``,
    ``n_random_gold_in_sample``), so a fit that left some out says so; a
    UserWarning names ``max_fit_items`` when random gold is left out.
    """
    name = type(model).__name__
    if plm.n_sources < model._min_sources:
        raise fail("L", f"at least {model._min_sources} sources for {name}", got_text=f"{plm.n_sources} source(s)")
    if plm.n_items == 0:
        raise fail("L", "at least one item", got_text="an empty PartitionedLabelMatrix")
    balance = check_class_balance("class_balance", class_balance, plm.n_classes)
    forced, drawn, n_random = None, None, 0
    if gold is not None:
        gold = check_labels("gold", gold, plm.n_classes, length=plm.n_items, allow_abstain=True)
        drawn = random_gold(gold, gold_sampling)
        forced = None if drawn is None else np.flatnonzero(drawn >= 0)
        n_random = 0 if forced is None else int(forced.size)
        if forced is not None and forced.size > model.max_fit_items:  # a bounded sample: a uniform subset of them
            rng = np.random.default_rng([model._sample_seed(), _GOLD_TAG])
            forced = np.sort(rng.choice(forced, size=model.max_fit_items, replace=False))
            cap = model.max_fit_items
            warn(f"{name}: {n_random:,} items hold gold drawn at random, more than max_fit_items={cap:,}: a uniform "
                 f"subset of {cap:,} of them is forced into the sample and the other {n_random - cap:,} reach the "
                 "fit only where the uniform draw takes them (raise max_fit_items to fit on all of them)")
    sample = sample_partitioned(plm, model.max_fit_items, model._sample_seed(), forced)
    if sample.n_voted == 0:
        raise fail("L", "at least one non-abstain vote", got_text="partitions in which every vote abstains")
    rows = sample.rows
    weight = model._fit_gold_weight  # fit's gold_weight (per item of plm): the sample's rows of it
    model._fit_gold_weight = None if weight is None else weight[rows]
    try:
        model._fit_on_sample(sample, None if gold is None else gold[rows], balance,
                            gold_sampling if isinstance(gold_sampling, str) else gold_sampling[rows])
    finally:
        model._fit_gold_weight = weight
    if gold is not None and isinstance(getattr(model, "fit_sample_", None), dict):  # gold outside it is not used
        model.fit_sample_.update(n_gold=int((gold >= 0).sum()), n_gold_in_sample=int((gold[rows] >= 0).sum()),
                                 n_random_gold=n_random,
                                 n_random_gold_in_sample=0 if drawn is None else int((drawn[rows] >= 0).sum()))


@dataclass(frozen=True)
class FitSample:
    """Rows of a :class:`~weaklab.PartitionedLabelMatrix` drawn for an in-memory fit (:func:`sample_partitioned`).

    Attributes
    ----------
    votes : LabelMatrix
        The sampled rows, in the order of the partitions.
    rows : ndarray of shape (n_sample,)
        Their rows in the whole matrix.
    n_items, n_voted : int
        Items, and items with at least one vote, of the whole matrix.
    n_drawn : int
        Voted items drawn at random (at most ``max_items``; the rest of the
        voted rows of the sample are forced in).
    max_items : int
        The cap on ``n_drawn``.
    seed : int
        Seed of the random keys.
    """

    votes: LabelMatrix
    rows: np.ndarray
    n_items: int
    n_voted: int
    n_drawn: int
    max_items: int
    seed: int

    @property
    def n_sample(self) -> int:
        """Rows in the sample."""
        return int(self.rows.shape[0])

    def describe(self) -> dict[str, Any]:
        """What the fit saw, JSON-able (recorded with a run)."""
        return {"n_sample": self.n_sample, "n_items": self.n_items, "n_voted": self.n_voted,
                "n_sample_voted": int((self.votes.votes_per_item() > 0).sum()), "n_drawn": self.n_drawn,
                "max_fit_items": self.max_items, "seed": self.seed, "sampled": self.n_sample < self.n_items}


@dataclass(frozen=True)
class _Piece:
    """The rows one partition keeps: global rows, random keys, voted and forced flags, and their votes."""

    rows: np.ndarray
    keys: np.ndarray
    voted: np.ndarray
    forced: np.ndarray
    votes: LabelMatrix

    def select(self, keep: np.ndarray) -> _Piece:
        return _Piece(self.rows[keep], self.keys[keep], self.voted[keep], self.forced[keep],
                      self.votes.select_items(np.flatnonzero(keep)))


@dataclass(frozen=True)
class _Drawn:
    """A partial sample of some partitions: their pieces (in order) and vote counts."""

    pieces: tuple[_Piece, ...]
    n_items: int
    n_voted: int


def sample_partitioned(plm: PartitionedLabelMatrix, max_items: int, seed: int,
                       forced: np.ndarray | None = None) -> FitSample:
    """A uniform random sample of the items of ``plm`` holding at most ``max_items`` voted items, in memory.

    Plain-loop specification::

        key[i] = uniform random number of item i (seeded by seed and its partition)
        t = the max_items-th smallest key among the voted items not in forced (+inf when fewer)
        sample = items with key[i] <= t (voted or not), plus the items of forced

    so items without a vote enter at the rate of the voted ones (the sample
    keeps the share of unvoted items). Each partition is read once on a
    worker and keeps its rows below its own threshold; a tree of tasks merges
    the partials, each keeping the rows below the merged threshold, so the
    client receives the sample only. Ties of keys go to the earlier row.

    Parameters
    ----------
    plm : PartitionedLabelMatrix
    max_items : int
        Most voted items drawn at random (at least 1).
    seed : int
        Seed of the keys (the same seed and partitions give the same sample).
    forced : ndarray of int, optional
        Global rows always in the sample (not counted in ``max_items``).

    Returns
    -------
    FitSample

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> votes = np.array([[0, -1], [-1, -1], [1, 1], [1, -1]] * 50)
    >>> plm = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(votes[:80]), LabelMatrix(votes[80:])])
    >>> sample = sample_partitioned(plm, max_items=30, seed=0)
    >>> sample.n_drawn, sample.n_voted, int((sample.votes.votes_per_item() > 0).sum())
    (30, 150, 30)
    >>> bool(np.all(np.diff(sample.rows) > 0)), sample_partitioned(plm, 1000, seed=0).n_sample
    (True, 200)
    """
    check_int("max_items", max_items, low=1)
    forced = np.zeros(0, dtype=np.int64) if forced is None else np.unique(np.asarray(forced, dtype=np.int64))
    offsets = plm.partition_offsets
    bounds = np.searchsorted(forced, np.append(offsets, plm.n_items))  # forced rows of each partition

    def partial(i: int) -> _Drawn:
        part = plm.read_partition(i)
        n = part.n_items
        keys = np.random.default_rng([seed, _SAMPLE_TAG, i]).random(n)
        is_forced = np.zeros(n, dtype=bool)
        is_forced[forced[bounds[i]:bounds[i + 1]] - offsets[i]] = True
        voted = part.votes_per_item() > 0
        piece = _Piece(np.arange(offsets[i], offsets[i] + n, dtype=np.int64), keys, voted, is_forced, part)
        return _cut(_Drawn((piece,), n, int(voted.sum())), max_items)

    def merge(a: _Drawn, b: _Drawn) -> _Drawn:
        return _cut(_Drawn(a.pieces + b.pieces, a.n_items + b.n_items, a.n_voted + b.n_voted), max_items)

    drawn = map_reduce(plm.n_partitions, partial, merge)
    parts = [p.votes for p in drawn.pieces]
    if any(p.is_sparse for p in parts):
        parts = [p.as_sparse() for p in parts]
    n_drawn = int(sum(int((p.voted & ~p.forced).sum()) for p in drawn.pieces))
    return FitSample(LabelMatrix.concat(parts), np.concatenate([p.rows for p in drawn.pieces]), drawn.n_items,
                     drawn.n_voted, n_drawn, int(max_items), int(seed))


_SAMPLE_TAG = 0x5A3D1E  # keeps the keys' stream apart from other uses of the same seed
_GOLD_TAG = 0x60D5  # the stream of the subset of random gold forced into a sample


def _cut(drawn: _Drawn, max_items: int) -> _Drawn:
    """``drawn`` with only the rows at or below the ``max_items``-th smallest (key, row) of its drawable votes."""
    drawable = [p.voted & ~p.forced for p in drawn.pieces]
    keys = np.concatenate([p.keys[d] for p, d in zip(drawn.pieces, drawable, strict=True)])
    if keys.size <= max_items:
        return drawn
    rows = np.concatenate([p.rows[d] for p, d in zip(drawn.pieces, drawable, strict=True)])
    last = np.lexsort((rows, keys))[max_items - 1]
    key, row = keys[last], rows[last]
    pieces = tuple(p.select(p.forced | (p.keys < key) | ((p.keys == key) & (p.rows <= row)))
                   for p in drawn.pieces)
    return _Drawn(tuple(p for p in pieces if p.rows.size), drawn.n_items, drawn.n_voted)


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


def gold_by_partition(plm: PartitionedLabelMatrix, gold: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per partition of ``plm``: the rows (within it) of the items with ``gold >= 0`` and their classes.

    Only the known items are kept (human answers are few), so a partition's
    task carries its own few rows, not the ``(n_items,)`` gold array.

    Examples
    --------
    >>> import tempfile
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> votes = LabelMatrix(np.array([[0, 1], [1, 1], [0, 0], [1, -1]]))
    >>> plm = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [votes.select_items([0, 1]), votes.select_items([2, 3])])
    >>> [(rows.tolist(), labels.tolist()) for rows, labels in gold_by_partition(plm, np.array([-1, 1, 0, -1]))]
    [([1], [1]), ([0], [0])]
    """
    known = np.flatnonzero(gold >= 0)
    offsets = np.asarray(plm.partition_offsets, dtype=np.int64)
    bounds = np.searchsorted(known, np.append(offsets, plm.n_items))
    return [(known[bounds[i]:bounds[i + 1]] - offsets[i], gold[known[bounds[i]:bounds[i + 1]]].astype(np.int64))
            for i in range(plm.n_partitions)]


def partition_gold(n_items: int, rows_labels: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    """The ``(n_items,)`` gold of one partition (-1 where unknown) from its :func:`gold_by_partition` entry."""
    if rows_labels is None or rows_labels[0].size == 0:
        return None
    gold = np.full(n_items, -1, dtype=np.int64)
    gold[rows_labels[0]] = rows_labels[1]
    return gold


def reduce_with_gold(plm: PartitionedLabelMatrix, gold: np.ndarray, func: Callable[[LabelMatrix, np.ndarray], Any],
                     combine: Callable[[Any, Any], Any], *, gold_partitions_only: bool = False) -> Any:
    """``combine`` of ``func(votes_i, gold_i)`` over the partitions (votes and ``(n_i,)`` gold of partition ``i``).

    How a model whose in-memory fit sums something over its gold items (a
    source's correct votes, the gold items' vote patterns) computes the same
    sum on partitioned votes: each partition's task reads its votes and gets
    only its own known rows (:func:`gold_by_partition`). With
    ``gold_partitions_only`` the partitions without a gold item are not read
    (``gold`` must hold one).
    """
    parts = gold_by_partition(plm, gold)
    read = [i for i in range(plm.n_partitions) if parts[i][0].size or not gold_partitions_only]

    def partial(j: int) -> Any:
        i = read[j]
        votes = plm.read_partition(i)
        found = partition_gold(votes.n_items, parts[i])
        return func(votes, np.full(votes.n_items, -1, dtype=np.int64) if found is None else found)

    return map_reduce(len(read), partial, combine)


def _gold_rows(votes: LabelMatrix, gold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    known = np.flatnonzero(gold >= 0)
    return votes.select_items(known).to_dense().astype(np.int64), gold[known]


def _stack(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]])


def keyed_pattern_votes(plm: PartitionedLabelMatrix, stats: PartitionStatistics, gold: np.ndarray) -> VoteData:
    """The reduced vote patterns as weighted fit units, the gold items kept apart with their class as key.

    What :func:`~weaklab.models._votes.prepare_votes` gives for ``keys=gold``
    on the whole matrix (units in another order): the votes of the gold
    items are read on the workers (as many rows as gold items), each is
    taken off the count of its pattern and joins a unit of its (pattern,
    class). Requires ``stats.patterns``.
    """
    if stats.patterns is None or stats.pattern_counts is None:
        raise ValueError("keyed_pattern_votes needs statistics that kept their pattern table")
    m, k = stats.n_sources, stats.n_classes
    patterns = np.asarray(stats.patterns, dtype=np.int64)
    rows, labels = reduce_with_gold(plm, gold, _gold_rows, _stack, gold_partitions_only=True)
    both = vote_patterns(np.vstack([patterns, rows.reshape(-1, m)]))
    unit_of_pattern = np.empty(both.patterns.shape[0], dtype=np.int64)
    unit_of_pattern[both.inverse[:len(patterns)]] = np.arange(len(patterns))
    counts = stats.pattern_counts.astype(np.float64).copy()
    np.subtract.at(counts, unit_of_pattern[both.inverse[len(patterns):]], 1.0)
    if (counts < 0).any():
        raise ValueError("keyed_pattern_votes: gold items whose votes are not among the statistics' patterns")
    keyed = vote_patterns(np.column_stack([rows.reshape(-1, m), labels]))
    left = counts > 0
    units = np.ascontiguousarray(np.vstack([patterns[left], keyed.patterns[:, :m]]))
    keys = np.concatenate([np.full(int(left.sum()), -1, dtype=np.int64), keyed.patterns[:, m].astype(np.int64)])
    weights = np.concatenate([counts[left], keyed.counts.astype(np.float64)])
    return VoteData(stats.n_items, m, k, weights=weights, patterns=units, design=one_hot_from_dense(units, k),
                    keys=keys)
