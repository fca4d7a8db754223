"""The dashboard's process state: its Store, and caches of what the pages read from it.

Two kinds of cache:

* :meth:`DashboardState.cached`: values derived from a run's immutable records
  (matrix, soft labels, the review ranking), computed once per run and kept;
* :meth:`DashboardState.fresh`: everything else a page reads (run lists,
  source tables, charts, lineage, claims, answers), kept while the store's
  change stamp (:meth:`weaklab.store.Store.change_stamp`, re-read at most
  every ``STAMP_SECONDS``) and the dashboard's own writes are unchanged, so a
  write by the dashboard shows at once, one by any other process (``weaklab
  fit``, an import) within ``STAMP_SECONDS``, and pages between writes cost no
  query. Review claims are leases, not records: a claim refreshes only what
  shows claims. While another process holds the store for a long write, the
  pages built before it are served.

A request reads the stamp once (:func:`request_stamps`, an HTTP middleware,
keeps it in a ContextVar to the request's end): a page is built from values
read under that stamp and kept under it, never under a newer stamp read
while it rendered (which would hide a write that landed in between).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._core.agreement import SourceAgreement
from .._core.validation import check_float
from ..errors import StoreError, ValidationError
from ..pipeline.images import CamLookup, ImageLookup
from ..pipeline.review import GoldItems, ReviewRanking, TextLookup, gold_items, review_order, run_summary
from ..pipeline.runs import dataset_table_path
from ..store import Store

__all__ = ["DashboardState", "NotFound", "MatrixStats", "REQUEST_STAMPS", "request_stamps"]

T = TypeVar("T")

#: The stamps one request uses (set per request by :func:`request_stamps`; None outside a request).
REQUEST_STAMPS: ContextVar[dict[bool, tuple[int, ...]] | None] = ContextVar("weaklab_request_stamps", default=None)
#: Values kept by :meth:`DashboardState.fresh` (least recently used dropped first).
FRESH_ENTRIES = 4096
#: Seconds the store's change stamp is reused (writes by other processes show after at most this).
STAMP_SECONDS = 0.1
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
    n_sources : int
        Sources of the run (more than ``names`` when a Dask run counted the first ones only).
    """

    def __init__(self, dense: np.ndarray, hard: np.ndarray, ids: np.ndarray, names: list[str], k: int) -> None:
        self.names = names
        self.n_rows = dense.shape[0]
        self.n_sources = len(names)
        rows, cols = np.nonzero(dense >= 0)  # sparse from here: a crowd has thousands of sources, few votes each
        votes = dense[rows, cols].astype(np.int64)
        m = len(names)
        voted = sp.csr_array((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(dense.shape[0], m))
        both = (voted.T @ voted).toarray()
        by_class = sp.csr_array((np.ones(len(rows), dtype=np.float32), (rows * k + votes, cols)),
                                shape=(dense.shape[0] * k, m))
        same = (by_class.T @ by_class).toarray()
        with np.errstate(invalid="ignore", divide="ignore"):
            self.agreement = np.where(both > 0, same / np.maximum(both, 1), np.nan)
        cells = cols * k + votes
        n_votes = np.bincount(cells, minlength=m * k).reshape(m, k)
        hits = np.bincount(cells, weights=hard[rows] == votes, minlength=m * k).reshape(m, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.class_agreement = np.where(n_votes > 0, hits / np.maximum(n_votes, 1), np.nan)
        order = np.lexsort((rows, cols))
        differs = order[hard[rows[order]] != votes[order]]
        bounds = np.searchsorted(cols[differs], np.arange(m + 1))
        self.disagreements: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for j, name in enumerate(names):
            mine = differs[bounds[j]:bounds[j + 1]][:MAX_SAMPLES]
            self.disagreements[name] = (ids[rows[mine]], votes[mine], hard[rows[mine]])

    @classmethod
    def from_agreement(cls, counts: SourceAgreement) -> MatrixStats:
        """The statistics a run on the Dask engine recorded (reduced over its partitions, no matrix read).

        ``n_sources`` says how many sources the run had; ``agreement`` covers
        the first ``agreement.shape[0]`` of ``names`` (the pairs the run
        counted), the per-class agreement and samples every source in ``names``.
        """
        stats = cls.__new__(cls)
        stats.names = list(counts.source_names)
        stats.n_rows = counts.n_items
        stats.n_sources = counts.n_sources
        stats.agreement = counts.agreement_rate()
        model = counts.model_agreement()
        stats.class_agreement = np.full(counts.class_votes.shape, np.nan) if model is None else model
        stats.disagreements = dict(counts.samples or {})
        return stats


class DashboardState:
    """The store and the dashboard's caches (see the module docstring).

    Parameters
    ----------
    store_path : str or Path
        An existing store file.
    timeout : float, default=5.0
        Seconds a request waits while another process writes the store.
    random_share : float, optional
        The share of review-queue slots that are random checks, for every
        dataset (None: each project's ``[query].random_share``).
    """

    def __init__(self, store_path: str | Path, *, timeout: float = 5.0, random_share: float | None = None) -> None:
        path = Path(store_path)
        if not path.is_file():
            raise ValidationError(f"store: no weaklab store at {str(path)!r}; run `weaklab demo` (or a project "
                                  "step) first, or pass --store PATH")
        self.store = Store(path, timeout=timeout)
        self.random_share = None if random_share is None else check_float("random_share", random_share, low=0.0,
                                                                             high=1.0)
        # reads the change stamp without waiting: while another process writes, the pages built before are served
        self._stamp_store = Store(path, read_only=True, timeout=0.0)
        self._lock = threading.Lock()
        self._stamp_lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._fresh: OrderedDict[tuple[Any, ...], tuple[tuple[int, ...], Any]] = OrderedDict()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._stamp: tuple[float, int] = (-1.0, -1)
        self._writes = 0
        self._claim_writes = 0
        self._review_start: dict[tuple[int, bool], tuple[int, float]] = {}
        self._gold: dict[tuple[int, int | None], tuple[tuple[Any, ...], GoldItems]] = {}

    def close(self) -> None:
        """Close the store (releases its file lock)."""
        self._stamp_store.close()
        self.store.close()

    # ------------------------------------------------------------------ caching
    def _key_lock(self, key: tuple[Any, ...]) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def cached(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """The value under ``key``, built once (per key, even with concurrent requests) and kept.

        For values derived from immutable records only (a run's matrix, soft labels).
        """
        with self._key_lock(key):
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]  # type: ignore[no-any-return]

    def stamp(self, *, claims: bool = False) -> tuple[int, ...]:
        """What the fresh caches are keyed on: the store's change stamp and the dashboard's own writes.

        The store's stamp is re-read at most every ``STAMP_SECONDS``; while
        another process holds the store (a long write), the last one read is
        used. Inside a request (see :func:`request_stamps`) the first value is
        kept for the whole request, so nothing it builds is kept under a stamp
        newer than the data it read.
        """
        held = REQUEST_STAMPS.get()
        if held is not None and claims in held:
            return held[claims]
        value = self._current_stamp(claims)
        if held is not None:
            held[claims] = value
        return value

    def _current_stamp(self, claims: bool) -> tuple[int, ...]:
        now = time.monotonic()
        at, stamp = self._stamp
        if now - at > STAMP_SECONDS:
            try:
                with self._stamp_lock:
                    stamp = self._stamp_store.change_stamp()
            except StoreError:
                if stamp < 0:
                    raise
            self._stamp = (now, stamp)
        return (stamp, self._writes, self._claim_writes if claims else 0)

    def fresh(self, key: tuple[Any, ...], build: Callable[[], T], *, claims: bool = False) -> T:
        """The value under ``key``, rebuilt when the store changed since it was built (by any process).

        ``claims``: the value shows review claims (refreshed by claims too).
        """
        stamp = self.stamp(claims=claims)
        with self._key_lock(key):
            with self._lock:
                hit = self._fresh.get(key)
                if hit is not None and hit[0] == stamp:
                    self._fresh.move_to_end(key)
                    return hit[1]  # type: ignore[no-any-return]
            value = build()
            with self._lock:
                self._fresh[key] = (stamp, value)
                self._fresh.move_to_end(key)
                while len(self._fresh) > FRESH_ENTRIES:
                    old, _ = self._fresh.popitem(last=False)
                    self._key_locks.pop(old, None)
            return value

    def wrote(self, *, claims: bool = False) -> None:
        """Note a write by the dashboard (``claims``: only review claims), so pages show it at once."""
        with self._lock:
            if claims:
                self._claim_writes += 1
            else:
                self._writes += 1

    # ------------------------------------------------------------------ review queue position
    def review_start(self, run_id: int, lease_seconds: float, *, gold: bool = False) -> int:
        """Where the run's review ranking may still hold a free item (items before it were all taken).

        Claims expire, so the position goes back to the start ``lease_seconds``
        after it first moved. ``gold``: the queue that offers gold items too
        (kept apart: a window of gold items is taken in one queue, not in the other).
        """
        key = (int(run_id), bool(gold))
        with self._lock:
            start, since = self._review_start.get(key, (0, 0.0))
            if start and time.monotonic() - since > lease_seconds:
                self._review_start.pop(key, None)
                return 0
            return start

    def review_taken(self, run_id: int, start: int, stop: int, *, gold: bool = False) -> None:
        """Note that every item of the ranking in ``start .. stop`` is claimed, answered (or gold: left out)."""
        key = (int(run_id), bool(gold))
        with self._lock:
            current, since = self._review_start.get(key, (0, time.monotonic()))
            if current == start:
                self._review_start[key] = (stop, since if current else time.monotonic())

    # ------------------------------------------------------------------ runs
    def run_ids(self) -> list[int]:
        """Every run id, newest first."""
        return self.fresh(("run_ids",), lambda: [int(r) for r in self.store.runs()["run_id"]])

    def resolve_run(self, run_id: int | None) -> int:
        """``run_id`` checked, or the newest run; NotFound when there is none."""
        if run_id is None:
            latest = self.fresh(("latest_run",), self.store.latest_run_id)
            if latest is None:
                raise NotFound("run: the store has no runs yet; run `weaklab demo` first")
            return latest
        try:
            self.run_row(run_id)
        except (ValidationError, StoreError):
            raise NotFound(f"run_id: no run {run_id} in this store") from None
        return int(run_id)

    def single_label_run(self, run_id: int | None, page: str) -> int:
        """:meth:`resolve_run`, refused with one line naming ``page`` for a multi-label run (not shown there yet)."""
        from ..pipeline.multilabel import refuse_multilabel_run

        run = self.resolve_run(run_id)
        if self.is_multilabel(run):
            refuse_multilabel_run(self.store, run, page)
        return run

    def is_multilabel(self, run_id: int) -> bool:
        """Whether the run is a multi-label run (it recorded label sets)."""
        return bool(self.cached(("is_multilabel", int(run_id)), lambda: self.store.is_multilabel_run(run_id)))

    def run_row(self, run_id: int) -> dict[str, Any]:
        """The run's listing row (dataset, status, config, metrics)."""
        def build() -> dict[str, Any]:
            try:
                return self.store.run(int(run_id))
            except ValidationError:
                raise NotFound(f"run_id: no run {run_id} in this store") from None
        return self.fresh(("run_row", int(run_id)), build)

    def dataset_id(self, run_id: int) -> int:
        """The dataset of a run."""
        return int(self.run_row(run_id)["dataset_id"])

    def summary(self, run_id: int) -> Any:
        """The run's report data (:func:`weaklab.pipeline.review.run_summary`), cached."""
        return self.fresh(("summary", run_id), lambda: run_summary(self.store, run_id))

    def ranking(self, run_id: int) -> ReviewRanking:
        """The run's items in review order (least confident soft label first)."""
        return self.cached(("ranking", run_id), lambda: review_order(self.store, run_id))

    def gold(self, dataset_id: int, run_id: int | None = None) -> GoldItems:
        """The dataset's items that hold gold in its data file (not offered for review unless asked).

        With ``run_id``, also the items whose gold fed that run's fit
        (:func:`~weaklab.pipeline.review.gold_items`). Read again whenever the
        file changes (its size or modification time, looked at on every call:
        one ``stat``), so an item that gains gold while the dashboard runs is
        not offered any more. (Items answered meanwhile are left out by the
        store's claims, which read the answers.)
        """
        path = self.fresh(("table_path", int(dataset_id)), lambda: dataset_table_path(self.store, dataset_id))
        signature = (str(path), *_file_signature(path))
        key = (int(dataset_id), None if run_id is None else int(run_id))
        with self._key_lock(("gold", *key)):
            held = self._gold.get(key)
            if held is None or held[0] != signature:
                held = (signature, gold_items(self.store, dataset_id, key[1]))
                self._gold[key] = held
            return held[1]

    def texts(self, dataset_id: int) -> TextLookup:
        """Item texts of a dataset (from the table its meta names)."""
        return self.cached(("texts", dataset_id), lambda: TextLookup(self.store, dataset_id))

    def images(self, dataset_id: int) -> ImageLookup:
        """Item pictures of an image dataset (from the table its meta names; thumbnails cached beside the store)."""
        return self.cached(("images", dataset_id), lambda: ImageLookup(self.store, dataset_id))

    def cams(self, run_id: int) -> CamLookup:
        """Class activation maps of the run's image end model, as overlays (a reason when it has none)."""
        return self.cached(("cams", run_id), lambda: CamLookup(self.store, run_id,
                                                               self.images(self.dataset_id(run_id))))

    def matrix_stats(self, run_id: int) -> MatrixStats | None:
        """Agreement statistics of the run's latest label matrix (None without a matrix or soft labels)."""
        return self.cached(("matrix_stats", run_id), lambda: self._matrix_stats(run_id))

    def _matrix_stats(self, run_id: int) -> MatrixStats | None:
        if "votes" in self.store.partitioned(run_id):  # a Dask run: the counts it reduced over its partitions
            found = self.store.reduced_record(run_id, "agreement")
            return None if found is None else MatrixStats.from_agreement(SourceAgreement.from_dict(found))
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


async def request_stamps(request: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
    """HTTP middleware: every request reads the store's change stamp once and keeps it to its end."""
    token = REQUEST_STAMPS.set({})
    try:
        return await call_next(request)
    finally:
        REQUEST_STAMPS.reset(token)


def _file_signature(path: Path | None) -> tuple[int, int]:
    """``(modification time in ns, size)`` of a file; ``(-1, -1)`` when there is none (or it cannot be read)."""
    if path is None:
        return (-1, -1)
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return (info.st_mtime_ns, info.st_size)
