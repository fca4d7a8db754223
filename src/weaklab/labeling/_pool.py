"""A process pool that runs the row-wise labeling functions of each batch.

The labeling functions are sent to each worker once (inherited by ``fork``
where that is safe, pickled otherwise, with ``cloudpickle`` as a fallback for
closures and lambdas); each task is one chunk of rows of a batch.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import numpy as np

from .._core.validation import fail
from ..errors import LFExecutionError
from ._batch import Batch, LFFault
from ._execute import run_batch

__all__ = ["RowWisePool"]

_WORKER_LFS: list[Any] = []
ChunkResult = tuple[np.ndarray, int, list[LFFault], float, bool]


class RowWisePool:
    """Context manager; a no-op when given no labeling functions."""

    def __init__(self, lfs: list[Any], n_jobs: int) -> None:
        self.lfs = lfs
        self.n_jobs = n_jobs
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> RowWisePool:
        if self.lfs:
            context = _context()
            payload: Any = self.lfs if context.get_start_method() == "fork" else _dumps(self.lfs)
            self._executor = ProcessPoolExecutor(
                max_workers=self.n_jobs, mp_context=context, initializer=_init_worker, initargs=(payload,)
            )
            self._executor.submit(int).result()  # start every worker now, before other threads
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, batch: Batch) -> list[Future[list[ChunkResult]]]:
        """Send the batch to the workers in ``n_jobs`` chunks of rows."""
        if self._executor is None:
            raise RuntimeError("RowWisePool used outside its context")
        n = len(batch)
        bounds = np.linspace(0, n, min(self.n_jobs, n) + 1).astype(int)
        futures = []
        for lo, hi in itertools.pairwise(bounds):
            ids = None if batch.item_ids is None else batch.item_ids[lo:hi]
            futures.append(self._executor.submit(
                _work, batch.frame.iloc[lo:hi], batch.offset + int(lo), ids, batch.n_classes, batch.on_error,
                batch.class_names, batch.class_renames))
        return futures

    def gather(self, futures: list[Future[list[ChunkResult]]]) -> list[ChunkResult]:
        """Per LF: votes of the whole batch, fault count, fault records, seconds, whether it voted names."""
        try:
            parts = [f.result() for f in futures]
        except LFExecutionError as exc:
            for f in futures:
                f.cancel()
            exc.__cause__ = exc.original
            raise exc from exc.original
        merged = []
        for j in range(len(self.lfs)):
            chunks = [part[j] for part in parts]
            merged.append((
                np.concatenate([c[0] for c in chunks]),
                sum(c[1] for c in chunks),
                [r for c in chunks for r in c[2]],
                sum(c[3] for c in chunks),
                any(c[4] for c in chunks),
            ))
        return merged


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _dumps(lfs: list[Any]) -> bytes:
    """Pickle the LFs for spawned workers (by value with cloudpickle where needed)."""
    in_main = any(getattr(lf.function, "__module__", None) == "__main__" for lf in lfs)
    first: Exception | None = None
    if not in_main:
        try:
            return pickle.dumps(lfs)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            first = exc
    try:
        import cloudpickle
    except ImportError:
        reason = str(first) if first is not None else "labeling functions defined in __main__"
        raise fail("lfs", "row-wise labeling functions that can be pickled for n_jobs > 1 "
                   "(define them in a module, install cloudpickle, or use n_jobs=1)",
                   got_text=reason) from None
    return cloudpickle.dumps(lfs)


def _init_worker(payload: Any) -> None:
    global _WORKER_LFS
    _WORKER_LFS = pickle.loads(payload) if isinstance(payload, bytes) else payload


def _work(frame: Any, offset: int, ids: Any, n_classes: int | None, on_error: str,
          class_names: Any = None, class_renames: Any = None) -> list[ChunkResult]:
    batch = Batch(frame, offset=offset, item_ids=ids, n_classes=n_classes, on_error=on_error, class_names=class_names,
                  class_renames=class_renames)
    out = []
    for lf in _WORKER_LFS:
        began = time.perf_counter()
        votes, log = run_batch(lf, batch)
        out.append((votes.astype(np.int16), log.count, log.records, time.perf_counter() - began, log.named))
    return out
