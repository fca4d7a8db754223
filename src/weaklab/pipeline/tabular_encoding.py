"""The inputs of the tabular end model: numeric columns as they are, category columns one-hot.

A table's columns are of three kinds to the tabular end model
(:mod:`weaklab.pipeline.tabular_model`):

* **numeric**: every value a finite number (missing cells allowed), read as
  a float (:func:`numeric_matrix`);
* **categorical**: at least one value that is not a number, and at most
  ``max_categories`` distinct values (strings such as ``"north"``,
  ``"GE"``); each category becomes one 0/1 input (one-hot). The categories
  are those of the project's items, kept in the model's state as plain
  strings. A value the model never saw (a new site at predict time) and a
  missing cell are read as *none of the known categories* (every input of
  the column 0), as a row whose category was left empty at training time;
  :func:`unseen_categories` counts them so ``weaklab predict`` can say so;
* **left out**: text or ids (more distinct values than ``max_categories``),
  columns with no value, and numeric columns holding infinity;
  :func:`column_kind` says which and why.

Design: one-hot rather than the booster's native categorical splits keeps
one input layout for both estimators (logistic regression needs one-hot)
and keeps the stored trees numeric-only (a threshold per node), so the
walk of :func:`~weaklab.pipeline.tabular_state.boosted_raw` is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail

__all__ = ["MAX_CATEGORIES", "category_index", "category_values", "column_categories", "column_kind", "input_matrix",
           "input_names", "non_numeric_value", "numeric_matrix", "unseen_categories"]

#: The most distinct values a non-numeric column may hold to be encoded as categories (one input each).
MAX_CATEGORIES = 20


def category_values(values: pd.Series) -> pd.Series:
    """``values`` as category strings (stripped); missing and blank cells are None.

    Examples
    --------
    >>> category_values(pd.Series(["north ", None, 3, ""])).tolist()
    ['north', None, '3', None]
    """
    text = values.astype(object).where(values.notna(), None)
    out = [None if v is None else str(v).strip() or None for v in text.tolist()]
    return pd.Series(out, index=values.index, dtype=object)


def column_categories(values: pd.Series, max_categories: int = MAX_CATEGORIES) -> list[str] | None:
    """The sorted distinct categories of ``values`` (missing cells left out), or None when there are more than
    ``max_categories``.

    Examples
    --------
    >>> column_categories(pd.Series(["b", "a", None, "b"]))
    ['a', 'b']
    >>> column_categories(pd.Series([f"id{i}" for i in range(30)])) is None
    True
    """
    present = category_values(values).dropna()
    distinct = sorted(set(present.tolist()))
    return distinct if len(distinct) <= max_categories else None


def column_kind(values: pd.Series, non_numeric: Any, max_categories: int = MAX_CATEGORIES) -> tuple[str, str]:
    """``("numeric" | "categorical" | "skipped", why)`` for one column of the data file.

    Parameters
    ----------
    values : pandas.Series
    non_numeric : object
        Its first value that is not a finite number, or None
        (:func:`non_numeric_value`).
    max_categories : int, default=MAX_CATEGORIES

    Examples
    --------
    >>> column_kind(pd.Series(["x", "y", "x"]), "x")
    ('categorical', '2 categories')
    >>> column_kind(pd.Series([f"note {i}" for i in range(50)]), "note 0")[1]
    "text or ids: 50 distinct values such as 'note 0' (more than 20 to encode as categories)"
    """
    if non_numeric is None:  # numbers (or nothing): no pass over the values as strings
        return ("numeric", "numbers") if values.notna().any() else ("skipped", "empty: no value")
    if isinstance(non_numeric, float) and np.isinf(non_numeric):
        return "skipped", f"holds {non_numeric!r} among its numbers"
    n = category_values(values).nunique()
    if n == 0:
        return "skipped", "empty: no value"
    if n > max_categories:
        return "skipped", (f"text or ids: {n} distinct values such as {non_numeric!r} (more than {max_categories} "
                           "to encode as categories)")
    return "categorical", f"{n} categories"


def input_names(columns: Sequence[str], categories: Mapping[str, Sequence[str]]) -> list[str]:
    """The names of the model's inputs: the numeric columns, then ``column=category`` per category.

    Examples
    --------
    >>> input_names(["temp", "site"], {"site": ["north", "south"]})
    ['temp', 'site=north', 'site=south']
    """
    numeric = [c for c in columns if c not in categories]
    return numeric + [f"{c}={v}" for c in columns if c in categories for v in categories[c]]


def input_matrix(frame: pd.DataFrame, columns: Sequence[str], categories: Mapping[str, Sequence[str]], *,
                 where: str) -> np.ndarray:
    """The model's inputs ``(n, d)`` (:func:`input_names`): numeric columns (NaN = missing), then one-hot categories.

    A category not among the column's known ones, and a missing cell, give
    0 on every input of the column.

    Raises
    ------
    ValidationError
        A column is missing, or a numeric one holds a value that is not a finite number.

    Examples
    --------
    >>> frame = pd.DataFrame({"temp": [1.5, None], "site": ["south", "west"]})
    >>> input_matrix(frame, ["temp", "site"], {"site": ["north", "south"]}, where="data").tolist()
    [[1.5, 0.0, 1.0], [nan, 0.0, 0.0]]
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise fail(where, f"the columns {list(columns)}", got_text=f"no column {', '.join(map(repr, missing))} "
                   f"(columns: {[str(c) for c in frame.columns]})")
    numeric = numeric_matrix(frame, [c for c in columns if c not in categories], where=where)
    parts = [numeric]
    for column in (c for c in columns if c in categories):
        at = category_index(frame[column], categories[column])
        onehot = np.zeros((len(frame), len(categories[column])), dtype=np.float64)
        onehot[np.flatnonzero(at >= 0), at[at >= 0]] = 1.0
        parts.append(onehot)
    return np.hstack(parts) if len(parts) > 1 else numeric


