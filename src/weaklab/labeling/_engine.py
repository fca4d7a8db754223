"""Running labeling functions over one pandas DataFrame, batch by batch (the local and Dask engines).

:func:`run_frame` walks the frame in batches: vectorized LFs run over each
whole batch, row-wise LFs row by row (in a process pool when ``n_jobs > 1``;
the built-in templates then also run in threads), into one
:class:`FrameResult`. The Dask engine runs it on every partition.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN
from .._core.label_matrix import vote_dtype
from .._core.validation import fail
from ._batch import MAX_FAULT_RECORDS, Batch, LFFault, require_fields
from ._execute import run_batch
from ._pool import RowWisePool
from ._progress import progress_bar
from .lf import LabelingFunction

__all__ = ["FrameResult", "run_frame", "item_ids", "check_fields"]


@dataclass
class FrameResult:
    """Votes and statistics of all LFs over one DataFrame."""

    votes: np.ndarray
    seconds: np.ndarray
    covered: np.ndarray
    n_faults: np.ndarray
    records: list[list[LFFault]]
    named: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (m,): voted class names

    @classmethod
    def empty(cls, n: int, m: int, n_classes: int | None) -> FrameResult:
        dtype = vote_dtype(n_classes) if n_classes is not None else np.dtype(np.int8)
        return cls(np.full((n, m), ABSTAIN, dtype=dtype), np.zeros(m), np.zeros(m, dtype=np.int64),
                   np.zeros(m, dtype=np.int64), [[] for _ in range(m)], np.zeros(m, dtype=bool))

    def put(self, j: int, start: int, votes: np.ndarray, n_faults: int,
            records: list[LFFault], seconds: float, named: bool = False) -> None:
        """Store one LF's votes on rows ``start:start+len(votes)`` and its statistics."""
        if named:
            self.named[j] = True
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
    class_names: Sequence[str] | None = None,
    row_offset: int = 0,
    class_renames: Mapping[str, str] | None = None,
) -> FrameResult:
    """Run ``lfs`` over ``frame`` batch by batch into a :class:`FrameResult`.

    ``row_offset``: the row of the whole data that ``frame`` starts at (the
    rows errors and fault records name).
    """
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
            batch = Batch(frame.iloc[start:stop], offset=row_offset + start,
                          item_ids=None if ids is None else ids[start:stop],
                          n_classes=n_classes, on_error=on_error, class_names=class_names,
                          class_renames=class_renames)
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


def _timed_run(lf: LabelingFunction, batch: Batch) -> tuple[np.ndarray, int, list[LFFault], float, bool]:
    began = time.perf_counter()
    votes, log = run_batch(lf, batch)
    return votes, log.count, log.records, time.perf_counter() - began, log.named


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
