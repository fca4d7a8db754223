"""Distributed EM for Dawid-Skene on partitioned votes whose patterns do not compress (crowd-shaped data).

Every iteration is one Dask map-reduce: each partition computes the
posteriors of its own items under the current parameters (E-step) and returns
only their sums -- expected vote counts ``(m, k, k)``, expected class mass
``(k,)`` and its log-likelihood -- which a tree of tasks adds up; the client
runs the closed-form M-step (:class:`~weaklab.models._ds_steps.MStep`) on the
sums. Per iteration ``O(m k^2)`` numbers cross the network per partition,
whatever the number of items; the posteriors never leave the workers. With a
distributed Client, each partition's votes are read once and kept on the workers.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._core.dask_ops import load_partitions, reduce_loaded
from .._core.partitioned import PartitionedLabelMatrix
from ._ds_steps import MStep, Params, e_step, expected_counts, vote_share_posterior
from ._partitioned import partition_gold
from ._votes import VoteData, prepare_votes

__all__ = ["DistributedEM", "Sums"]

Sums = tuple[np.ndarray, np.ndarray, float]
"""Expected vote counts ``(m, k, k)``, expected class mass ``(k,)`` and the log-likelihood."""


def _add(a: Sums, b: Sums) -> Sums:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


class DistributedEM:
    """The E-step as a map-reduce over the partitions of ``plm``; the M-step is ``step`` on the client.

    Plugs into :func:`~weaklab.models._em.run_em` (``e_step(params)`` returns
    the reduced sums and the loss, ``m_step(params, sums)`` the new parameters).

    Parameters
    ----------
    plm : PartitionedLabelMatrix
    step : MStep
    split_every : int, default=8
        Partial sums added by one task of the reduction tree.
    gold : list of (rows, classes), optional
        Per partition, the rows (within it) of its gold items and their
        classes (:func:`~weaklab.models._partitioned.gold_by_partition`):
        clamped in every E-step, as an in-memory fit clamps them.
    """

    def __init__(self, plm: PartitionedLabelMatrix, step: MStep, *, split_every: int = 8,
                 gold: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.plm = plm
        self.step = step
        self.split_every = split_every
        self.parts = load_partitions(plm.n_partitions, functools.partial(_load, plm, gold))

    def initial(self) -> Params:
        """Parameters of one M-step on every item's vote shares (``init="majority"``)."""
        return self.m_step(None, self._reduce(None))

    def e_step(self, params: Params) -> tuple[Sums, float]:
        """Reduced sums of the posteriors under ``params``, and the loss per item."""
        sums = self._reduce(params)
        return sums, self.step.loss(sums[2], params, float(self.plm.n_items))

    def m_step(self, params: Params | None, sums: Sums) -> Params:
        """The closed-form M-step on reduced sums."""
        return self.step(sums[0], sums[1])

    def _reduce(self, params: Params | None) -> Sums:
        per_source = None if params is None else self.step.per_source(params)
        partial = functools.partial(partition_sums, per_source=per_source)
        result: Sums = reduce_loaded(self.parts, partial, _add, split_every=self.split_every)
        return result


def _load(plm: PartitionedLabelMatrix, gold: list[tuple[np.ndarray, np.ndarray]] | None, i: int) -> VoteData:
    votes = plm.read_partition(i)
    return prepare_votes(votes, keys=partition_gold(votes.n_items, None if gold is None else gold[i]))


def partition_sums(data: VoteData, per_source: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None) -> Sums:
    """E-step sums of the votes of one partition (runs on a worker).

    With ``per_source=None`` the posteriors are the items' vote shares (the
    majority initialisation) and the log-likelihood is 0. Units with a key
    (gold) are clamped to it in both.
    """
    vote_totals = np.asarray(data.design.T @ data.weights, dtype=np.float64)
    log_lik = 0.0
    if per_source is None:
        posterior = vote_share_posterior(data.class_counts())
        if data.keys is not None:
            known = np.flatnonzero(data.keys >= 0)
            posterior[known] = 0.0
            posterior[known, data.keys[known]] = 1.0
    else:
        confusion, prior, abstain = per_source
        posterior, log_lik = e_step(data.design, confusion, prior, vote_totals, data.weights, data.keys, abstain)
    counts = expected_counts(data.design, posterior, data.weights, vote_totals, data.n_sources)
    mass: Any = data.weights @ posterior
    return counts, np.asarray(mass, dtype=np.float64), float(log_lik)
