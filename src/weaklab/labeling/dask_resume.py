"""Partition-level resume of the Dask engine's Parquet output.

The unit of resume is one partition: its votes file
(``ROOT/votes/part-NNNNN.parquet``) and its manifest entry
(``ROOT/_manifest/part-NNNNN.json``), written in that order, each atomically.
The entry holds the partition's *key* -- a fingerprint of the partition's
input rows (every column and the index), the LF names and versions, and the
settings that change votes (``item_id``, ``n_classes``, ``on_error``) -- the
content fingerprint of the votes file, and the statistics the task returned
(time, coverage, faults), so that a rerun reports the same counters without
running the LFs.

A task first computes its key from the rows it was given. When the entry
exists, carries that key, and the votes file on disk has the fingerprint the
entry recorded, the partition is reused; otherwise the stale entry is removed,
the LFs run, the file is written, and the entry last. A run killed at any
moment therefore leaves every partition either complete and matching (reused
by the next run) or recomputed by it; nothing half-written is ever read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._core.dataset_io import filesystem, join, read_json, write_json
from .._core.hashing import fingerprint
from .._core.partitioned import load_votes_file, partition_fingerprint, votes_file
from ._batch import LFFault
from ._engine import FrameResult
from .lf import LabelingFunction

__all__ = ["ENTRY_FORMAT", "entry_file", "partition_key", "reusable_entry", "forget_entry", "write_entry",
           "restore_statistics"]

ENTRY_FORMAT = 1
"""Version of a manifest entry."""


def entry_file(i: int) -> str:
    """Relative path of the manifest entry of partition ``i`` (``_manifest/part-00000.json``).

    Examples
    --------
    >>> entry_file(3)
    '_manifest/part-00003.json'
    """
    return f"_manifest/part-{i:05d}.json"


def partition_key(frame: pd.DataFrame, lfs: Sequence[LabelingFunction], *, item_id: str | None,
                  n_classes: int | None, on_error: str, class_names: Sequence[str] | None = None,
                  class_renames: Mapping[str, str] | None = None) -> str:
    """Fingerprint of what a partition's votes depend on: its input rows, the LF versions and the settings.

    Examples
    --------
    >>> import pandas as pd
    >>> a = partition_key(pd.DataFrame({"text": ["x"]}), [], item_id=None, n_classes=2, on_error="raise")
    >>> b = partition_key(pd.DataFrame({"text": ["y"]}), [], item_id=None, n_classes=2, on_error="raise")
    >>> a == b
    False
    """
    versions = [(lf.name, lf.fingerprint) for lf in lfs]
    names = () if class_names is None else (list(class_names),)  # class-name votes depend on the class list
    renames = (sorted(class_renames.items()),) if class_renames else ()  # and on the old names they map
    return fingerprint("votes-partition-key", frame, versions, item_id, n_classes, on_error, *names, *renames)


def reusable_entry(root: str, number: int, key: str, source_names: Sequence[str],
                   storage_options: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The manifest entry of partition ``number`` when its file is complete and matches ``key``; else None.

    "Complete and matching": the entry carries ``key``, and the votes file
    read back has the content fingerprint the entry recorded (a file from an
    older run, or one whose entry was never written, is not reused).
    """
    try:
        entry = read_json(root, entry_file(number), storage_options)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != ENTRY_FORMAT or entry.get("key") != key:
        return None
    try:
        ids, votes = load_votes_file(root, votes_file(number), source_names, str(entry.get("layout", "dense")),
                                     storage_options)
    except (OSError, ValueError, KeyError):
        return None
    return entry if partition_fingerprint(ids, votes) == entry.get("votes") else None


def forget_entry(root: str, number: int, storage_options: Mapping[str, Any] | None) -> None:
    """Remove the manifest entry of partition ``number`` (before its file is written again)."""
    fs, base = filesystem(root, storage_options)
    path = join(base, entry_file(number))
    if fs.exists(path):
        fs.rm(path)


def write_entry(root: str, number: int, key: str, result: FrameResult, summary: tuple[int, int, str, str],
                storage_options: Mapping[str, Any] | None) -> None:
    """Write the manifest entry of partition ``number`` (after its votes file).

    ``summary`` is ``(rows, largest vote, votes fingerprint, layout)``.
    """
    rows, top, digest, layout = summary
    entry = {"format": ENTRY_FORMAT, "partition": number, "key": key, "rows": rows, "top": top, "votes": digest,
             "layout": layout,
             "seconds": [float(s) for s in result.seconds], "covered": [int(c) for c in result.covered],
             "n_faults": [int(c) for c in result.n_faults], "named": [bool(v) for v in result.named],
             "records": [[f.to_dict() for f in records] for records in result.records]}
    write_json(entry, root, entry_file(number), storage_options)


def restore_statistics(entry: Mapping[str, Any], m: int) -> FrameResult:
    """The statistics a reused partition's task returned when it ran (votes left empty)."""
    records = [[LFFault(**record) for record in per_lf] for per_lf in entry["records"]]
    return FrameResult(np.empty((0, m), dtype=np.int8), np.asarray(entry["seconds"], dtype=np.float64),
                       np.asarray(entry["covered"], dtype=np.int64), np.asarray(entry["n_faults"], dtype=np.int64),
                       records, np.asarray(entry.get("named", [False] * m), dtype=bool))
