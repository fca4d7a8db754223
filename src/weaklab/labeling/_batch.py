"""A batch of items being labelled: rows, memo, fault policy and vote checks.

Everything an applier needs to run labeling functions over one slice of the
data lives here, so the local engine, the process-pool workers and the Dask
partitions share one code path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN, MAX_CLASSES
from ..errors import LFExecutionError, ValidationError

__all__ = ["Batch", "ClassNameError", "FaultLog", "LFFault", "FieldError", "Row", "check_votes"]

MAX_FAULT_RECORDS = 1000
"""Fault records kept per labeling function (the count stays exact)."""


class FieldError(ValidationError):
    """A labeling function reads a column the data lacks, or one of the wrong kind."""


class ClassNameError(ValidationError):
    """A template votes a class name that is not in the class list (a configuration error, never a fault)."""


class Row(dict):
    """One item as a mapping with attribute access: ``x.text == x["text"]``.

    Preprocessors may set new fields as attributes (``x.words = ...``).

    Examples
    --------
    >>> from weaklab.labeling import Row
    >>> x = Row({"text": "free money", "author": "bot"})
    >>> x.text == x["text"], sorted(x)
    (True, ['author', 'text'])
    >>> x.n_words = 2
    >>> x["n_words"]
    2
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            fields = ", ".join(repr(k) for k in self)
            message = f"row has no field {name!r}; its fields are {fields}"
            raise AttributeError(message, name=name, obj=self) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        del self[name]


