"""The Dask engine with ``output=``: votes written per partition to Parquet, never gathered.

Each partition of the Dask DataFrame runs the local engine's batch code on a
worker, writes its votes and item ids to ``ROOT/votes/part-NNNNN.parquet``
and returns only its statistics (time, coverage, faults, rows). The client
merges those into the :class:`~weaklab.labeling.ApplyReport`, writes
``ROOT/_weaklab.json`` last and returns a
:class:`~weaklab.PartitionedLabelMatrix` naming the files.

Each partition is written dense or long (:mod:`weaklab._core.votes_layout`,
``auto``: long for crowd-shaped partitions). A partition is the unit of resume (:mod:`weaklab.labeling.dask_resume`): a
rerun into the same ``output`` reuses every partition whose votes file is
complete and whose manifest entry matches its input rows and LF versions, and
runs the LFs on the others only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .._core.constants import ABSTAIN
from .._core.dataset_io import filesystem, write_frame
from .._core.partitioned import ITEM_ID, PartitionedLabelMatrix, partition_fingerprint, votes_file
from .._core.validation import fail
from .._core.votes_layout import choose_layout, layout_frame
from ..errors import LFExecutionError
from ._engine import FrameResult
from ._report import ApplyReport, make_report
from .dask_apply import add_statistics, relocated_error, run_partition
from .dask_resume import forget_entry, partition_key, restore_statistics, reusable_entry, write_entry
from .lf import LabelingFunction

__all__ = ["apply_dask_to_parquet"]


def apply_dask_to_parquet(
    lfs: list[LabelingFunction],
    data: Any,
    output: Any,
    *,
    storage_options: Mapping[str, Any] | None,
    n_jobs: int,
    on_error: str,
    batch_size: int,
    item_id: str | None,
    n_classes: int | None,
    class_names: Sequence[str] | None,
    class_renames: Mapping[str, str] | None = None,
) -> tuple[PartitionedLabelMatrix, ApplyReport]:
    """Apply ``lfs`` to every partition of the Dask DataFrame ``data``, writing votes under ``output``.

    See :func:`~weaklab.labeling.apply_lfs` (``engine="dask"``, ``output=...``).
    """
    import dask

    names = [lf.name for lf in lfs]
    if ITEM_ID in names:
        raise fail("lfs", f"labeling functions not named {ITEM_ID!r} (the id column of the votes files)", names)
    filesystem(output, storage_options)  # fail early on a bad URL or missing fsspec backend
    root = output if isinstance(output, str) else str(output.__fspath__())
    start = time.perf_counter()
    tasks = [dask.delayed(_write_partition)(part, i, lfs, root, storage_options, item_id, n_classes, on_error,
                                            batch_size, class_names, class_renames)
             for i, part in enumerate(data.to_delayed())]
    try:
        results: list[_Written] = list(dask.compute(*tasks))
    except LFExecutionError as exc:
        raise relocated_error(exc, lfs, data, item_id=item_id, n_classes=n_classes, batch_size=batch_size,
                              class_names=class_names, class_renames=class_renames) from exc.original
    merged, rows = _merge_stats(results, len(lfs), n_classes)
    top = max((r[2] for r in results), default=ABSTAIN)
    k = n_classes if n_classes is not None else max(2, top + 1)
    plm = PartitionedLabelMatrix(root, tuple(names), k, tuple(votes_file(i) for i in range(len(rows))), rows,
                                 tuple(lf.fingerprint for lf in lfs),
                                 None if class_names is None else tuple(class_names),
                                 tuple(r[3] for r in results), _layouts(results), storage_options)
    plm.save_metadata()
    report = make_report(lfs, merged, plm.n_items, engine="dask", n_jobs=n_jobs,
                         seconds=time.perf_counter() - start,
                         partitions_reused=sum(1 for r in results if r[5]))
    return plm, report


_Written = tuple[FrameResult, int, int, str, str, bool]
"""What one partition's task returns: statistics, rows, largest vote, votes fingerprint, layout, reused."""


def _write_partition(frame: pd.DataFrame, number: int, lfs: list[LabelingFunction], root: str,
                     storage_options: Mapping[str, Any] | None, item_id: str | None, n_classes: int | None,
                     on_error: str, batch_size: int, class_names: Sequence[str] | None = None,
                     class_renames: Mapping[str, str] | None = None) -> _Written:
    """Reuse partition ``number`` when its file and manifest entry match; else run the LFs and write it."""
    names = [lf.name for lf in lfs]
    key = partition_key(frame, lfs, item_id=item_id, n_classes=n_classes, on_error=on_error,
                        class_names=class_names, class_renames=class_renames)
    entry = reusable_entry(root, number, key, names, storage_options)
    if entry is not None:
        return (restore_statistics(entry, len(lfs)), int(entry["rows"]), int(entry["top"]), str(entry["votes"]),
                str(entry.get("layout", "dense")), True)
    forget_entry(root, number, storage_options)
    result, ids = run_partition(lfs, frame, number, item_id=item_id, n_classes=n_classes, on_error=on_error,
                               batch_size=batch_size, class_names=class_names, class_renames=class_renames)
    rows, top = result.votes.shape[0], int(result.votes.max(initial=ABSTAIN))
    layout = choose_layout("auto", rows, len(lfs), int(result.covered.sum()))
    write_frame(layout_frame(ids, result.votes, names, layout), root, votes_file(number), storage_options)
    digest = partition_fingerprint(ids, result.votes)
    result.votes = result.votes[:0]  # only the statistics travel back to the client
    write_entry(root, number, key, result, (rows, top, digest, layout), storage_options)
    return result, rows, top, digest, layout, False


def _layouts(results: Sequence[_Written]) -> tuple[str, ...] | None:
    layouts = tuple(r[4] for r in results)
    return None if set(layouts) <= {"dense"} else layouts


def _merge_stats(results: Sequence[_Written], m: int, n_classes: int | None) -> tuple[FrameResult, tuple[int, ...]]:
    merged = FrameResult.empty(0, m, n_classes)
    offset = 0
    for part, rows, *_ in results:
        add_statistics(merged, part, offset)
        offset += rows
    return merged, tuple(int(r[1]) for r in results)