def category_index(values: pd.Series, known: Sequence[str]) -> np.ndarray:
    """Per value of ``values``: the index of its category among ``known``, or -1 (missing or unseen).

    A value matches its category's text, or, when both are finite numbers, its
    number: a code column read as text at training time (``"2"``, beside an
    ``"unknown"``) and as numbers in a new table (``2``, or ``2.0`` when a
    cell is empty and the column is read as floats) is the same category.

    Examples
    --------
    >>> category_index(pd.Series([2.0, "2", "x", None, 3]), ["2", "unknown", "x"]).tolist()
    [0, 0, 2, -1, -1]
    """
    texts = category_values(values)
    exact = {category: i for i, category in reversed(list(enumerate(known)))}
    numbers = {_number(category): i for i, category in reversed(list(enumerate(known)))
               if _number(category) is not None}
    found = texts.map(exact)
    left = found.isna() & texts.notna()
    if numbers and left.any():
        as_numbers = pd.to_numeric(texts[left], errors="coerce")
        found[left] = as_numbers.where(np.isfinite(as_numbers.astype(np.float64))).map(numbers)
    return found.fillna(-1).to_numpy(dtype=np.intp)


def _number(text: str) -> float | None:
    """``text`` as a finite float, or None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def unseen_categories(frame: pd.DataFrame, categories: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Per category column of ``frame``: how many rows hold a value that is none of its known categories.

    Missing cells are not counted (they read as none of the categories at
    training time too). Columns with no such row are left out.

    Examples
    --------
    >>> unseen_categories(pd.DataFrame({"site": ["north", "west", None]}), {"site": ["north", "south"]})
    {'site': 1}
    """
    out: dict[str, int] = {}
    for column, known in categories.items():
        if column not in frame.columns:
            continue
        at = category_index(frame[column], known)
        n = int(((at < 0) & category_values(frame[column]).notna().to_numpy()).sum())
        if n:
            out[column] = n
    return out


def numeric_matrix(frame: pd.DataFrame, columns: Sequence[str], *, where: str) -> np.ndarray:
    """``frame[columns]`` as a float64 ``(n, d)`` array; missing cells are NaN.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : sequence of str
    where : str
        What asks for the columns (named in the error).

    Raises
    ------
    ValidationError
        A column is missing (every missing one is named) or holds a value
        that is not a finite number (the column and the value are named).

    Examples
    --------
    >>> numeric_matrix(pd.DataFrame({"a": [1, 2], "b": [0.5, None]}), ["b", "a"], where="x").tolist()
    [[0.5, 1.0], [nan, 2.0]]
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise fail(where, f"the columns {list(columns)}", got_text=f"no column {', '.join(map(repr, missing))} "
                   f"(columns: {[str(c) for c in frame.columns]})")
    for column in columns:
        bad = non_numeric_value(frame[column])
        if bad is not None:
            raise fail(where, f"finite numbers in column {column!r} (the tabular end model reads numeric columns)",
                       got_text=f"{bad!r} (dtype {frame[column].dtype})")
    numbers = pd.DataFrame({i: pd.to_numeric(frame[c]) for i, c in enumerate(columns)}, index=frame.index)
    return numbers.astype(np.float64).to_numpy(dtype=np.float64, na_value=np.nan).reshape(len(frame), len(columns))


def non_numeric_value(values: pd.Series) -> Any:
    """The first value of ``values`` that is not a finite number (missing cells are fine), or None.

    Examples
    --------
    >>> non_numeric_value(pd.Series([1.5, None])) is None, non_numeric_value(pd.Series(["3", "n/a"]))
    (True, 'n/a')
    >>> non_numeric_value(pd.Series([1.5, float("inf")]))
    inf
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        infinite = np.isinf(values.to_numpy(dtype=np.float64, na_value=np.nan))
        return float(values[infinite].iloc[0]) if infinite.any() else None  # a model cannot scale or weigh infinity
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or pd.api.types.is_timedelta64_dtype(values.dtype):
        present = values.dropna()  # times are not numbers to a model (turn them into one, e.g. days since)
        return present.iloc[0] if len(present) else None
    try:
        coerced = pd.to_numeric(values, errors="coerce")
    except TypeError:  # e.g. dates: not numbers
        present = values.dropna()
        return present.iloc[0] if len(present) else None
    bad = (coerced.isna() | np.isinf(coerced.to_numpy(dtype=np.float64, na_value=np.nan))) & values.notna()
    return values[bad].iloc[0] if bad.any() else None
