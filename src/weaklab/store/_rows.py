"""The base every part of :class:`~weaklab.store.Store` builds on: the connection, run liveness, key look-ups,
and the rows of single records (a dataset, a run, an application) that all parts read.

The parts (lineage records, review decisions, answers, versions, queries,
explain, diff, repair) are sibling mixins of :class:`StoreBase`; none inherits
from another. The few methods one part uses from another are declared here
(for type checkers only), so each part depends on this base alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ._base import check_id, loads
from ._codec import decode_ids, id_keys
from ._lookup import LookupMixin

if TYPE_CHECKING:
    from .._core.label_matrix import LabelMatrix
    from .._core.soft_labels import SoftLabels

__all__ = ["StoreBase", "typed_id"]


class StoreBase(LookupMixin):
    """Connection, run liveness, key look-ups and single-record rows shared by every part of the Store."""

    # ------------------------------------------------------------------ rows of one record
    def _dataset_row(self, dataset_id: Any) -> tuple[Any, ...]:
        check_id("dataset_id", dataset_id)
        # a partitioned dataset's ids have the type its record names (its items are not in the store)
        return self._one("SELECT name, n_items, COALESCE((SELECT p.id_dtype FROM partitioned_datasets p WHERE "
                         "p.dataset_id = d.dataset_id), id_dtype), item_ids_array FROM datasets d WHERE dataset_id = ?",
                         [int(dataset_id)], "dataset_id", dataset_id)

    def _run_row(self, run_id: Any) -> tuple[Any, ...]:
        check_id("run_id", run_id)
        dataset, status, created, finished = self._one(
            "SELECT dataset_id, status, created_at, finished_at FROM runs WHERE run_id = ?",
            [int(run_id)], "run_id", run_id)
        return dataset, self._status_of(int(run_id), status), created, finished

    def _compared_datasets(self, run_a: int, run_b: int) -> tuple[int, int]:
        """The dataset (version) ids of two runs to compare; a ValidationError unless both version one dataset."""
        ds_a, ds_b = int(self._run_row(run_a)[0]), int(self._run_row(run_b)[0])
        name_a, name_b = self._dataset_row(ds_a)[0], self._dataset_row(ds_b)[0]
        if name_a != name_b:
            raise fail("run_b", f"a run over a version of the dataset of run {run_a} ({name_a!r})",
                       got_text=f"run {run_b} over dataset {name_b!r}")
        return ds_a, ds_b

    def _application_row(self, application_id: Any) -> tuple[Any, ...]:
        check_id("application_id", application_id)
        return self._one(
            "SELECT dataset_id, n_items, n_sources, n_classes, class_names, layout, votes_array, rows_array, "
            "id_dtype FROM applications WHERE application_id = ?", [int(application_id)],
            "application_id", application_id)

    def _rows_map(self, dataset_id: Any, item_ids: np.ndarray | None, n: int,
                  what: str) -> tuple[np.ndarray | None, str | None]:
        """Dataset rows of ``item_ids`` (None when they are the dataset's rows in order) and their dtype."""
        n_items = int(self._dataset_row(dataset_id)[1])
        if item_ids is None:
            if n != n_items:
                raise fail(f"{what}.item_ids", f"item ids, or exactly the dataset's {n_items} rows in order",
                           got_text=f"{n} rows without item ids")
            return None, None
        keys = id_keys(item_ids, f"{what}.item_ids")
        if n == n_items and np.array_equal(keys, self._dataset_keys(int(dataset_id))):
            return None, item_ids.dtype.str  # the dataset's items in dataset order (the common case)
        rows = self._lookup_rows(int(dataset_id), keys, f"{what}.item_ids")
        if n == n_items and np.array_equal(rows, np.arange(n)):
            return None, item_ids.dtype.str
        return rows, item_ids.dtype.str

    def _dataset_keys(self, dataset_id: int) -> np.ndarray:
        _, _, dtype, array = self._dataset_row(dataset_id)
        return id_keys(decode_ids(self._read_array(array), dtype))

    def _rows_of(self, rows_name: str | None) -> np.ndarray | None:
        if rows_name is None:
            return None
        return self._read_array(rows_name).column("row").to_numpy().astype(np.int64)

    # ------------------------------------------------------------------ class names of a run
    def run_class_names(self, run_id: int) -> list[str] | None:
        """The class names a run recorded, or None: the one answer every part of weaklab reads.

        Those of its newest soft labels that have names (they name the
        columns a review queue shows, and an answer given there by class id
        means that column), else of its newest label matrix that has them,
        else (a Dask run) of its partitioned votes.
        """
        self._run_row(run_id)
        names = self._run_classes(int(run_id))[1]
        return None if names is None else [str(n) for n in names]

    def _run_classes(self, run_id: int) -> tuple[int | None, list[str] | None]:
        """``(n_classes, class_names)`` of a run's soft labels or label matrix (see :meth:`run_class_names`)."""
        rows = self._query(
            "SELECT n_classes, class_names FROM (SELECT n_classes, class_names, 0 AS kind, soft_labels_id AS id FROM "
            "soft_labels WHERE run_id = ? UNION ALL SELECT a.n_classes, a.class_names, 1, a.application_id FROM "
            "run_applications r JOIN applications a USING (application_id) WHERE r.run_id = ?) ORDER BY kind, id DESC",
            [run_id, run_id])
        if not rows:  # a run of the Dask engine records its classes with its partitioned votes
            votes = self._query("SELECT manifest FROM partitioned WHERE run_id = ? AND kind = 'votes' "
                                "ORDER BY created_at DESC LIMIT 1", [run_id])
            manifest = loads(votes[0][0]) if votes else None
            if not isinstance(manifest, dict) or manifest.get("n_classes") is None:
                return None, None
            names = manifest.get("class_names")
            return int(manifest["n_classes"]), [str(n) for n in names] if names else None
        named = [r for r in rows if r[1] is not None]
        k, names = named[0] if named else rows[0]
        return int(k), loads(names)

    # ------------------------------------------------------------------ items
    def _item_rows(self, dataset_id: int, item_ids: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        arr = np.asarray(item_ids)
        if arr.ndim != 1:
            raise fail(what, "a 1-d sequence of item ids", arr)
        keys = id_keys(arr, what) if arr.size else np.array([], dtype=object)
        return keys, self._lookup_rows(dataset_id, keys, what)

    def _ids_of_rows(self, dataset_id: int, rows: list[int]) -> list[Any]:
        if not rows:
            return []
        dtype = str(self._dataset_row(dataset_id)[2])
        found = dict(self._query("SELECT row, item_key FROM items WHERE dataset_id = ? AND row IN "
                                 "(SELECT unnest(?::BIGINT[]))", [dataset_id, rows]))
        return [typed_id(found[r], dtype) for r in rows]

    if TYPE_CHECKING:  # provided by sibling parts of Store (declared so that each part depends only on this base)
        def load_matrix(self, application_id: int) -> LabelMatrix: ...

        def load_soft_labels(self, soft_labels_id: int) -> SoftLabels: ...

        def load_item_ids(self, dataset_id: int) -> np.ndarray: ...

        def latest_run_id(self, dataset_id: int | None = None, *, status: str | None = "finished") -> int | None: ...

        def run_class_renames(self, run_id: int) -> dict[str, str]: ...

        def _corrections_for(self, run_id: int, dataset_id: int, finished: Any,
                             key: str | None) -> list[dict[str, Any]]: ...

        def _answer_frame(self, dataset_id: int | None, as_of: datetime | None, item_key: str | None = None, *,
                          only_items: bool = True) -> pd.DataFrame: ...

        def _human_labels(self, dataset_id: int, names: list[str] | None, renames: dict[str, str],
                          as_of: datetime | None, unknown: str, item_key: str | None) -> pd.DataFrame: ...

        def _used_answer_ids(self, dataset_id: int, as_of: datetime | None, item_key: str | None,
                             names: list[str] | None, renames: dict[str, str]) -> set[int]: ...


def typed_id(key: str, dtype: str) -> Any:
    """An item key (text) back to the dataset's id type (int for integer ids)."""
    return int(key) if np.dtype(dtype).kind in "iu" else key
