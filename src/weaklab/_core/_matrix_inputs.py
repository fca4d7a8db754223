"""Validation and conversion helpers behind the LabelMatrix constructors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from .constants import ABSTAIN, MAX_CLASSES, MAX_INT8_CLASSES
from .validation import check_int, fail, plain_scalar

__all__ = ["vote_dtype", "validate_dense", "resolve_n_classes", "check_vote_range", "validate_source_names",
           "validate_class_names", "validate_item_ids", "validate_versions", "coo_arrays", "long_frame", "long_labels",
           "make_index", "resolve_duplicates", "row_indexer"]


def vote_dtype(n_classes: int) -> np.dtype:
    """The storage dtype for votes of ``n_classes`` classes (int8 or int16)."""
    return np.dtype(np.int8 if n_classes <= MAX_INT8_CLASSES else np.int16)


def validate_dense(votes: Any, n_classes: int | None, class_names: Any, *, copy: bool) -> tuple[np.ndarray, int]:
    try:
        arr = np.asarray(votes.to_numpy() if isinstance(votes, pd.DataFrame) else votes)
    except ValueError:  # ragged nested lists
        raise fail("votes", "a 2-d array of shape (n_items, n_sources) (every row with the same number of "
                   "votes)", got_text="rows of different lengths") from None
    if arr.ndim != 2:
        raise fail("votes", "a 2-d array of shape (n_items, n_sources)", arr)
    if arr.shape[1] == 0:
        raise fail("votes", "at least one source (column)", arr)
    arr = _as_integer_votes(arr)
    n_classes = resolve_n_classes(arr, n_classes, class_names)
    check_vote_range("votes", arr, n_classes)
    dtype = vote_dtype(n_classes)
    out = np.array(arr, dtype=dtype, order="C", copy=copy or arr.dtype != dtype or not arr.flags.c_contiguous)
    if out is arr or np.shares_memory(out, arr):
        out = out.view()
    out.flags.writeable = False
    return out, n_classes


def _as_integer_votes(arr: np.ndarray) -> np.ndarray:
    if np.issubdtype(arr.dtype, np.integer):
        return arr
    if np.issubdtype(arr.dtype, np.floating) or arr.dtype == object:
        try:
            as_float = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise fail("votes", "integer class ids in [-1, k)", arr) from None
        if not np.all(np.isfinite(as_float)):
            raise fail("votes", "integer class ids in [-1, k) (use -1, not NaN, for abstain)", arr)
        if not np.all(as_float == np.round(as_float)):
            raise fail("votes", "integer class ids in [-1, k)", got_text="non-integral values")
        return as_float.astype(np.int64)
    raise fail("votes", "integer class ids in [-1, k)", arr)


def resolve_n_classes(votes: np.ndarray, n_classes: int | None, class_names: Any) -> int:
    if n_classes is None and class_names is not None:
        n_classes = len(class_names)
    if n_classes is None:
        top = int(votes.max()) if votes.size else ABSTAIN
        if top < 0:
            raise fail("n_classes", "an integer >= 2 (it cannot be inferred when every vote abstains)", None)
        if top >= MAX_CLASSES:
            raise fail("votes", f"class ids in [-1, {MAX_CLASSES}) (at most {MAX_CLASSES} classes)",
                       got_text=f"a vote of {top}")
        return max(2, top + 1)
    return check_int("n_classes", n_classes, low=2, high=MAX_CLASSES)


def check_vote_range(name: str, votes: np.ndarray, n_classes: int) -> None:
    if votes.size == 0:
        return
    lo, hi = int(votes.min()), int(votes.max())
    if lo < ABSTAIN or hi >= n_classes:
        bad = lo if lo < ABSTAIN else hi
        raise fail(name, f"votes in [-1, {n_classes}) (-1 = abstain, n_classes={n_classes})",
                   got_text=f"a vote of {bad}")


def validate_source_names(names: Sequence[str] | None, m: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"s{j}" for j in range(m))
    if isinstance(names, str):
        raise fail("source_names", f"a sequence of {m} names", names)
    names = tuple(names)
    if len(names) != m:
        raise fail("source_names", f"{m} names (one per column)", got_text=f"{len(names)} names")
    bad = [n for n in names if not isinstance(n, str) or not n]
    if bad:
        raise fail("source_names", "non-empty strings", bad[0])
    seen: set[str] = set()
    dupes = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if dupes:
        raise fail("source_names", "unique names", got_text=f"duplicate name {dupes[0]!r}")
    return names


def validate_class_names(names: Sequence[str] | None, k: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise fail("class_names", f"a sequence of {k} names", names)
    names = tuple(str(n) for n in names)
    if len(names) != k:
        raise fail("class_names", f"{k} names (n_classes={k})", got_text=f"{len(names)} names")
    if len(set(names)) != k:
        raise fail("class_names", "unique names", got_text=str(list(names)))
    return names


def validate_item_ids(item_ids: Any, n: int) -> np.ndarray | None:
    if item_ids is None:
        return None
    ids = np.asarray(item_ids)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise fail("item_ids", f"a 1-d array of {n} ids (one per row)", ids)
    if ids.dtype.kind in "fc" and not np.all(np.isfinite(ids)):
        raise fail("item_ids", "ids without NaN", got_text="NaN among the ids")
    index = pd.Index(ids)
    if not index.is_unique:
        dupe = plain_scalar(index[index.duplicated()][0])
        raise fail("item_ids", "unique ids", got_text=f"duplicate id {dupe!r}")
    if ids.dtype == object:
        ids = ids.copy()
    else:
        ids = ids.view() if ids.base is not None or not ids.flags.writeable else ids.copy()
    ids.flags.writeable = False
    return ids


def validate_versions(versions: Sequence[str | None] | None, m: int) -> tuple[str | None, ...] | None:
    if versions is None:
        return None
    if isinstance(versions, str):
        raise fail("source_versions", f"a sequence of {m} versions", versions)
    versions = tuple(versions)
    if len(versions) != m:
        raise fail("source_versions", f"{m} versions (one per column)", got_text=f"{len(versions)}")
    bad = [v for v in versions if v is not None and not isinstance(v, str)]
    if bad:
        raise fail("source_versions", "strings or None", bad[0])
    return versions


def coo_arrays(rows: Any, cols: Any, labels: Any, n: int, m: int) -> tuple[np.ndarray, ...]:
    out = []
    for name, values, bound in (("rows", rows, n), ("cols", cols, m), ("labels", labels, None)):
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise fail(name, "a 1-d array", arr)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            arr = _as_integer_votes(arr[:, None])[:, 0] if name == "labels" else arr
            if not np.issubdtype(arr.dtype, np.integer):
                raise fail(name, "integer positions", arr)
        arr = arr.astype(np.int64, copy=False)
        if bound is not None and arr.size and (arr.min() < 0 or arr.max() >= bound):
            raise fail(name, f"positions in [0, {bound})", got_text=f"values in [{arr.min()}, {arr.max()}]")
        out.append(arr)
    if not out[0].shape == out[1].shape == out[2].shape:
        raise ValidationError(
            f"rows, cols, labels: expected equal lengths, got {out[0].size}, {out[1].size}, {out[2].size}"
        )
    return tuple(out)


def long_frame(data: Any, item: str, source: str, label: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, dict):
        frame = pd.DataFrame(data)
    else:
        raise fail("data", "a pandas DataFrame or a dict of columns", data)
    missing = [c for c in (item, source, label) if c not in frame.columns]
    if missing:
        raise fail("data", f"columns {item!r}, {source!r}, {label!r}",
                   got_text=f"columns {list(frame.columns)} (missing {missing})")
    for col in (item, source):
        if frame[col].isna().any():
            raise fail(f"data[{col!r}]", "no missing values", got_text=f"{int(frame[col].isna().sum())} missing")
    return frame


def long_labels(values: pd.Series, class_names: Sequence[str] | None, column: str) -> np.ndarray:
    if values.isna().any():
        raise fail(f"data[{column!r}]", "a label in every row (use -1 for abstain)",
                   got_text=f"{int(values.isna().sum())} missing")
    if class_names is not None and not pd.api.types.is_numeric_dtype(values):
        lookup = {str(name): i for i, name in enumerate(class_names)}
        mapped = values.astype(str).map(lookup)
        if mapped.isna().any():
            bad = values[mapped.isna()].iloc[0]
            raise fail(f"data[{column!r}]", f"class names among {list(lookup)}", bad)
        return mapped.to_numpy(np.int64)
    arr = values.to_numpy()
    return _as_integer_votes(arr[:, None])[:, 0].astype(np.int64)


def make_index(values: pd.Series, given: Any, param: str, column: str) -> pd.Index:
    if given is not None:
        index = pd.Index(np.asarray(given) if not isinstance(given, pd.Index) else given)
        if not index.is_unique:
            raise fail(param, "unique values", got_text=f"duplicate {plain_scalar(index[index.duplicated()][0])!r}")
        return index
    uniques = pd.unique(values)
    try:
        return pd.Index(np.sort(np.asarray(uniques)))
    except TypeError:
        return pd.Index(uniques)


def resolve_duplicates(rows: np.ndarray, src: np.ndarray, labels: np.ndarray,
                        policy: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    key = pd.DataFrame({"r": rows, "s": src})
    dup_any = key.duplicated(keep=False).to_numpy()
    if not dup_any.any():
        return rows, src, labels
    if policy == "error":
        first = int(np.flatnonzero(dup_any)[0])
        raise fail("data", "at most one vote per (item, source) (see duplicates=)",
                   got_text=f"repeated votes, e.g. source {src[first]!r} on item row {rows[first]}")
    if policy in ("first", "last"):
        keep = ~key.duplicated(keep="first" if policy == "first" else "last").to_numpy()
        return rows[keep], src[keep], labels[keep]
    rank = key.groupby(["r", "s"], sort=False).cumcount().to_numpy()
    src = np.where(rank == 0, src, np.char.add(np.char.add(src.astype(str), "#"), (rank + 1).astype(str)))
    return rows, src.astype(object), labels


def row_indexer(indexer: Any, n: int) -> np.ndarray:
    idx = np.asarray(indexer)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise fail("indexer", f"a boolean mask of length {n}", idx)
        return np.flatnonzero(idx)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise fail("indexer", "a boolean mask or integer positions", idx)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise fail("indexer", f"positions in [0, {n})", got_text=f"values in [{idx.min()}, {idx.max()}]")
    return idx.astype(np.int64)