@dataclass(frozen=True)
class LFFault:
    """One vote lost to a fault of a labeling function (``on_error="abstain"``).

    Attributes
    ----------
    lf_name : str
        The labeling function.
    item_id : object
        Id of the item, or ``None`` when a whole vectorized batch failed.
    row : int or None
        Position of the item in the data (first row of a failed batch).
    error : str
        ``repr`` of the exception, or a description of the invalid vote.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import LabelingFunction, apply_lfs
    >>> lf = LabelingFunction("second_word", lambda x: 1 if x.text.split()[1] == "money" else -1)
    >>> _, report = apply_lfs([lf], pd.DataFrame({"text": ["free money", "hi"]}), on_error="abstain", progress=False)
    >>> fault = report.faults[0]
    >>> fault.lf_name, fault.row, fault.error
    ('second_word', 1, "IndexError('list index out of range')")
    """

    lf_name: str
    item_id: Any
    row: int | None
    error: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (numpy scalars become Python scalars)."""
        item = self.item_id.item() if isinstance(self.item_id, np.generic) else self.item_id
        return {"lf_name": self.lf_name, "item_id": item, "row": self.row, "error": self.error}


@dataclass(frozen=True)
class Failed:
    """Placeholder for a row whose preprocessing raised."""

    error: BaseException
    where: str


class BatchFailure(Exception):
    """A vectorized preprocessor failed on a whole batch."""

    def __init__(self, error: BaseException, where: str) -> None:
        super().__init__(f"{where} raised {type(error).__name__}: {error}")
        self.error = error
        self.where = where


class Batch:
    """A slice of the data with memoised preprocessing and shared caches.

    Parameters
    ----------
    frame : pandas.DataFrame
        The items of this batch (already sliced).
    offset : int, default=0
        Position of the first item in the whole data set.
    item_ids : numpy.ndarray, optional
        Ids of the items in this batch.
    n_classes : int, optional
        Votes must lie in ``[-1, n_classes)``; unchecked above when ``None``.
    on_error : {"raise", "abstain"}, default="raise"
        Fault policy.
    class_names : sequence of str, optional
        The class list: a labeling function may vote a class *name*, which
        becomes its position in this list.
    class_renames : mapping of str to str, optional
        Old class names a labeling function may still vote, each mapped to
        a name of ``class_names`` (checked by ``apply_lfs``).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        offset: int = 0,
        item_ids: np.ndarray | None = None,
        n_classes: int | None = None,
        on_error: str = "raise",
        class_names: Sequence[str] | None = None,
        class_renames: Mapping[str, str] | None = None,
    ) -> None:
        self.frame = frame
        self.offset = offset
        self.item_ids = item_ids
        self.n_classes = n_classes
        self.on_error = on_error
        self.class_names = None if class_names is None else tuple(str(c) for c in class_names)
        self.class_renames = dict(class_renames or {})
        self._memo: dict[Hashable, Any] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.frame)

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the cached value for ``key``, computing it once per batch (thread-safe)."""
        with self._lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def class_id(self, name: str, lf_name: str) -> int:
        """The id of the class ``name`` voted by every row of ``lf_name`` (a template's label).

        Raises
        ------
        ValidationError
            The batch has no class list, or ``name`` is not in it.
        """
        ids = self._class_ids()
        if name in ids:
            return ids[name]
        expected = ("a class id (class names need the class list: pass class_names= to apply_lfs, or set "
                    "[labels].classes in weaklab.toml)") if self.class_names is None else _known_classes(
                        self.class_names)
        raise ClassNameError(f"labeling function {lf_name!r}: label: expected {expected}, got the class name "
                             f"{name!r}")

    def _class_ids(self) -> dict[str, int]:
        if self.class_names is None:
            return {}
        ids = {c: i for i, c in enumerate(self.class_names)}
        return {**{old: ids[new] for old, new in self.class_renames.items() if new in ids}, **ids}

    def item_id(self, pos: int) -> Any:
        """Id of the item at position ``pos`` of this batch (``None`` if unknown)."""
        if self.item_ids is None:
            return None
        item = self.item_ids[pos]
        return item.item() if isinstance(item, np.generic) else item


def frame_rows(frame: pd.DataFrame) -> list[Row]:
    """Turn a DataFrame into one :class:`Row` per item.

    Missing values are ``None`` in text and object columns and ``NaN`` in
    numeric ones.
    """
    columns = list(frame.columns)
    values = [_column_values(frame[c]) for c in columns]
    if not columns:
        return [Row() for _ in range(len(frame))]
    return [Row(zip(columns, items)) for items in zip(*values)]


def _column_values(column: pd.Series) -> list[Any]:
    if pd.api.types.is_numeric_dtype(column.dtype) or not column.hasnans:
        return column.tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def require_fields(frame: pd.DataFrame, fields: Sequence[str], lf_name: str) -> None:
    """Raise :class:`FieldError` if ``frame`` lacks one of ``fields``."""
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise field_error(lf_name, missing[0], list(frame.columns))


def field_error(lf_name: str, field: str, columns: list[Any]) -> FieldError:
    """The error for an LF reading column ``field`` that the data lacks."""
    available = ", ".join(repr(str(c)) for c in columns) or "none"
    hint = ("; templates such as keyword_lf and regex_lf read 'text' unless given field=, e.g. "
            "keyword_lf([...], label, field='your_column')") if field == "text" else ""
    return FieldError(
        f"labeling function {lf_name!r}: expected a column {field!r} in the data, got columns {available}{hint}"
    )


class FaultLog:
    """Counts and records the faults of one labeling function on one batch.

    Under ``on_error="raise"`` the first fault raises :class:`LFExecutionError`.
    """

    def __init__(self, lf_name: str, batch: Batch) -> None:
        self.lf_name = lf_name
        self.batch = batch
        self.count = 0
        self.records: list[LFFault] = []
        self.named = False  # whether the LF voted class names (mapped to ids with the batch's class list)

    def add(
        self, pos: int | None, error: BaseException | str, *, n_votes: int = 1, via: str | None = None
    ) -> None:
        """Record a fault at batch position ``pos`` (``None``: the whole batch).

        ``via`` names the preprocessor that raised, when it was not the LF.
        """
        item = None if pos is None else self.batch.item_id(pos)
        row = self.batch.offset + (0 if pos is None else pos)
        if self.batch.on_error == "raise":
            raise self._error(pos, item, row, error, via)
        self.count += n_votes
        if len(self.records) < MAX_FAULT_RECORDS:
            text = repr(error) if isinstance(error, BaseException) else error
            text = f"{via} raised {text}" if via else text
            self.records.append(LFFault(self.lf_name, item, None if pos is None else row, text))

    def _error(
        self, pos: int | None, item: Any, row: int, error: BaseException | str, via: str | None
    ) -> LFExecutionError:
        if pos is None:
            end = self.batch.offset + len(self.batch)
            where, row_arg = f"the batch of rows {row}..{end - 1}", None
        else:
            where = f"item {item!r} (row {row})" if item is not None else f"row {row}"
            row_arg = row
        if isinstance(error, BaseException):
            what = f"raised {type(error).__name__}: {error}"
            what = f"failed: its {via} {what}" if via else what
            original: BaseException | None = error
        else:
            what, original = error, None
        exc = LFExecutionError(
            f"labeling function {self.lf_name!r} {what} on {where}",
            lf_name=self.lf_name, item_id=item, row=row_arg, original=original,
        )
        exc.__cause__ = original
        return exc


# ---------------------------------------------------------------------------
# Checking what a labeling function returned.
# ---------------------------------------------------------------------------


def check_votes(raw: Any, log: FaultLog) -> np.ndarray:
    """Validate raw LF output for a batch and return ``int64`` votes.

    Lists (row-wise output) are checked element by element for integer types;
    arrays must have an integer dtype and the batch's length. Class *names*
    (``str`` in a list, or an array or Series of strings) become their ids in
    the batch's class list, once per distinct value; ``-1`` (``ABSTAIN``)
    abstains, and so do ``None`` and missing values in an array or Series of
    names (``np.where(hit, "spam", None)``; numpy cannot mix text and -1).
    Out-of-range, unknown or ill-typed votes are faults (never cast); under
    ``on_error="abstain"`` they become ``-1``.
    """
    n = len(log.batch)
    types = set(map(type, raw)) if isinstance(raw, (list, tuple)) else None
    if _has_names(raw, types):
        values = _named_votes(raw, n, log)
        return np.full(n, ABSTAIN, dtype=np.int64) if values is None else _check_range(values, log)
    values = _list_votes(raw, log, types) if isinstance(raw, list) else _array_votes(raw, n, log)
    if values is None:
        return np.full(n, ABSTAIN, dtype=np.int64)
    return _check_range(values, log)


def _has_names(raw: Any, types: set[type] | None) -> bool:
    if types is not None:
        return any(issubclass(t, str) for t in types)
    if isinstance(raw, (pd.Series, pd.Index)):
        return raw.dtype == object or isinstance(raw.dtype, pd.StringDtype)
    return isinstance(raw, np.ndarray) and raw.dtype.kind in "UO"


def _named_votes(raw: Any, n: int, log: FaultLog) -> np.ndarray | None:
    """Votes given as class names (mixed with int ids and -1): each distinct value is looked up once."""
    if isinstance(raw, (pd.Series, pd.Index)):
        values = raw.to_numpy(dtype=object)
    elif isinstance(raw, (list, tuple)):
        values = np.empty(len(raw), dtype=object)
        values[:] = list(raw)
    else:
        values = raw
    if values.ndim != 1 or values.shape[0] != n:
        log.add(None, f"returned {values.shape[0] if values.ndim == 1 else values.shape} votes for {n} items",
                n_votes=n)
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    ids = log.batch._class_ids()
    missing_abstains = not isinstance(raw, (list, tuple))  # np.where(hit, "spam", None): None abstains
    table = np.empty(len(uniques), dtype=np.int64)
    for u, value in enumerate(uniques):
        table[u], problem = _vote_of(value, ids, missing_abstains)
        log.named = log.named or isinstance(value, str)
        if problem is not None:
            for i in np.flatnonzero(codes == u):
                log.add(int(i), problem + _expected_votes(log.batch.class_names))
    return table[codes]


def _vote_of(value: Any, ids: dict[str, int], missing_abstains: bool) -> tuple[int, str | None]:
    """``(vote, None)`` for one returned value, or ``(ABSTAIN, what is wrong)``."""
    if missing_abstains and (value is None or value is pd.NA or (isinstance(value, float) and value != value)):
        return ABSTAIN, None
    if isinstance(value, str):
        if value in ids:
            return ids[value], None
        if value == str(ABSTAIN):
            return ABSTAIN, None
        return ABSTAIN, f"returned the class name {str(value)!r}"
    if _is_int_type(type(value)):
        return int(value), None
    return ABSTAIN, f"returned {_show(value)}"


def _expected_votes(class_names: tuple[str, ...] | None) -> str:
    if class_names is None:
        return (" (expected an int class id or -1 to abstain: class names need the class list, "
                "apply_lfs(..., class_names=[...]) or [labels].classes in weaklab.toml)")
    return f" (expected {_known_classes(class_names)}, an int class id or -1 to abstain)"


def _known_classes(class_names: tuple[str, ...]) -> str:
    return "one of the class names " + ", ".join(repr(c) for c in class_names)


def _list_votes(raw: list[Any], log: FaultLog, types: set[type] | None = None) -> np.ndarray | None:
    if len(raw) != len(log.batch):
        log.add(None, f"returned {len(raw)} votes for {len(log.batch)} items", n_votes=len(log.batch))
        return None
    if not all(_is_int_type(t) for t in (set(map(type, raw)) if types is None else types)):
        raw = list(raw)
        for i, value in enumerate(raw):
            if not _is_int_type(type(value)):
                log.add(i, f"returned {_show(value)} (expected an int class id or -1 to abstain)")
                raw[i] = ABSTAIN
    try:
        return np.fromiter(raw, dtype=np.int64, count=len(raw))
    except OverflowError:  # Python ints beyond int64: compare them as objects
        return np.array(raw, dtype=object)


def _array_votes(raw: Any, n: int, log: FaultLog) -> np.ndarray | None:
    if isinstance(raw, tuple):
        return _list_votes(list(raw), log)
    if isinstance(raw, (pd.Series, pd.Index)):
        if raw.hasnans:
            log.add(None, "returned missing values (NaN/NA; use -1 to abstain)", n_votes=n)
            return None
        raw = raw.to_numpy()
    if not isinstance(raw, np.ndarray):
        log.add(None, f"returned {_show(raw)} (expected an int array of {n} votes)", n_votes=n)
        return None
    if raw.ndim != 1 or raw.shape[0] != n:
        log.add(None, f"returned an array of shape {raw.shape} (expected ({n},))", n_votes=n)
        return None
    if raw.dtype.kind not in "iu":
        log.add(None, f"returned an array of dtype {raw.dtype} (expected integer class ids)", n_votes=n)
        return None
    return raw


def _check_range(values: np.ndarray, log: FaultLog) -> np.ndarray:
    k = log.batch.n_classes
    high = k if k is not None else MAX_CLASSES
    bad = np.asarray((values < ABSTAIN) | (values >= high), dtype=bool)
    if not bad.any():
        return values.astype(np.int64, copy=True)
    for i in np.flatnonzero(bad):
        log.add(int(i), f"returned the vote {values[i]} (expected a class id in -1..{high - 1})")
    clean = values.copy()
    clean[bad] = 0  # also valid for unsigned and object arrays
    votes = clean.astype(np.int64)
    votes[bad] = ABSTAIN
    return votes


def _is_int_type(kind: type) -> bool:
    return issubclass(kind, (int, np.integer)) and not issubclass(kind, (bool, np.bool_))


def _show(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{text} of type {type(value).__name__}"
