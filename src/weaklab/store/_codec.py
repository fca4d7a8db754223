"""Conversions between weaklab containers and the store's Parquet tables.

Layouts (every per-item table has an ascending ``row`` column holding the
item's *dataset* row):

* votes, ``"packed"`` (dense matrices): ``row`` and ``votes``, the item's row of the dense
  int8/int16 matrix as one fixed-size binary value (row-major, little-endian) -- compact, fast to
  write and read whole, and one item's votes are one value;
* votes, ``"long"`` (sparse matrices): ``row``, ``col``, ``label``, one line
  per non-abstain vote, sorted by row then column;
* soft labels: ``row``, ``p0 .. p{k-1}`` as float32 (or float64);
* item ids: one ``item_id`` column (int64 or string), in dataset order;
* row maps: one ``row`` column, the dataset row of each matrix row (kept only
  when a matrix's items are not the dataset's items in dataset order);
* estimator state arrays: one line per array with ``name``, ``dtype``,
  ``shape`` and the raw little-endian bytes in ``data`` (exact, no pickle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.hashing import fingerprint
from .._core.label_matrix import LabelMatrix, vote_dtype
from .._core.validation import fail
from ._arrays import row_array

__all__ = [
    "decode_ids", "decode_proba", "decode_state_arrays", "decode_votes", "encode_ids",
    "encode_state_arrays", "encode_votes", "id_keys", "keys_fingerprint", "matrix_key", "matrix_order",
    "proba_table", "votes_of_row",
]


# ------------------------------------------------------------------------------------------ item ids


def id_keys(ids: np.ndarray, name: str = "item_ids") -> np.ndarray:
    """Item ids as text keys (object array of str); only integer or string ids are accepted."""
    if ids.dtype.kind in "iu":
        return ids.astype(str).astype(object)
    if ids.dtype.kind == "U":
        return ids.astype(object)
    kind = pd.api.types.infer_dtype(ids, skipna=False) if ids.dtype.kind == "O" else ""
    if kind == "string":
        return ids
    if kind == "integer":
        return np.array([str(int(v)) for v in ids], dtype=object)
    raise fail(name, "integer or string item ids", ids)


def keys_fingerprint(keys: np.ndarray) -> str:
    """Fingerprint of text keys, hashed as one Arrow buffer (fast for millions of ids)."""
    arr = pa.array(keys, pa.string())
    offsets, data = arr.buffers()[1], arr.buffers()[2]
    return fingerprint("keys", len(arr), offsets.to_pybytes() if offsets else b"",
                       data.to_pybytes() if data else b"")


def matrix_key(L: LabelMatrix, keys: np.ndarray | None) -> str:
    """Content key of a label matrix: votes (in its storage form), names, classes, versions and item ids."""
    if L.is_sparse:
        csr = L.csr
        votes: tuple[Any, ...] = ("csr", csr.indptr, csr.indices, csr.data)
    else:
        votes = ("dense", np.ascontiguousarray(L.to_dense()))
    ids = None if keys is None else keys_fingerprint(keys)
    return fingerprint("LabelMatrix-store-1", L.shape, L.n_classes, *votes, L.source_names, L.class_names,
                       L.source_versions, ids)


def encode_ids(ids: np.ndarray) -> tuple[pa.Table, str]:
    """A one-column table of the ids and the numpy dtype to restore them with."""
    if ids.dtype.kind in "iu":
        column = pa.array(ids.astype(np.int64, copy=False))
    elif ids.dtype.kind == "O" and ids.size and not isinstance(ids[0], str):
        column = pa.array(ids.astype(np.int64))
    else:
        column = pa.array(ids.astype(object), type=pa.string())
    return pa.table({"item_id": column}), ids.dtype.str


def decode_ids(table: pa.Table, dtype: str) -> np.ndarray:
    """The ids of :func:`encode_ids`, with their original dtype."""
    column = table.column("item_id")
    values = column.to_numpy(zero_copy_only=False)
    target = np.dtype(dtype)
    if target.kind == "O":
        return np.array(values, dtype=object)
    return values.astype(target, copy=False)


# -------------------------------------------------------------------------------------------- votes


def matrix_order(rows_map: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(order, sorted_rows)``: matrix rows sorted by dataset row, and those dataset rows."""
    if rows_map is None:
        arange = np.arange(n, dtype=np.int64)
        return arange, arange
    order = np.argsort(rows_map, kind="stable")
    return order, rows_map[order]


def encode_votes(L: LabelMatrix, rows_map: np.ndarray | None) -> tuple[str, pa.Table]:
    """The votes of ``L`` as a table sorted by dataset row: ``("packed" | "long", table)``."""
    order, drows = matrix_order(rows_map, L.n_items)
    if not L.is_sparse:
        dense = L.to_dense()
        dense = np.ascontiguousarray(dense if rows_map is None else dense[order])
        little = dense.astype(dense.dtype.newbyteorder("<"), copy=False)
        width = L.n_sources * little.dtype.itemsize
        packed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), L.n_items,
                                                      [None, pa.py_buffer(little.tobytes())])
        return "packed", pa.table({"row": row_array(drows), "votes": packed})
    rows, cols, labels = L.coo()
    target = rows_map[rows] if rows_map is not None else rows
    sort = np.lexsort((cols, target)) if rows_map is not None else slice(None)
    col_type = np.int16 if L.n_sources < np.iinfo(np.int16).max else np.int32
    table = pa.table({
        "row": row_array(target[sort]),
        "col": pa.array(cols[sort].astype(col_type)),
        "label": pa.array(labels[sort]),
    })
    return "long", table


