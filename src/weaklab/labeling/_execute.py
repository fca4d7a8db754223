"""Running a labeling function on a batch: its votes, checked, and its faults.

:func:`run_batch` is what the appliers call for every (LF, batch) pair. It
asks the LF for its raw votes (``LabelingFunction._raw_votes``: templates
compute theirs; an LF written as a function gets :func:`function_votes`),
turns an exception into faults or a stop according to ``batch.on_error``, and
checks the votes. The :class:`~weaklab.labeling._batch.FaultLog` records the
faults.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from .._core.constants import ABSTAIN
from ..errors import LFExecutionError
from ._batch import (
    Batch,
    BatchFailure,
    ClassNameError,
    Failed,
    FaultLog,
    FieldError,
    Row,
    check_votes,
    field_error,
    require_fields,
)
from .preprocess import frame_for, rows_for

if TYPE_CHECKING:
    from .lf import LabelingFunction

__all__ = ["run_batch", "function_votes"]


def run_batch(lf: LabelingFunction, batch: Batch) -> tuple[np.ndarray, FaultLog]:
    """Votes of ``lf`` on one batch and its faults, following ``batch.on_error``.

    Parameters
    ----------
    lf : LabelingFunction
    batch : Batch

    Returns
    -------
    votes : ndarray of shape (len(batch),)
        ``int64`` class ids, ``-1`` where the LF abstained or faulted.
    log : FaultLog
        The faults recorded.

    Raises
    ------
    LFExecutionError
        On a fault when ``batch.on_error`` is ``"raise"``, or on votes that are not class ids.
    """
    log = FaultLog(lf.name, batch)
    try:
        raw = lf._raw_votes(batch, log)
    except (FieldError, ClassNameError, LFExecutionError):
        raise
    except BatchFailure as exc:
        log.add(None, exc.error, n_votes=len(batch), via=exc.where)
        raw = None
    except Exception as exc:  # a vectorized LF failing on the whole batch
        found = _failing_row(lf, batch) if batch.on_error == "raise" and len(batch) > 1 else None
        if found is not None:  # the run stops naming the item it fails on, as a row-wise LF's does
            log.add(*found)
        log.add(None, exc, n_votes=len(batch))
        raw = None
    if raw is None:
        return np.full(len(batch), ABSTAIN, dtype=np.int64), log
    return check_votes(raw, log), log


def _failing_row(lf: LabelingFunction, batch: Batch) -> tuple[int, BaseException] | None:
    """The first row of ``batch`` on which ``lf`` raises given that row alone, and its error (None if none does).

    A vectorized LF that raised on the batch is run again on halves of it,
    the first half first, down to one row (about twice the batch's rows in
    all, on the error path only). So the error names the same row of the
    whole data whatever the batches or partitions; an LF that fails only on
    a batch as a whole (no half fails alone) keeps the batch's rows.
    """
    lo, hi, error = 0, len(batch), None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        left = _raised(lf, batch, lo, mid)
        right = None if left is not None else _raised(lf, batch, mid, hi)
        if left is None and right is None:
            return None
        lo, hi, error = (lo, mid, left) if left is not None else (mid, hi, right)
    return (lo, error) if error is not None else None


def _raised(lf: LabelingFunction, batch: Batch, start: int, stop: int) -> BaseException | None:
    """What ``lf`` raises on rows ``start:stop`` of ``batch`` (faults there are only recorded), else None."""
    part = Batch(batch.frame.iloc[start:stop], offset=batch.offset + start,
                 item_ids=None if batch.item_ids is None else batch.item_ids[start:stop],
                 n_classes=batch.n_classes, on_error="abstain", class_names=batch.class_names,
                 class_renames=batch.class_renames)
    lf._prepare(part)
    try:
        lf._raw_votes(part, FaultLog(lf.name, part))
    except Exception as exc:  # user code, as in run_batch
        return exc
    return None


def function_votes(lf: LabelingFunction, batch: Batch, log: FaultLog) -> Any:
    """The votes of ``lf``'s own function on ``batch`` (vectorized, or row by row), before checking.

    A row that raises becomes a fault of ``lf`` on that item (in ``log``); a
    missing column is a configuration error and raises at once.
    """
    if lf.vectorized:
        frame = frame_for(batch, lf.pre)
        if lf.fields:
            require_fields(frame, lf.fields, lf.name)
        try:
            return lf.function(frame.copy(deep=False), **lf.resources)
        except KeyError as exc:  # df["missing"]: a configuration error, not a fault
            missing = exc.args[0] if exc.args else None
            if isinstance(missing, str) and missing not in frame.columns:
                raise field_error(lf.name, missing, list(frame.columns)) from exc
            raise
    if lf.fields and not lf.pre:
        require_fields(batch.frame, lf.fields, lf.name)
    return _row_votes(lf, rows_for(batch, lf.pre), log)


def _row_votes(lf: LabelingFunction, rows: list[Any], log: FaultLog) -> list[Any]:
    call = functools.partial(lf.function, **lf.resources) if lf.resources else lf.function
    same_fields = all(p.vectorized for p in lf.pre)  # then every row has the batch's columns
    out: list[Any] = [ABSTAIN] * len(rows)
    for i, row in enumerate(rows):
        if row.__class__ is Failed:
            log.add(i, row.error, via=row.where)
            continue
        try:
            out[i] = call(row)
        except Exception as exc:  # user code: becomes a fault of this LF on this item
            missing = isinstance(exc, AttributeError) and exc.obj is row and isinstance(row, Row)
            if same_fields and missing:  # x.typo: a configuration error, not a fault
                raise field_error(lf.name, str(getattr(exc, "name", "")), list(row)) from exc
            log.add(i, exc)
    return out
