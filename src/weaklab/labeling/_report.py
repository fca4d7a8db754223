"""The report of applying labeling functions, and building it with the label matrix at the end of a run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN, TINY
from .._core.label_matrix import LabelMatrix, vote_dtype
from .._core.warn import warn
from ._batch import LFFault
from ._engine import FrameResult
from .lf import LabelingFunction

__all__ = ["ApplyReport", "finish", "make_report"]

logger = logging.getLogger("weaklab.labeling.apply")


@dataclass(frozen=True)
class ApplyReport:
    """What happened while applying labeling functions.

    Attributes
    ----------
    lf_names : tuple of str
        The labeling functions, in matrix column order.
    seconds : tuple of float
        Time spent in each LF (summed over workers and batches).
    coverage : tuple of float
        Fraction of items each LF voted on (did not abstain).
    n_faults : tuple of int
        Votes of each LF lost to faults (``on_error="abstain"``).
    faults : tuple of LFFault
        Fault records (at most 1000 per LF; counts stay exact).
    total_seconds : float
        Wall-clock time of the whole application.
    n_items : int
        Number of items labelled.
    engine : str
        ``"local"`` or ``"dask"``.
    n_jobs : int
        Worker processes used for row-wise LFs (local engine).
    partitions_reused : int
        Partitions whose votes an earlier run had written completely and
        were reused without running the LFs (the Dask engine with ``output``);
        0 otherwise.
    by_name : tuple of bool
        Whether each LF voted class *names* (mapped to ids through the class
        list, so its votes follow a reordered list); empty when unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import LabelingFunction, apply_lfs, keyword_lf
    >>> def fragile(x):
    ...     return 1 if x.text.split()[1] == "money" else -1
    >>> lfs = [keyword_lf("free", 1), LabelingFunction("fragile", fragile)]
    >>> L, report = apply_lfs(lfs, pd.DataFrame({"text": ["free money", "hi"]}), on_error="abstain", progress=False)
    >>> report.lf_names, report.coverage, report.n_faults
    (('keyword_free', 'fragile'), (0.5, 0.5), (0, 1))
    >>> report.faults[0].lf_name, report.faults[0].row
    ('fragile', 1)
    """

    lf_names: tuple[str, ...]
    seconds: tuple[float, ...]
    coverage: tuple[float, ...]
    n_faults: tuple[int, ...]
    faults: tuple[LFFault, ...] = field(repr=False)
    total_seconds: float
    n_items: int
    engine: str
    n_jobs: int
    partitions_reused: int = 0
    by_name: tuple[bool, ...] = ()

    @property
    def n_faults_total(self) -> int:
        """Votes lost to faults, over all labeling functions."""
        return int(sum(self.n_faults))

    @property
    def items_per_second(self) -> float:
        """Throughput of the whole application."""
        return self.n_items / self.total_seconds if self.total_seconds > 0 else float("inf")

    def to_frame(self) -> pd.DataFrame:
        """One row per LF: ``seconds``, ``coverage``, ``n_faults``, ``items_per_second``."""
        seconds = np.asarray(self.seconds, dtype=np.float64)
        with np.errstate(divide="ignore"):
            speed = np.where(seconds > 0, self.n_items / np.maximum(seconds, TINY), np.inf)
        frame = pd.DataFrame(
            {"seconds": seconds, "coverage": self.coverage, "n_faults": self.n_faults,
             "items_per_second": speed},
            index=pd.Index(self.lf_names, name="lf"),
        )
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for the store)."""
        return {
            "lf_names": list(self.lf_names), "seconds": list(self.seconds), "coverage": list(self.coverage),
            "n_faults": list(self.n_faults), "faults": [f.to_dict() for f in self.faults],
            "total_seconds": self.total_seconds, "n_items": self.n_items, "engine": self.engine,
            "n_jobs": self.n_jobs, "partitions_reused": self.partitions_reused, "by_name": list(self.by_name),
        }


def finish(
    lfs: list[LabelingFunction],
    result: FrameResult,
    ids: np.ndarray | None,
    n_classes: int | None,
    class_names: Sequence[str] | None,
    *,
    engine: str,
    n_jobs: int,
    seconds: float,
) -> tuple[LabelMatrix, ApplyReport]:
    """Build the LabelMatrix and the ApplyReport from a finished run."""
    votes = result.votes
    k = n_classes if n_classes is not None else max(2, int(votes.max(initial=ABSTAIN)) + 1)
    if votes.dtype != vote_dtype(k):
        votes = votes.astype(vote_dtype(k))
    matrix = LabelMatrix(votes, n_classes=k, source_names=[lf.name for lf in lfs], class_names=class_names,
                         item_ids=ids, source_versions=[lf.fingerprint for lf in lfs])
    report = make_report(lfs, result, votes.shape[0], engine=engine, n_jobs=n_jobs, seconds=seconds)
    return matrix, report


def make_report(lfs: list[LabelingFunction], result: FrameResult, n: int, *, engine: str, n_jobs: int,
                seconds: float, partitions_reused: int = 0) -> ApplyReport:
    """The :class:`ApplyReport` of ``n`` items from the statistics in ``result`` (its votes are not read).

    Warns when votes were lost to faults.
    """
    report = ApplyReport(
        lf_names=tuple(lf.name for lf in lfs),
        seconds=tuple(float(s) for s in result.seconds),
        coverage=tuple(float(c) / n if n else 0.0 for c in result.covered),
        n_faults=tuple(int(c) for c in result.n_faults),
        faults=tuple(f for records in result.records for f in records),
        total_seconds=float(seconds), n_items=n, engine=engine, n_jobs=n_jobs,
        partitions_reused=partitions_reused,
        by_name=tuple(bool(v) for v in result.named) if len(result.named) == len(lfs) else (),
    )
    if report.n_faults_total:
        warn(
            f"{report.n_faults_total} vote(s) were lost to labeling-function faults and became "
            "abstains; see report.faults",
            RuntimeWarning,
        )
    logger.debug("applied %d LFs to %d items in %.3fs", len(lfs), n, seconds)
    return report
