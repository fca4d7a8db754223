"""The dashboard's process state: the one writing Store, and caches of what a run recorded.

A run's records (matrix, soft labels, model state) are immutable once written,
so what the pages derive from them is computed once per run and kept. The
dashboard process is the store's only writer while it runs, so it knows when
its own writes (answers, corrections) make a derived value stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..errors import StoreError, ValidationError
from ..pipeline.review import ReviewRanking, TextLookup, review_order, run_summary
from ..store import Store

__all__ = ["DashboardState", "NotFound", "MatrixStats"]

T = TypeVar("T")

#: Seconds a run summary may lag behind the dashboard's own writes (gold from answers).
SUMMARY_MAX_AGE = 30.0
#: Beyond this many matrix cells, agreement and disagreement views use the first rows only.
MAX_CELLS = 60_000_000
#: Disagreement samples kept per source.
MAX_SAMPLES = 500


class NotFound(ValidationError):
    """A run, item, issue or source named by a request does not exist (HTTP 404)."""


class MatrixStats:
    """Agreement between sources and with the label model, over (up to ``MAX_CELLS`` of) a run's matrix.

    Attributes
    ----------
    names : list of str
        Source names, in matrix order.
    agreement : ndarray of shape (m, m)
        Fraction of items voted by both sources where they agree (NaN when none).
    class_agreement : ndarray of shape (m, k)
        Per voted class, the fraction of a source's votes the label model's hard label matches.
    disagreements : dict of str to tuple of ndarray
        Per source, ``(item_ids, its votes, the label model's labels)`` where it votes differently from the
        label model (at most ``MAX_SAMPLES``).
    n_rows : int
        Rows the statistics cover (fewer than the run's items when the matrix is larger than ``MAX_CELLS``).
    """

    def __init__(self, dense: np.ndarray, hard: np.ndarray, ids: np.ndarray, names: list[str], k: int) -> None:
        self.names = names
        self.n_rows = dense.shape[0]
        voted = (dense >= 0).astype(np.float32)
        both = voted.T @ voted
        same = np.zeros_like(both)
        for c in range(k):
            one = (dense == c).astype(np.float32)
            same += one.T @ one
        with np.errstate(invalid="ignore", divide="ignore"):
            self.agreement = np.where(both > 0, same / np.maximum(both, 1), np.nan)
        self.class_agreement = np.full((len(names), k), np.nan)
        self.disagreements: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for j, name in enumerate(names):
            col = dense[:, j]
            for c in range(k):
                mine = col == c
                if mine.any():
                    self.class_agreement[j, c] = float((hard[mine] == c).mean())
            rows = np.flatnonzero((col >= 0) & (col != hard))[:MAX_SAMPLES]
            self.disagreements[name] = (ids[rows], col[rows].astype(np.int64), hard[rows])


class DashboardState:
    """The store (opened for writing: the dashboard is its one writer) and per-run caches.

    Parameters
    ----------
    store_path : str or Path
        An existing store file.
    timeout : float, default=5.0
        Seconds a request waits while another process writes the store.
    """

    def __init__(self, store_path: str | Path, *, timeout: float = 5.0) -> None:
        path = Path(store_path)
        if not path.is_file():
            raise ValidationError(f"store: no weaklab store at {str(path)!r}; run `weaklab demo` (or a project "
                                  "step) first, or pass --store PATH")
        self.store = Store(path, timeout=timeout)
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._written = 0.0
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def close(self) -> None:
        """Close the store (releases its file lock)."""
        self.store.close()

    # ------------------------------------------------------------------ caching
    def cached(self, key: tuple[Any, ...], build: Callable[[], T], *, max_age: float | None = None) -> T:
        """The value under ``key``, built once (per key, even with concurrent requests).

        With ``max_age``, a value built before the dashboard's last write is
        rebuilt once it is older than ``max_age`` seconds.
        """
        with self._lock:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._cache.get(key)
            now = time.monotonic()
            if hit is not None and not _stale(hit[0], self._written, now, max_age):
                return hit[1]  # type: ignore[no-any-return]
            value = build()
            self._cache[key] = (time.monotonic(), value)
            return value

    def wrote(self) -> None:
        """Note a write by the dashboard (answers, corrections) so derived summaries refresh."""
        self._written = time.monotonic()

    # ------------------------------------------------------------------ runs
    def run_ids(self) -> list[int]:
        """Every run id, newest first."""
        return [int(r) for r in self.store.runs()["run_id"]]

    def resolve_run(self, run_id: int | None) -> int:
        """``run_id`` checked, or the newest run; NotFound when there is none."""
        if run_id is None:
            latest = self.store.latest_run_id()
            if latest is None:
                raise NotFound("run: the store has no runs yet; run `weaklab demo` first")
            return latest
        try:
            self.run_row(run_id)
        except (ValidationError, StoreError):
            raise NotFound(f"run_id: no run {run_id} in this store") from None
        return int(run_id)

    def run_row(self, run_id: int) -> dict[str, Any]:
        """The run's listing row (dataset, status, config, metrics)."""
        def build() -> dict[str, Any]:
            runs = self.store.runs()
            match = runs[runs["run_id"] == int(run_id)]
            if match.empty:
                raise NotFound(f"run_id: no run {run_id} in this store")
            return {str(k): v for k, v in match.iloc[0].to_dict().items()}
        return self.cached(("run_row", int(run_id)), build, max_age=5.0)

    def dataset_id(self, run_id: int) -> int:
        """The dataset of a run."""
        return int(self.run_row(run_id)["dataset_id"])

    def summary(self, run_id: int) -> Any:
        """The run's report data (:func:`weaklab.pipeline.review.run_summary`), cached."""
        return self.cached(("summary", run_id), lambda: run_summary(self.store, run_id), max_age=SUMMARY_MAX_AGE)

    def ranking(self, run_id: int) -> ReviewRanking:
        """The run's items in review order (least confident soft label first)."""
        return self.cached(("ranking", run_id), lambda: review_order(self.store, run_id))

    def texts(self, dataset_id: int) -> TextLookup:
        """Item texts of a dataset (from the table its meta names)."""
        return self.cached(("texts", dataset_id), lambda: TextLookup(self.store, dataset_id))

    def matrix_stats(self, run_id: int) -> MatrixStats | None:
        """Agreement statistics of the run's latest label matrix (None without a matrix or soft labels)."""
        return self.cached(("matrix_stats", run_id), lambda: self._matrix_stats(run_id))

    def _matrix_stats(self, run_id: int) -> MatrixStats | None:
        records = self.store.run_records(run_id)
        apps = records["applications"]
        if apps.empty:
            return None
        matrix = self.store.load_matrix(int(apps["application_id"].iloc[-1]))
        ranking = self.ranking(run_id) if len(records["soft_labels"]) else None
        if ranking is None or matrix.item_ids is None:
            return None
        n = min(matrix.n_items, max(1, MAX_CELLS // max(1, matrix.n_sources)))
        ids = np.asarray(matrix.item_ids)[:n]
        hard = _hard_labels(ranking, ids)
        dense = np.asarray(matrix.to_dense()[:n])
        return MatrixStats(dense, hard, ids, list(matrix.source_names), matrix.n_classes)

    def class_names(self, run_id: int) -> list[str]:
        """The run's class names (``"0"``, ``"1"``... when not recorded)."""
        names = self.summary(run_id).class_names
        if names:
            return [str(n) for n in names]
        return [str(c) for c in range(self.ranking(run_id).proba.shape[1])]


def _hard_labels(ranking: ReviewRanking, ids: np.ndarray) -> np.ndarray:
    """The label model's hard label of ``ids`` (-1 where the run has no soft label)."""
    index = pd.Index([str(v) for v in ranking.item_ids.tolist()])
    pos = index.get_indexer(pd.Index([str(v) for v in ids.tolist()]))
    hard = np.full(len(ids), -1, dtype=np.int64)
    found = pos >= 0
    hard[found] = np.argmax(ranking.proba[pos[found]], axis=1)
    return hard


def _stale(built: float, written: float, now: float, max_age: float | None) -> bool:
    return max_age is not None and built < written and now - built > max_age
