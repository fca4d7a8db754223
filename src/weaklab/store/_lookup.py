"""Finding the dataset rows of item ids: a join with the items table, or a kept sorted key index."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from .._core.item_locator import ItemLocator
from .._core.partitioned import PartitionedLabelMatrix
from .._core.validation import fail
from ..errors import StoreError
from ._db import store_error
from ._runs import RunStateMixin

__all__ = ["LookupMixin", "KeyIndex", "INDEX_AFTER_LOOKUPS", "INDEX_MAX_BYTES"]


class LookupMixin(RunStateMixin):
    """``_lookup_rows``: the rows of a dataset's item keys."""

    def _lookup_rows(self, dataset_id: int, keys: np.ndarray, what: str) -> np.ndarray:
        locator = self._item_locator(dataset_id)
        index = None if locator is not None else self._key_index(dataset_id)
        if locator is not None:
            rows = locator.rows_of(keys)
        elif index is not None:
            rows = index.rows_of(keys)
        else:
            rows = self._joined_rows(dataset_id, keys)
        missing = np.flatnonzero(rows < 0)
        if missing.size:
            raise fail(what, f"ids of items of dataset {dataset_id}",
                       got_text=f"{missing.size} unknown id(s), e.g. {keys[missing[0]]!r}")
        return rows

    def _item_locator(self, dataset_id: int) -> ItemLocator | None:
        """The locator of a partitioned dataset's items (None for a dataset whose items the store holds).

        Kept per dataset; a dataset with items in the store never becomes
        partitioned, so that answer is kept too.
        """
        key = ("item_locator", int(dataset_id))
        if key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        rows = self._query("SELECT d.n_items, p.id_index FROM datasets d LEFT JOIN partitioned_datasets p "
                           "USING (dataset_id) WHERE d.dataset_id = ?", [int(dataset_id)])
        if not rows or rows[0][1] is None:
            if rows and int(rows[0][0]) > 0:
                self._cache[key] = None
            return None
        # the recorded id index, else the votes of any run on the dataset (same data, same partitions, same ids)
        roots = [str(rows[0][1])] + [str(r) for (r,) in self._query(
            "SELECT p.root FROM partitioned p JOIN runs r USING (run_id) WHERE r.dataset_id = ? AND "
            "p.kind = 'votes' ORDER BY p.created_at DESC", [int(dataset_id)])]
        problems = []
        for root in dict.fromkeys(roots):
            try:
                locator: Any = ItemLocator(PartitionedLabelMatrix.open(root))
            except (OSError, ValueError, KeyError) as exc:
                problems.append(f"{root} ({type(exc).__name__}: {exc})")
                continue
            self._cache[key] = locator
            return locator  # type: ignore[no-any-return]
        raise StoreError(f"store {self.path}: dataset {dataset_id}: its items are indexed by the votes of its runs, "
                         f"none of which can be read: {'; '.join(problems)}")

    def _key_index(self, dataset_id: int) -> KeyIndex | None:
        """The dataset's sorted item keys, built once a Store has looked items of it up a few times.

        A dataset's items never change, so the index stays valid. A long-lived
        Store (a web server claiming review items) then finds rows by binary
        search instead of scanning the items table at every lookup.
        """
        with self._index_lock:
            count = self._cache.get(("lookups", dataset_id), 0) + 1
            self._cache[("lookups", dataset_id)] = count
            index = self._cache.get(("key_index", dataset_id))
            building = ("building", dataset_id) in self._cache
            if index is None and count >= INDEX_AFTER_LOOKUPS and not building:
                self._cache[("building", dataset_id)] = True  # one thread builds; the others join meanwhile
        if index is not None or count < INDEX_AFTER_LOOKUPS or building:
            return index  # type: ignore[no-any-return]
        try:
            return self._build_key_index(dataset_id)
        finally:
            with self._index_lock:
                self._cache.pop(("building", dataset_id), None)

    def _build_key_index(self, dataset_id: int) -> KeyIndex | None:
        with self._lease() as cursor:
            found = cursor.execute("SELECT item_key, row FROM items WHERE dataset_id = ? ORDER BY item_key",
                                   [int(dataset_id)]).fetchnumpy()  # DuckDB sorts outside the GIL
        keys = np.asarray(found["item_key"], dtype=object)
        if len(keys) * 4 * max((len(k) for k in keys), default=1) > INDEX_MAX_BYTES:
            with self._index_lock:  # ids too long to index in memory: keep joining (and stop counting)
                self._cache[("lookups", dataset_id)] = -(10**9)
            return None
        index = KeyIndex(keys, np.asarray(found["row"], dtype=np.int64))
        with self._index_lock:
            kept = [k for k in self._cache if k[0] == "key_index"]
            for old in kept[: max(0, len(kept) - 1)]:  # at most two datasets' indexes in memory
                self._cache.pop(old, None)
            self._cache[("key_index", dataset_id)] = index
        return index

    def _joined_rows(self, dataset_id: int, keys: np.ndarray) -> np.ndarray:
        frame = pa.table({"pos": pa.array(np.arange(len(keys), dtype=np.int64)),
                          "item_key": pa.array(keys, pa.string())})
        with self._lease() as cursor:
            cursor.register("_wl_keys", frame)
            try:
                found = cursor.execute(
                    "SELECT k.pos, COALESCE(i.row, -1) AS row FROM _wl_keys k LEFT JOIN items i "
                    "ON i.dataset_id = ? AND i.item_key = k.item_key ORDER BY "
                    "k.pos", [dataset_id]).fetchnumpy()
            except duckdb.Error as exc:
                raise store_error(self.path, exc) from None
            finally:
                cursor.unregister("_wl_keys")
        return np.asarray(found["row"], dtype=np.int64)


#: Lookups on one dataset after which a Store keeps a sorted index of its item keys.
INDEX_AFTER_LOOKUPS = 3
#: Largest key index kept in memory (fixed-width text: items x longest id x 4 bytes).
INDEX_MAX_BYTES = 256 * 10**6


class KeyIndex:
    """A dataset's item keys, sorted, with their rows: rows of keys by binary search (-1 when unknown).

    Parameters
    ----------
    keys : ndarray of str, shape (n,)
    rows : ndarray of int, shape (n,)
    """

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        text = np.asarray(keys, dtype=str)
        if len(text) > 1 and not bool(np.all(text[1:] >= text[:-1])):  # not given in code-point order
            order = np.argsort(text, kind="stable")
            text, rows = text[order], rows[order]
        self.keys = text
        self.rows = rows

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """The rows of ``keys`` (text keys), -1 for keys the dataset does not have."""
        wanted = np.asarray(keys, dtype=str)
        if not len(self.keys) or not len(wanted):
            return np.full(len(wanted), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        return np.where(self.keys[pos] == wanted, self.rows[pos], -1).astype(np.int64)

