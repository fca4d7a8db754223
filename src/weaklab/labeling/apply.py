"""Appliers: run labeling functions over data into a LabelMatrix and an ApplyReport.

The local engine walks the data in batches. Vectorized LFs run over each
whole batch as column operations; row-wise LFs run row by row, in a process
pool when ``n_jobs > 1`` (the built-in templates then also run in threads:
their Arrow/RE2 kernels release the GIL). Votes go straight into one preallocated ``int8``
matrix (``int16`` beyond 127 classes), so memory stays near the data plus the
matrix. ``engine="dask"`` runs the same per-batch code on each partition of a
Dask DataFrame (see :mod:`weaklab.labeling.dask_apply`).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN, TINY
from .._core.label_matrix import LabelMatrix, vote_dtype
from .._core.validation import check_bool, check_choice, check_int, describe, fail
from ._batch import MAX_FAULT_RECORDS, Batch, LFFault, require_fields
from ._execute import run_batch
from ._pool import RowWisePool
from ._progress import progress_bar
from .lf import LabelingFunction

__all__ = ["ApplyReport", "LFFault", "apply_lfs"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50_000


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
            "n_jobs": self.n_jobs,
        }


def apply_lfs(
    lfs: Sequence[LabelingFunction],
    data: Any,
    *,
    engine: str = "local",
    n_jobs: int = 1,
    progress: bool = True,
    on_error: str = "raise",
    batch_size: int = DEFAULT_BATCH_SIZE,
    item_id: str | None = None,
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
) -> tuple[LabelMatrix, ApplyReport]:
    """Apply labeling functions to every item of ``data``.

    Parameters
    ----------
    lfs : sequence of LabelingFunction
        Sources to run; their names (unique) become the matrix's source
        names and their fingerprints its source versions.
    data : pandas.DataFrame, list of dicts or dict of columns
        One row per item (a Dask DataFrame with ``engine="dask"``).
    engine : {"local", "dask"}, default="local"
        Where to run. ``"dask"`` needs the ``dask`` extra.
    n_jobs : int, default=1
        Worker processes for row-wise LFs; ``-1`` uses all cores (negative
        values count back from the number of cores, as in scikit-learn).
    progress : bool, default=True
        Show a transient progress bar on interactive terminals (never in
        logs or non-interactive runs).
    on_error : {"raise", "abstain"}, default="raise"
        On a fault (an LF raises or returns an invalid vote): raise
        :class:`~weaklab.errors.LFExecutionError` naming the LF and the item,
        or make that vote ``-1`` and record the fault in the report.
    batch_size : int, default=50000
        Items per batch (memory of per-batch work grows with it).
    item_id : str, optional
        Column holding unique item ids; by default the DataFrame index when
        it is unique.
    n_classes : int, optional
        Number of classes; inferred as ``max vote + 1`` (at least 2) when
        omitted, or from ``class_names``. With it, votes ``>= n_classes`` are
        faults.
    class_names : sequence of str, optional
        Names of the classes.

    Returns
    -------
    L : LabelMatrix
        Votes of shape ``(n_items, len(lfs))``, ``-1`` = abstain.
    report : ApplyReport
        Per-LF time, coverage and faults.
    """
    lfs = _check_lfs(lfs)
    check_choice("engine", engine, ("local", "dask"))
    check_choice("on_error", on_error, ("raise", "abstain"))
    n_jobs = _resolve_n_jobs(n_jobs)
    progress = check_bool("progress", progress)
    batch_size = check_int("batch_size", batch_size, low=1)
    k = _resolve_n_classes(n_classes, class_names)
    if item_id is not None and not isinstance(item_id, str):
        raise fail("item_id", "a column name or None", item_id)
    if engine == "dask":
        from .dask_apply import apply_dask

        return apply_dask(lfs, data, n_jobs=n_jobs, on_error=on_error, batch_size=batch_size,
                          item_id=item_id, n_classes=k, class_names=class_names)
    frame = as_frame(data)
    ids = item_ids(frame, item_id)
    check_fields(lfs, frame.columns)
    start = time.perf_counter()
    result = run_frame(lfs, frame, ids, n_classes=k, on_error=on_error, batch_size=batch_size,
                       n_jobs=n_jobs, progress=progress)
    return finish(lfs, result, ids, k, class_names, engine="local", n_jobs=n_jobs,
                  seconds=time.perf_counter() - start)


# ---------------------------------------------------------------------------
# Running LFs over a DataFrame (shared by the local and Dask engines).
# ---------------------------------------------------------------------------


@dataclass
class FrameResult:
    """Votes and statistics of all LFs over one DataFrame."""

    votes: np.ndarray
    seconds: np.ndarray
    covered: np.ndarray
    n_faults: np.ndarray
    records: list[list[LFFault]]

    @classmethod
    def empty(cls, n: int, m: int, n_classes: int | None) -> FrameResult:
        dtype = vote_dtype(n_classes) if n_classes is not None else np.dtype(np.int8)
        return cls(np.full((n, m), ABSTAIN, dtype=dtype), np.zeros(m), np.zeros(m, dtype=np.int64),
                   np.zeros(m, dtype=np.int64), [[] for _ in range(m)])

    def put(self, j: int, start: int, votes: np.ndarray, n_faults: int,
            records: list[LFFault], seconds: float) -> None:
        """Store one LF's votes on rows ``start:start+len(votes)`` and its statistics."""
        if votes.size and votes.max() > np.iinfo(self.votes.dtype).max:
            self.votes = self.votes.astype(np.int16)
        self.votes[start:start + votes.size, j] = votes
        self.seconds[j] += seconds
        self.covered[j] += int(np.count_nonzero(votes != ABSTAIN))
        self.n_faults[j] += n_faults
        room = MAX_FAULT_RECORDS - len(self.records[j])
        self.records[j].extend(records[:max(room, 0)])


