"""Appliers: run labeling functions over data into a LabelMatrix and an ApplyReport.

The local engine walks the data in batches. Vectorized LFs run over each
whole batch as column operations; row-wise LFs run row by row, in a process
pool when ``n_jobs > 1`` (the built-in templates then also run in threads:
their Arrow/RE2 kernels release the GIL). Votes go straight into one preallocated ``int8``
matrix (``int16`` beyond 127 classes), so memory stays near the data plus the
matrix. ``engine="dask"`` runs the same per-batch code on each partition of a
Dask DataFrame (see :mod:`weaklab.labeling.dask_apply`); with ``output=`` it
writes the votes per partition to Parquet and returns a
:class:`~weaklab.PartitionedLabelMatrix` (see :mod:`weaklab.labeling.dask_output`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import pandas as pd

from .._core.label_matrix import LabelMatrix
from .._core.validation import check_bool, check_choice, check_int, describe, fail
from ._batch import LFFault
from ._engine import check_fields, item_ids, run_frame
from ._report import ApplyReport, finish
from .lf import LabelingFunction

if TYPE_CHECKING:
    from .._core.partitioned import PartitionedLabelMatrix

__all__ = ["ApplyReport", "LFFault", "apply_lfs"]


DEFAULT_BATCH_SIZE = 50_000


@overload
def apply_lfs(
    lfs: Sequence[LabelingFunction],
    data: Any,
    *,
    engine: str = "local",
    n_jobs: int = 1,
    progress: bool = True,
    on_error: str = "raise",
    batch_size: int = DEFAULT_BATCH_SIZE,
    item_id: str | None = None,
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    output: None = None,
    storage_options: Mapping[str, Any] | None = None,
    class_renames: Mapping[str, str] | None = None,
) -> tuple[LabelMatrix, ApplyReport]: ...


@overload
def apply_lfs(
    lfs: Sequence[LabelingFunction],
    data: Any,
    *,
    engine: str = "local",
    n_jobs: int = 1,
    progress: bool = True,
    on_error: str = "raise",
    batch_size: int = DEFAULT_BATCH_SIZE,
    item_id: str | None = None,
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    output: str | os.PathLike[str],
    storage_options: Mapping[str, Any] | None = None,
    class_renames: Mapping[str, str] | None = None,
) -> tuple[PartitionedLabelMatrix, ApplyReport]: ...


def apply_lfs(
    lfs: Sequence[LabelingFunction],
    data: Any,
    *,
    engine: str = "local",
    n_jobs: int = 1,
    progress: bool = True,
    on_error: str = "raise",
    batch_size: int = DEFAULT_BATCH_SIZE,
    item_id: str | None = None,
    n_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    class_renames: Mapping[str, str] | None = None,
) -> tuple[LabelMatrix | PartitionedLabelMatrix, ApplyReport]:
    """Apply labeling functions to every item of ``data``.

    Parameters
    ----------
    lfs : sequence of LabelingFunction
        Sources to run; their names (unique) become the matrix's source
        names and their fingerprints its source versions.
    data : pandas.DataFrame, list of dicts or dict of columns
        One row per item (a Dask DataFrame with ``engine="dask"``).
    engine : {"local", "dask"}, default="local"
        Where to run. ``"dask"`` needs the ``dask`` extra.
    n_jobs : int, default=1
        Worker processes for row-wise LFs; ``-1`` uses all cores (negative
        values count back from the number of cores, as in scikit-learn).
    progress : bool, default=True
        Show a transient progress bar on interactive terminals (never in
        logs or non-interactive runs).
    on_error : {"raise", "abstain"}, default="raise"
        On a fault (an LF raises or returns an invalid vote): raise
        :class:`~weaklab.errors.LFExecutionError` naming the LF and the item,
        or make that vote ``-1`` and record the fault in the report.
    batch_size : int, default=50000
        Items per batch (memory of per-batch work grows with it).
    item_id : str, optional
        Column holding unique item ids; by default the DataFrame index when
        it is unique.
    n_classes : int, optional
        Number of classes; inferred as ``max vote + 1`` (at least 2) when
        omitted, or from ``class_names``. With it, votes ``>= n_classes`` are
        faults.
    class_names : sequence of str, optional
        Names of the classes. With them, a labeling function may vote a
        class *name* (``return "spam"``, or an array of names from a
        vectorized one): it counts as the name's position in
        ``class_names``, so votes keep their meaning when the list is
        reordered. An unknown name is a fault naming the LF, the item and
        the name.
    output : str or path-like, optional
        With ``engine="dask"`` only: a folder (local path or fsspec URL such
        as ``s3://bucket/run/votes``) where the votes are written per
        partition as Parquet (``votes/part-NNNNN.parquet``: ``item_id`` and
        one int8/int16 column per LF, plus ``_weaklab.json`` written last).
        The votes are then never gathered on the client, and a
        :class:`~weaklab.PartitionedLabelMatrix` is returned. Item ids are
        checked for uniqueness within each partition only.
    storage_options : mapping, optional
        fsspec options for ``output`` (credentials, endpoint, ...).
    class_renames : mapping of str to str, optional
        ``{old name: name of class_names}``: classes renamed since the
        labeling functions were written (``[labels.rename]`` in a project).
        A vote of an old name counts as its new name's class. An old name
        must no longer be a class (else a vote of it is ambiguous), and a
        new name must be one.

    Returns
    -------
    L : LabelMatrix or PartitionedLabelMatrix
        Votes of shape ``(n_items, len(lfs))``, ``-1`` = abstain
        (partitioned when ``output`` is given).
    report : ApplyReport
        Per-LF time, coverage and faults.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import apply_lfs, keyword_lf, regex_lf
    >>> lfs = [keyword_lf("subscribe", 1), regex_lf(r"https?://", 1, name="link"), keyword_lf("song", 0)]
    >>> data = pd.DataFrame({"id": ["c1", "c2", "c3"], "text": ["subscribe http://x.example", "nice song", "hm"]})
    >>> L, report = apply_lfs(lfs, data, item_id="id", n_classes=2, progress=False)
    >>> L.to_dense().tolist(), L.item_ids.tolist()
    ([[1, 1, -1], [-1, -1, 0], [-1, -1, -1]], ['c1', 'c2', 'c3'])
    >>> report.coverage
    (0.3333333333333333, 0.3333333333333333, 0.3333333333333333)
    """
    lfs = _check_lfs(lfs)
    check_choice("engine", engine, ("local", "dask"))
    check_choice("on_error", on_error, ("raise", "abstain"))
    n_jobs = _resolve_n_jobs(n_jobs)
    progress = check_bool("progress", progress)
    batch_size = check_int("batch_size", batch_size, low=1)
    k = _resolve_n_classes(n_classes, class_names)
    renames = _check_renames(class_renames, class_names)
    if item_id is not None and not isinstance(item_id, str):
        raise fail("item_id", "a column name or None", item_id)
    if output is not None and engine != "dask":
        raise fail("output", "None with engine='local' (partitioned output needs engine='dask')", output)
    if engine == "dask":
        from .dask_apply import apply_dask

        return apply_dask(lfs, data, n_jobs=n_jobs, on_error=on_error, batch_size=batch_size,
                          item_id=item_id, n_classes=k, class_names=class_names, output=output,
                          storage_options=storage_options, class_renames=renames)
    frame = as_frame(data)
    ids = item_ids(frame, item_id)
    check_fields(lfs, frame.columns)
    start = time.perf_counter()
    result = run_frame(lfs, frame, ids, n_classes=k, on_error=on_error, batch_size=batch_size,
                       n_jobs=n_jobs, progress=progress, class_names=class_names, class_renames=renames)
    return finish(lfs, result, ids, k, class_names, engine="local", n_jobs=n_jobs,
                  seconds=time.perf_counter() - start)


# ---------------------------------------------------------------------------
# Validation of the inputs.
# ---------------------------------------------------------------------------


def _check_lfs(lfs: Any) -> list[LabelingFunction]:
    if isinstance(lfs, LabelingFunction) or not isinstance(lfs, Sequence) or isinstance(lfs, str):
        raise fail("lfs", "a list of LabelingFunction", lfs)
    lfs = list(lfs)
    if not lfs:
        raise fail("lfs", "at least one labeling function", lfs)
    for lf in lfs:
        if not isinstance(lf, LabelingFunction):
            hint = " (decorate it with @labeling_function)" if callable(lf) else ""
            raise fail("lfs", f"LabelingFunction objects{hint}", lf)
    names = [lf.name for lf in lfs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise fail("lfs", "labeling functions with unique names (pass name=... to tell them apart)",
                   got_text=f"the name {dupes[0]!r} {names.count(dupes[0])} times")
    return lfs


def _resolve_n_jobs(n_jobs: Any) -> int:
    n_jobs = check_int("n_jobs", n_jobs)
    if n_jobs == 0:
        raise fail("n_jobs", "a positive number of processes or a negative count back from the cores", 0)
    cores = os.cpu_count() or 1
    return n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)


def _check_renames(class_renames: Any, class_names: Sequence[str] | None) -> dict[str, str] | None:
    """``class_renames`` as a dict (None when empty): old names no class has, each mapped to a class."""
    if class_renames is None or (isinstance(class_renames, Mapping) and not class_renames):
        return None
    if not isinstance(class_renames, Mapping):
        raise fail("class_renames", "a mapping of old class name to class name", class_renames)
    if class_names is None:
        raise fail("class_names", "the class list the renamed classes map into", got_text="None")
    names = [str(c) for c in class_names]
    for old, new in class_renames.items():
        if new not in names:
            raise fail(f"class_renames[{old!r}]", f"one of the class names {names}", new)
        if old in names and old != new:
            raise fail(f"class_renames[{old!r}]", "an old name that is no longer a class",
                       got_text=f"{old!r}, which is a class as well as renamed to {new!r} (a vote {old!r} could "
                       f"mean either): drop the rename, or rename the class {old!r}")
    return {str(old): str(new) for old, new in class_renames.items()}


def _resolve_n_classes(n_classes: Any, class_names: Any) -> int | None:
    if n_classes is not None:
        return check_int("n_classes", n_classes, low=2)
    if class_names is not None:
        if isinstance(class_names, str) or not isinstance(class_names, Sequence):
            raise fail("class_names", "a sequence of class names", class_names)
        return check_int("n_classes", len(class_names), low=2)
    return None


def as_frame(data: Any) -> pd.DataFrame:
    """``data`` as a pandas DataFrame (from a list of dicts or a dict of columns)."""
    if isinstance(data, pd.DataFrame):
        return data
    if type(data).__module__.startswith("dask"):
        raise fail("data", "a pandas DataFrame for engine='local' (use engine='dask')", data)
    expected = "a pandas DataFrame, a list of dicts or a dict of columns"
    if isinstance(data, Mapping) or (isinstance(data, list) and all(isinstance(r, Mapping) for r in data)):
        try:
            return pd.DataFrame(dict(data) if isinstance(data, Mapping) else data)
        except (ValueError, TypeError) as exc:
            raise fail("data", expected, got_text=f"{describe(data)} ({exc})") from None
    raise fail("data", expected, data)


