"""Checking the store's array files and writing back the ones that can be recomputed exactly.

Array files are named by their content, so a recomputed array is accepted
only when it gets the very name the records give: a repair never records
something that differs from what was lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._core.hashing import fingerprint
from .._core.label_matrix import LabelMatrix
from .._core.soft_labels import SoftLabels
from .._core.validation import fail
from ._arrays import rows_per_group
from ._base import loads
from ._codec import encode_ids, encode_state_arrays, encode_votes, id_keys, matrix_key, proba_table
from ._lineage import ids_fingerprint
from ._rows import StoreBase

__all__ = ["RepairMixin", "ARRAY_USERS"]

#: Record columns that name array files: (table, id column, array column, what the array holds).
ARRAY_USERS = (
    ("datasets", "dataset_id", "item_ids_array", "item ids"),
    ("applications", "application_id", "votes_array", "votes"),
    ("applications", "application_id", "rows_array", "row map"),
    ("label_model_runs", "label_model_run_id", "state_array", "label-model state"),
    ("end_model_runs", "end_model_run_id", "state_array", "end-model state"),
    ("soft_labels", "soft_labels_id", "proba_array", "soft labels"),
    ("soft_labels", "soft_labels_id", "rows_array", "row map"),
)


class RepairMixin(StoreBase):
    """``check_arrays`` and the ``restore_*`` methods behind ``weaklab doctor``."""

    def check_arrays(self, *, deep: bool = True) -> pd.DataFrame:
        """Every array file a record names that is missing, of the wrong size or unreadable.

        Parameters
        ----------
        deep : bool, default=True
            Also read every file whole (finds files overwritten with content
            of the same size); otherwise only sizes and Parquet footers.

        Returns
        -------
        pandas.DataFrame
            One row per damaged file: ``name``, ``kind``, ``problem``
            (``"missing"``, ``"size"``, ``"unreadable"`` or
            ``"unregistered"``), ``detail`` and ``used_by`` (a list of
            ``(table, record id, what)``).
        """
        registered = {r[0]: (r[1], int(r[2])) for r in self._query("SELECT name, kind, n_bytes FROM arrays")}
        users = self._array_users()
        rows = []
        for name in sorted(set(users) | set(registered)):
            if name not in users:
                continue  # an array no record names any more is harmless
            kind, n_bytes = registered.get(name, ("?", -1))
            problem, detail = ("unregistered", "named by a record but not in the arrays table") \
                if name not in registered else self._file_problem(name, n_bytes, deep)
            if problem is not None:
                rows.append({"name": name, "kind": kind, "problem": problem, "detail": detail,
                             "used_by": users[name]})
        return pd.DataFrame(rows, columns=["name", "kind", "problem", "detail", "used_by"])

    def array_files(self) -> pd.DataFrame:
        """Every array file a record names: ``name``, ``path``, ``kind``, ``n_bytes`` (recorded; -1 when not
        registered) and ``used_by`` (a list of ``(table, record id, what)``)."""
        registered = {r[0]: (r[1], int(r[2])) for r in self._query("SELECT name, kind, n_bytes FROM arrays")}
        rows = [{"name": name, "path": str(self.arrays.path(name)), "kind": registered.get(name, ("?", -1))[0],
                 "n_bytes": registered.get(name, ("?", -1))[1], "used_by": used}
                for name, used in sorted(self._array_users().items())]
        return pd.DataFrame(rows, columns=["name", "path", "kind", "n_bytes", "used_by"])

    def _array_users(self) -> dict[str, list[tuple[str, int, str]]]:
        users: dict[str, list[tuple[str, int, str]]] = {}
        for table, id_column, column, what in ARRAY_USERS:
            sql = f"SELECT {id_column}, {column} FROM {table} WHERE {column} IS NOT NULL"  # constants
            for record_id, name in self._query(sql):
                users.setdefault(str(name), []).append((table, int(record_id), what))
        return users

    def _file_problem(self, name: str, n_bytes: int, deep: bool) -> tuple[str | None, str]:
        path = self.arrays.path(name)
        try:
            size = path.stat().st_size
        except OSError:
            return "missing", f"{path} does not exist"
        if size != n_bytes:
            return "size", f"{path}: {size} bytes on disk, {n_bytes} recorded"
        try:
            pq.read_table(path) if deep else pq.read_metadata(path)
        except (OSError, pa.ArrowException) as exc:
            return "unreadable", f"{path}: {str(exc).splitlines()[0][:200]}"
        return None, ""

    def clean_temporary_files(self) -> int:
        """Delete the temporary files of interrupted array writes; return how many."""
        removed = 0
        for tmp in self.arrays.root.glob(".tmp-*.parquet") if self.arrays.root.is_dir() else ():
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    # ------------------------------------------------------------------ the records behind an array
    def application_record(self, application_id: int) -> dict[str, Any]:
        """``dataset_id``, ``fingerprint`` (of the matrix), ``layout`` of an application."""
        row = self._application_row(application_id)
        fp = self._query("SELECT fingerprint FROM applications WHERE application_id = ?", [int(application_id)])
        return {"dataset_id": int(row[0]), "fingerprint": fp[0][0], "layout": row[5]}

    def label_model_record(self, label_model_run_id: int) -> dict[str, Any]:
        """``run_id``, ``application_id``, ``class`` and ``params`` of a recorded label model."""
        run_id, app_id, cls, params = self._one(
            "SELECT run_id, application_id, class, params FROM label_model_runs WHERE label_model_run_id = ?",
            [int(label_model_run_id)], "label_model_run_id", label_model_run_id)
        return {"run_id": run_id, "application_id": app_id, "class": cls, "params": loads(params) or {}}

    def soft_labels_record(self, soft_labels_id: int) -> dict[str, Any]:
        """``run_id``, ``dataset_id``, ``role``, ``producer`` of recorded soft labels, and
        ``label_model_run_id``: the run's newest label model (None without one)."""
        run_id, dataset_id, role, producer = self._one(
            "SELECT run_id, dataset_id, role, producer FROM soft_labels WHERE soft_labels_id = ?",
            [int(soft_labels_id)], "soft_labels_id", soft_labels_id)
        models = [] if run_id is None else self._query(
            "SELECT max(label_model_run_id) FROM label_model_runs WHERE run_id = ?", [int(run_id)])
        model = models[0][0] if models else None
        return {"run_id": run_id, "dataset_id": int(dataset_id), "role": role, "producer": producer,
                "label_model_run_id": None if model is None else int(model)}

    # ------------------------------------------------------------------ restoring exact content
    def restore_item_ids(self, dataset_id: int) -> bool:
        """Write a dataset's item-id file again from its items (kept in the database); True when written.

        Examples
        --------
        >>> store.restore_item_ids(1)           # doctest: +SKIP
        True
        """
        _, n_items, dtype, array = self._dataset_row(dataset_id)
        keys = [r[0] for r in self._query("SELECT item_key FROM items WHERE dataset_id = ? ORDER BY row",
                                          [int(dataset_id)])]
        if len(keys) != int(n_items):
            return False
        ids = _typed_ids(keys, str(dtype))
        return self._restore(array, "item_ids", ids_fingerprint(ids), lambda: encode_ids(ids)[0])

    def restore_votes(self, application_id: int, matrix: LabelMatrix) -> bool:
        """Write an application's vote and row-map files again from ``matrix``, if it is the recorded one.

        Parameters
        ----------
        application_id : int
        matrix : LabelMatrix
            The votes recomputed (e.g. by applying the same LFs to the same data).

        Returns
        -------
        bool
            True when ``matrix`` is exactly the recorded matrix and its files were written.
        """
        if not isinstance(matrix, LabelMatrix):
            raise fail("matrix", "a LabelMatrix", matrix)
        dataset_id, n, _, _, _, layout, votes, rows_name, _ = self._application_row(application_id)
        recorded_fp = self._query("SELECT fingerprint FROM applications WHERE application_id = ?",
                                  [int(application_id)])[0][0]
        keys = None if matrix.item_ids is None else id_keys(matrix.item_ids)
        fp = matrix_key(matrix, keys)
        if fp != recorded_fp or matrix.n_items != int(n):
            return False
        rows_map, _ = self._rows_map(dataset_id, matrix.item_ids, matrix.n_items, "matrix")
        group = rows_per_group(matrix.n_sources) if layout == "packed" else 1 << 16
        done = self._restore(votes, f"votes-{layout}", fingerprint(fp, rows_map),
                             lambda: encode_votes(matrix, rows_map)[1], group)
        if done and rows_name is not None and rows_map is not None:
            done = self._restore(rows_name, "rows", fingerprint(rows_map),
                                 lambda: pa.table({"row": pa.array(rows_map)}))
        return done

    def restore_label_model_state(self, label_model_run_id: int, state: Mapping[str, Any]) -> bool:
        """Write a label model's state file again from ``state`` (``model.to_state()``), if its arrays match."""
        rows = self._query("SELECT state_array FROM label_model_runs WHERE label_model_run_id = ?",
                           [int(label_model_run_id)])
        if not rows:
            raise fail("label_model_run_id", "the id of a record in this store", label_model_run_id)
        table = encode_state_arrays(dict(state["arrays"]))
        key = fingerprint(table.column("data").to_pylist(), table.column("name").to_pylist(),
                          table.column("dtype").to_pylist(), table.column("shape").to_pylist())
        return self._restore(rows[0][0], "state", key, lambda: table)

    def restore_soft_labels(self, soft_labels_id: int, soft_labels: SoftLabels) -> bool:
        """Write a soft-label file again from ``soft_labels``, if they are exactly the recorded ones."""
        rows = self._query("SELECT s.dataset_id, s.proba_array, a.kind FROM soft_labels s LEFT JOIN arrays a "
                           "ON a.name = s.proba_array WHERE s.soft_labels_id = ?", [int(soft_labels_id)])
        if not rows:
            raise fail("soft_labels_id", "the id of a record in this store", soft_labels_id)
        dataset_id, array, kind = rows[0]
        dtype = str(kind or "proba-float32").removeprefix("proba-")
        rows_map, _ = self._rows_map(dataset_id, soft_labels.item_ids, soft_labels.n_items, "soft_labels")
        return self._restore(array, f"proba-{dtype}", fingerprint(soft_labels.fingerprint, rows_map),
                             lambda: proba_table(soft_labels.proba, rows_map, dtype),
                             rows_per_group(soft_labels.n_classes))

    def _restore(self, recorded: str, kind: str, key: str, table: Any, row_group_size: int | None = None) -> bool:
        """Write the array ``kind``/``key`` when its content name is the ``recorded`` one."""
        if fingerprint("weaklab-array", kind, key) != recorded:
            return False
        self._cache.pop(("bytes", recorded), None)
        with self._transaction() as con:
            con.execute("DELETE FROM arrays WHERE name = ?", [recorded])
            self._put_array(con, kind, key, table, row_group_size)
        return True


def _typed_ids(keys: list[str], dtype: str) -> np.ndarray:
    target = np.dtype(dtype)
    if target.kind in "iu":
        return np.array([int(k) for k in keys], dtype=np.int64).astype(target)
    if target.kind == "U":
        return np.array(keys, dtype=target)
    return np.array(keys, dtype=object)
