"""The Dask engine: apply labeling functions to each partition of a Dask DataFrame.

Each partition runs the same batch code as the local engine on a Dask worker
(``map_partitions``) and returns its votes (``int8``/``int16``) with its
statistics; the client concatenates them into one computed
:class:`~weaklab.LabelMatrix`. Dask is an
optional extra: ``pip install 'weaklab[dask]'``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from ..errors import LFExecutionError, missing_dependency
from ._batch import MAX_FAULT_RECORDS, LFFault
from ._engine import FrameResult, check_fields, item_ids, run_frame
from ._report import finish
from .lf import LabelingFunction

__all__ = ["apply_dask", "add_statistics", "relocated_error", "run_partition"]


def _import_dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError:
        raise missing_dependency("dask", "dask", "engine='dask'") from None
    return dd


def apply_dask(
    lfs: list[LabelingFunction],
    data: Any,
    *,
    n_jobs: int,
    on_error: str,
    batch_size: int,
    item_id: str | None,
    n_classes: int | None,
    class_names: Sequence[str] | None,
    output: Any = None,
    class_renames: Mapping[str, str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Apply ``lfs`` to every partition of ``data`` (see :func:`apply_lfs`).

    ``data`` is a Dask DataFrame (a pandas one is split into partitions of
    ``batch_size`` rows). The computation runs on the current Dask scheduler
    (a ``distributed.Client`` if one is active). With ``output``, votes are
    written per partition to a Parquet dataset there and a
    :class:`~weaklab.PartitionedLabelMatrix` is returned instead of a
    concatenated :class:`~weaklab.LabelMatrix`.
    """
    dd = _import_dask()
    if isinstance(data, pd.DataFrame):
        data = dd.from_pandas(data, chunksize=batch_size, sort=False)
    if not isinstance(data, dd.DataFrame):
        raise fail("data", "a Dask DataFrame for engine='dask'", data)
    check_fields(lfs, data.columns)
    if item_id is not None and item_id not in data.columns:
        raise fail("item_id", "a column of the data", got_text=f"{item_id!r}; columns {list(data.columns)}")
    if output is not None:
        from .dask_output import apply_dask_to_parquet

        return apply_dask_to_parquet(lfs, data, output, storage_options=storage_options, n_jobs=n_jobs,
                                     on_error=on_error, batch_size=batch_size, item_id=item_id,
                                     n_classes=n_classes, class_names=class_names, class_renames=class_renames)
    start = time.perf_counter()
    # One object per partition (its votes, ids and statistics), gathered in partition order.
    parts = data.map_partitions(_apply_partition, lfs, item_id, n_classes, on_error, batch_size, class_names,
                                class_renames, meta=pd.Series(dtype=object), enforce_metadata=False)
    try:
        results = list(parts.compute())
    except LFExecutionError as exc:
        raise relocated_error(exc, lfs, data, item_id=item_id, n_classes=n_classes, batch_size=batch_size,
                              class_names=class_names, class_renames=class_renames) from exc.original
    merged, ids = _merge(results, len(lfs), n_classes)
    if ids is not None and not pd.Index(ids).is_unique:
        if item_id is not None:
            dupes = pd.Index(ids)
            raise fail("item_id", "a column of unique ids",
                       got_text=f"the duplicate id {dupes[dupes.duplicated()][0]!r}")
        ids = None
    return finish(lfs, merged, ids, n_classes, class_names, engine="dask", n_jobs=n_jobs,
                  seconds=time.perf_counter() - start)


def run_partition(lfs: list[LabelingFunction], frame: pd.DataFrame, number: Any, *, item_id: str | None,
                  n_classes: int | None, on_error: str, batch_size: int,
                  class_names: Sequence[str] | None = None,
                  row_offset: int | None = None,
                  class_renames: Mapping[str, str] | None = None) -> tuple[FrameResult, np.ndarray | None]:
    """Run the LFs on one partition: its statistics and votes, and its item ids.

    A failing LF's error names the partition too (``partition``); its row is
    counted within the partition unless ``row_offset`` (the partition's first
    row in the whole data) is given (see :func:`relocated_error`). Without
    ``item_id``, the partition's index gives the ids.
    """
    ids = item_ids(frame, item_id) if item_id is not None else frame.index.to_numpy()
    try:
        result = run_frame(lfs, frame, ids, n_classes=n_classes, on_error=on_error, batch_size=batch_size,
                           class_names=class_names, row_offset=row_offset or 0, class_renames=class_renames)
    except LFExecutionError as exc:
        where = f" (partition {number}{'' if row_offset is not None else '; rows are counted within the partition'})"
        raise LFExecutionError(str(exc) + where, lf_name=exc.lf_name, item_id=exc.item_id, row=exc.row,
                               original=exc.original,
                               partition=number if isinstance(number, int) else None) from exc.original
    return result, ids