def run_frame(
    lfs: list[LabelingFunction],
    frame: pd.DataFrame,
    ids: np.ndarray | None,
    *,
    n_classes: int | None,
    on_error: str,
    batch_size: int,
    n_jobs: int = 1,
    progress: bool = False,
) -> FrameResult:
    """Run ``lfs`` over ``frame`` batch by batch into a :class:`FrameResult`."""
    n = len(frame)
    result = FrameResult.empty(n, len(lfs), n_classes)
    parallel = n_jobs > 1 and n > 0
    pooled = [j for j, lf in enumerate(lfs) if not lf.vectorized] if parallel else []
    threaded = [j for j, lf in enumerate(lfs) if lf._thread_safe] if parallel else []
    serial = [j for j in range(len(lfs)) if j not in set(pooled) | set(threaded)]
    with (RowWisePool([lfs[j] for j in pooled], n_jobs) as pool,
          ThreadPoolExecutor(n_jobs if threaded else 1) as threads,
          progress_bar(progress, n) as advance):
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            batch = Batch(frame.iloc[start:stop], offset=start,
                          item_ids=None if ids is None else ids[start:stop],
                          n_classes=n_classes, on_error=on_error)
            for lf in lfs:
                lf._prepare(batch)
            pending = pool.submit(batch) if pooled else None
            running = [(j, threads.submit(_timed_run, lfs[j], batch)) for j in threaded]
            for j in serial:
                result.put(j, start, *_timed_run(lfs[j], batch))
            for j, future in running:
                result.put(j, start, *future.result())
            if pending is not None:
                for j, outcome in zip(pooled, pool.gather(pending)):
                    result.put(j, start, *outcome)
            advance(stop - start)
    return result