def decode_votes(table: pa.Table, layout: str, *, n_items: int, n_sources: int, n_classes: int,
                 rows_map: np.ndarray | None) -> tuple[np.ndarray | None, tuple[np.ndarray, ...] | None]:
    """``(dense, None)`` for a packed table or ``(None, (rows, cols, labels))`` for a long one."""
    order, drows = matrix_order(rows_map, n_items)
    if layout == "packed":
        stored = _unpack(table, n_sources, vote_dtype(n_classes))
        if rows_map is None:
            return stored, None
        dense = np.empty_like(stored)
        dense[order] = stored
        return dense, None
    stored = table.column("row").to_numpy().astype(np.int64)
    rows = order[np.searchsorted(drows, stored)] if rows_map is not None else stored
    cols = table.column("col").to_numpy().astype(np.int64)
    labels = table.column("label").to_numpy()
    return None, (rows, cols, labels)


def _unpack(table: pa.Table, n_sources: int, dtype: np.dtype) -> np.ndarray:
    """The ``(n, m)`` votes of a packed table (row-major fixed-size binary values)."""
    column = table.column("votes").combine_chunks()
    width = n_sources * dtype.itemsize
    data = column.buffers()[1]
    raw = np.frombuffer(data, dtype=np.uint8)[column.offset * width:(column.offset + len(column)) * width]
    return raw.view(dtype.newbyteorder("<")).reshape(len(column), n_sources).astype(dtype)


def votes_of_row(table: pa.Table, layout: str, n_sources: int, dtype: np.dtype) -> list[tuple[int, int]]:
    """``[(col, label), ...]`` of the non-abstain votes in a table holding one dataset row."""
    if table.num_rows == 0:
        return []
    if layout == "packed":
        values = _unpack(table, n_sources, dtype)[0]
        return [(int(j), int(values[j])) for j in np.flatnonzero(values >= 0)]
    cols = table.column("col").to_pylist()
    labels = table.column("label").to_pylist()
    return [(int(c), int(v)) for c, v in zip(cols, labels) if v >= 0]


# -------------------------------------------------------------------------------------- soft labels


def proba_table(proba: np.ndarray, rows_map: np.ndarray | None, dtype: str) -> pa.Table:
    """Soft labels as a wide table sorted by dataset row."""
    order, drows = matrix_order(rows_map, proba.shape[0])
    values = proba if rows_map is None else proba[order]
    columns = {"row": row_array(drows)}
    columns.update({f"p{c}": pa.array(values[:, c].astype(dtype)) for c in range(proba.shape[1])})
    return pa.table(columns)


def decode_proba(table: pa.Table, n_classes: int, rows_map: np.ndarray | None) -> np.ndarray:
    """The ``(n, k)`` probabilities of :func:`proba_table` in the original row order."""
    n = table.num_rows
    order, _ = matrix_order(rows_map, n)
    out = np.empty((n, n_classes), dtype=np.float64)
    for c in range(n_classes):
        out[order, c] = table.column(f"p{c}").to_numpy()
    return out


# ------------------------------------------------------------------------------------ state arrays


def encode_state_arrays(arrays: dict[str, Any]) -> pa.Table:
    """Estimator arrays as one Parquet line each (exact bytes; object arrays are refused)."""
    names, dtypes, shapes, blobs = [], [], [], []
    for name in sorted(arrays):
        arr = np.asarray(arrays[name])
        if arr.dtype.kind not in "biufcUSMm":
            raise fail(f"state['arrays'][{name!r}]", "a numeric, boolean or string array", arr)
        little = arr.astype(arr.dtype.newbyteorder("<")) if arr.dtype.byteorder == ">" else arr
        names.append(str(name))
        dtypes.append(little.dtype.str)
        shapes.append([int(s) for s in arr.shape])
        blobs.append(np.ascontiguousarray(little).tobytes())
    return pa.table({
        "name": pa.array(names, pa.string()), "dtype": pa.array(dtypes, pa.string()),
        "shape": pa.array(shapes, pa.list_(pa.int64())), "data": pa.array(blobs, pa.binary()),
    })


def decode_state_arrays(table: pa.Table) -> dict[str, np.ndarray]:
    """The arrays of :func:`encode_state_arrays`."""
    out = {}
    columns = (table.column(c).to_pylist() for c in ("name", "dtype", "shape", "data"))
    for name, dtype, shape, blob in zip(*columns):
        out[name] = np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(shape).copy()
    return out