def relocated_error(exc: LFExecutionError, lfs: list[LabelingFunction], data: Any, *, item_id: str | None,
                    n_classes: int | None, batch_size: int, class_names: Sequence[str] | None = None,
                    class_renames: Mapping[str, str] | None = None) -> LFExecutionError:
    """The error of a partition's task, its rows counted in the whole data as the local engine counts them.

    On the client, after a task failed: the rows of the partitions before
    the failed one are counted (one task each), and the LFs are run again on
    that partition from its first row, so the error names the item and its
    row in the whole data (plus the partition). The partition's own error is
    kept when the rerun does not fail (an LF that fails at random).
    """
    import dask

    number = exc.partition
    parts = data.to_delayed()
    if number is None or not 0 <= number < len(parts):
        return exc
    offset = int(sum(dask.compute(*[dask.delayed(len)(part) for part in parts[:number]])))
    rerun = dask.delayed(run_partition)(lfs, parts[number], number, item_id=item_id, n_classes=n_classes,
                                        on_error="raise", batch_size=batch_size, class_names=class_names,
                                        row_offset=offset, class_renames=class_renames)
    try:
        dask.compute(rerun)
    except LFExecutionError as again:
        return again
    return exc


def _apply_partition(
    frame: pd.DataFrame,
    lfs: list[LabelingFunction],
    item_id: str | None,
    n_classes: int | None,
    on_error: str,
    batch_size: int,
    class_names: Sequence[str] | None = None,
    class_renames: Mapping[str, str] | None = None,
    partition_info: dict[str, Any] | None = None,
) -> pd.Series:
    """Run the LFs on one partition; a one-element object Series holding ``(result, ids)``."""
    number = (partition_info or {}).get("number", "?")
    result, ids = run_partition(lfs, frame, number, item_id=item_id, n_classes=n_classes, on_error=on_error,
                                batch_size=batch_size, class_names=class_names, class_renames=class_renames)
    out = pd.Series([None], dtype=object)
    out.iloc[0] = (result, ids)
    return out


def _merge(
    results: Sequence[tuple[FrameResult, np.ndarray]], m: int, n_classes: int | None
) -> tuple[FrameResult, np.ndarray | None]:
    n = sum(part.votes.shape[0] for part, _ in results)
    merged = FrameResult.empty(n, m, n_classes)
    dtype = np.result_type(merged.votes.dtype, *(part.votes.dtype for part, _ in results))
    merged.votes = merged.votes.astype(dtype, copy=False)
    offset = 0
    for part, _ in results:
        rows = part.votes.shape[0]
        merged.votes[offset:offset + rows] = part.votes
        add_statistics(merged, part, offset)
        offset += rows
    ids = np.concatenate([ids for _, ids in results]) if results else None
    return merged, ids


def add_statistics(merged: FrameResult, part: FrameResult, offset: int) -> None:
    """Add the time, coverage and fault counts of ``part`` (whose first row is ``offset``) to ``merged``.

    Fault records keep at most ``MAX_FAULT_RECORDS`` per LF, their rows
    shifted to rows of the whole data.
    """
    merged.seconds += part.seconds
    merged.covered += part.covered
    merged.n_faults += part.n_faults
    if part.named.size:
        merged.named |= part.named
    for j, records in enumerate(part.records):
        room = max(MAX_FAULT_RECORDS - len(merged.records[j]), 0)
        merged.records[j].extend(_shift(r, offset) for r in records[:room])


def _shift(record: LFFault, offset: int) -> LFFault:
    return record if record.row is None else replace(record, row=record.row + offset)