def _timed_run(lf: LabelingFunction, batch: Batch) -> tuple[np.ndarray, int, list[LFFault], float]:
    began = time.perf_counter()
    votes, log = run_batch(lf, batch)
    return votes, log.count, log.records, time.perf_counter() - began


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
    n = votes.shape[0]
    report = ApplyReport(
        lf_names=tuple(lf.name for lf in lfs),
        seconds=tuple(float(s) for s in result.seconds),
        coverage=tuple(float(c) / n if n else 0.0 for c in result.covered),
        n_faults=tuple(int(c) for c in result.n_faults),
        faults=tuple(f for records in result.records for f in records),
        total_seconds=float(seconds), n_items=n, engine=engine, n_jobs=n_jobs,
    )
    if report.n_faults_total:
        warnings.warn(
            f"{report.n_faults_total} vote(s) were lost to labeling-function faults and became "
            "abstains; see report.faults",
            RuntimeWarning, stacklevel=3,
        )
    logger.debug("applied %d LFs to %d items in %.3fs", len(lfs), n, seconds)
    return matrix, report


# ---------------------------------------------------------------------------
# Validation of the inputs.
# ---------------------------------------------------------------------------


def _check_lfs(lfs: Any) -> list[LabelingFunction]:
    if isinstance(lfs, LabelingFunction) or not isinstance(lfs, Sequence) or isinstance(lfs, str):
        raise fail("lfs", "a list of LabelingFunction", lfs)
    lfs = list(lfs)
    if not lfs:
        raise fail("lfs", "at least one labeling function", lfs)
    for lf in lfs:
        if not isinstance(lf, LabelingFunction):
            hint = " (decorate it with @labeling_function)" if callable(lf) else ""
            raise fail("lfs", f"LabelingFunction objects{hint}", lf)
    names = [lf.name for lf in lfs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise fail("lfs", "labeling functions with unique names (pass name=... to tell them apart)",
                   got_text=f"the name {dupes[0]!r} {names.count(dupes[0])} times")
    return lfs


def _resolve_n_jobs(n_jobs: Any) -> int:
    n_jobs = check_int("n_jobs", n_jobs)
    if n_jobs == 0:
        raise fail("n_jobs", "a positive number of processes or a negative count back from the cores", 0)
    cores = os.cpu_count() or 1
    return n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)


def _resolve_n_classes(n_classes: Any, class_names: Any) -> int | None:
    if n_classes is not None:
        return check_int("n_classes", n_classes, low=2)
    if class_names is not None:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence):
            raise fail("class_names", "a sequence of class names", class_names)
        return check_int("n_classes", len(class_names), low=2)
    return None


def as_frame(data: Any) -> pd.DataFrame:
    """``data`` as a pandas DataFrame (from a list of dicts or a dict of columns)."""
    if isinstance(data, pd.DataFrame):
        return data
    if type(data).__module__.startswith("dask"):
        raise fail("data", "a pandas DataFrame for engine='local' (use engine='dask')", data)
    expected = "a pandas DataFrame, a list of dicts or a dict of columns"
    if isinstance(data, Mapping) or (isinstance(data, list) and all(isinstance(r, Mapping) for r in data)):
        try:
            return pd.DataFrame(dict(data) if isinstance(data, Mapping) else data)
        except (ValueError, TypeError) as exc:
            raise fail("data", expected, got_text=f"{describe(data)} ({exc})") from None
    raise fail("data", expected, data)


def item_ids(frame: pd.DataFrame, item_id: str | None) -> np.ndarray | None:
    """Ids from column ``item_id``, else the index when unique, else ``None``."""
    if item_id is None:
        return frame.index.to_numpy() if frame.index.is_unique else None
    if item_id not in frame.columns:
        raise fail("item_id", "a column of the data", got_text=f"{item_id!r}; columns {list(frame.columns)}")
    index = pd.Index(frame[item_id])
    if not index.is_unique:
        raise fail("item_id", "a column of unique ids",
                   got_text=f"the duplicate id {index[index.duplicated()][0]!r}")
    if index.hasnans:
        raise fail("item_id", "a column without missing ids", got_text="missing ids")
    return frame[item_id].to_numpy()


def check_fields(lfs: list[LabelingFunction], columns: Any) -> None:
    """Fail early when an LF without preprocessors reads a missing column."""
    empty = pd.DataFrame(columns=list(columns))
    for lf in lfs:
        if lf.fields and not lf.pre:
            require_fields(empty, lf.fields, lf.name)
