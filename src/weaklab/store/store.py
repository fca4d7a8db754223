"""The lineage store: ``Store(path)``."""

from __future__ import annotations

from ._answers import AnswersMixin
from ._diff import DiffMixin
from ._explain import ExplainMixin
from ._fit_gold import FitGoldMixin
from ._lineage import LineageMixin
from ._partitioned_data import PartitionedDataMixin
from ._queries import QueriesMixin
from ._queue import QueueMixin
from ._repair import RepairMixin
from ._review import ReviewMixin
from ._span_diff import SpanDiffMixin
from ._versions import VersionsMixin

__all__ = ["Store"]


class Store(RepairMixin, DiffMixin, SpanDiffMixin, ExplainMixin, QueriesMixin, VersionsMixin, AnswersMixin, ReviewMixin,
            LineageMixin, PartitionedDataMixin, FitGoldMixin, QueueMixin):
    """Every run, source version, matrix, label, correction and human answer, in one embedded database.

    The records live in a DuckDB file (default ``.weaklab/weaklab.duckdb`` in
    the working directory); large arrays (label matrices, soft labels, model
    state) live in content-addressed Parquet files in an ``arrays/`` folder
    beside it. Records are append-only (a run's status and metrics are set
    once by :meth:`finish_run`; review claims are leases, not lineage).

    Datasets with one name are versions of one dataset (a data file edited
    between runs). Human answers, corrections and label-issue decisions
    belong to the name and the item ids: every version sees those of the
    items it holds (:meth:`carry_over`, :meth:`changed_since_answered`).
    Answers keep the class *name* they were given as, their own identity
    and time (an edited answer supersedes its older version, kept as
    history), and resolve into one label per item by one documented rule
    (:meth:`human_labels`, :meth:`disagreements`).

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; created with its folder when missing (unless
        ``read_only``).
    read_only : bool, default=False
        Open for reading only. Several processes may read one store at once.
    timeout : float, default=10.0
        Seconds to wait while another process holds the file (it holds it
        only while it reads or writes), before a StoreError names it.

    Raises
    ------
    StoreError
        The file is not a DuckDB database, is corrupt, or another process held
        it for longer than ``timeout`` (the message names the file, and the
        holder's PID and command).
    SchemaVersionError
        The file was written by a newer weaklab, or is a DuckDB database that
        is not a weaklab store; the file is left untouched.

    Notes
    -----
    Concurrency. DuckDB lets **one process** open a file for writing, or
    **several processes** open it read-only, never both at once. So a Store
    opens its file only while an operation runs (a read opens it read-only,
    so other processes read at the same time; a write opens it for writing)
    and closes it a quarter of a second after the last operation, or at once
    when another process is waiting for it. A Store left open in an idle
    process (a notebook, ``weaklab serve``) blocks nobody; a long computation
    between two writes holds nothing. :meth:`session` keeps the file open
    across a block of operations. Inside one process a ``Store`` is
    thread-safe and every Store on the same file shares one connection:
    reads run concurrently on per-thread cursors, writes are serialised and
    each runs in one transaction.

    Durability. Every write is one DuckDB transaction, and array files are
    written to a temporary name, flushed and renamed before the transaction
    that names them commits: a process killed mid-write leaves a store that
    opens and holds every record committed before, plus at most an unnamed
    (harmless) Parquet file.

    Examples
    --------
    >>> with Store("project/.weaklab/weaklab.duckdb") as store:    # doctest: +SKIP
    ...     ds = store.add_dataset("spam", item_ids=df["comment_id"])
    ...     run = store.start_run(ds, {"label_model": "DawidSkene"})
    ...     app = store.add_application(ds, L, report=report.to_dict(), run_id=run)
    ...     store.finish_run(run, metrics={"accuracy": 0.91})
    ...     store.explain(df["comment_id"][0])
    """

    def __enter__(self) -> Store:
        return self
