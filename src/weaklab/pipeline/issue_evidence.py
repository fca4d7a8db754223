"""The evidence of a Dask run's top label issues, gathered on the workers when the run ranks them.

The label issues page shows, for each issue, the item's votes, its posterior
and its text. A run on the Dask engine keeps those in Parquet partitions and
the data file; reading them when the page is opened costs a partition of
votes, one of soft labels and a row group of data per item (seconds for a
page of 25). The ``issues`` step therefore reads them once, on the workers,
one task per partition that holds an issue (its votes and soft-label
partitions and the text column of its data partition), and the store keeps
the few rows (:meth:`~weaklab.store.Store.reduced_record`, kind
``"issue_evidence"``). Only the top N items' votes, posteriors and texts
reach the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._core.dask_ops import import_dask
from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from .._core.state import to_jsonable
from .._core.validation import fail

__all__ = ["MAX_EVIDENCE_TEXT", "issue_evidence", "evidence_by_item"]

#: Characters of an item's text kept with its evidence (the issues page shows the first 160).
MAX_EVIDENCE_TEXT = 500


def issue_evidence(plm: PartitionedLabelMatrix, soft: PartitionedSoftLabels, issues: pd.DataFrame,
                   frame: Any = None, *, text_column: str | None = None) -> dict[str, Any]:
    """Votes, posterior and text of each item of ``issues``, read partition by partition on the workers.

    Parameters
    ----------
    plm : PartitionedLabelMatrix
        The run's votes.
    soft : PartitionedSoftLabels
        The label model's soft labels of ``plm`` (same partitions).
    issues : pandas.DataFrame
        Columns ``item_id``, ``partition`` and ``row`` (within the
        partition), as :func:`weaklab.cleaning.top_label_issues` returns.
    frame : dask.dataframe.DataFrame, optional
        The data the votes were applied to (same partitions); its
        ``text_column`` gives the texts.
    text_column : str, optional

    Returns
    -------
    dict
        JSON-able: ``kind`` (``"issue_evidence"``), ``source_names``,
        ``source_versions``, ``class_names`` and ``items``: one
        ``{"item_id", "votes": [[source index, class id], ...], "proba",
        "text"}`` per issue, in the order of ``issues``. A text is cut to
        ``MAX_EVIDENCE_TEXT`` characters, and None when the data partition
        does not have the votes' rows (the file changed).

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> from weaklab.models import MajorityVote
    >>> votes = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(np.array([[0, 1], [1, 1]]))])
    >>> soft = MajorityVote().fit(votes).predict_proba(votes)
    >>> found = issue_evidence(votes, soft, pd.DataFrame({"item_id": [0], "partition": [0], "row": [0]}))
    >>> found["items"][0]["votes"], found["items"][0]["proba"]
    ([[0, 0], [1, 1]], [0.5, 0.5])
    """
    dask = import_dask()
    if tuple(soft.partition_rows) != tuple(plm.partition_rows):
        raise fail("soft", f"partitions of {list(plm.partition_rows)} rows (as the votes)",
                   got_text=f"{list(soft.partition_rows)}")
    parts = np.asarray(issues["partition"], dtype=np.int64)
    rows = np.asarray(issues["row"], dtype=np.int64)
    tasks = []
    for p in np.unique(parts):
        data = None
        if frame is not None and text_column is not None:
            data = frame.partitions[int(p)][[text_column]].to_delayed()[0]
        tasks.append(dask.delayed(_partition_evidence)(plm, soft, int(p), rows[parts == p], data, text_column))
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for p, part in zip(np.unique(parts), dask.compute(*tasks)):
        found.update({(int(p), int(r)): item for r, item in zip(rows[parts == p], part)})
    return {"kind": "issue_evidence", "source_names": list(plm.source_names),
            "source_versions": None if plm.source_versions is None else list(plm.source_versions),
            "class_names": None if plm.class_names is None else list(plm.class_names),
            "items": [found[(int(p), int(r))] for p, r in zip(parts, rows)]}


def _partition_evidence(plm: PartitionedLabelMatrix, soft: PartitionedSoftLabels, p: int, rows: np.ndarray,
                        data: pd.DataFrame | None, text_column: str | None) -> list[dict[str, Any]]:
    """The evidence of ``rows`` of partition ``p`` (runs on a worker)."""
    votes = plm.read_partition(p).select_items(rows)
    dense = votes.to_dense()
    proba = soft.read_partition(p).proba[rows]
    texts: list[Any] = [None] * len(rows)
    if data is not None and text_column is not None and len(data) == plm.partition_rows[p]:
        texts = [None if _missing(v) else str(v)[:MAX_EVIDENCE_TEXT] for v in data[text_column].iloc[rows]]
    ids = rows if votes.item_ids is None else votes.item_ids
    return [{"item_id": to_jsonable(ids[i]),
             "votes": [[int(j), int(dense[i, j])] for j in np.flatnonzero(dense[i] >= 0)],
             "proba": [float(x) for x in proba[i]], "text": texts[i]} for i in range(len(rows))]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def evidence_by_item(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{item key: {"votes": [{"source", "version", "label", "class_name"}], "proba", "text"}}`` of a record.

    The votes are listed as :meth:`~weaklab.store.Store.explain` lists them.

    Examples
    --------
    >>> record = {"source_names": ["a", "b"], "source_versions": None, "class_names": ["no", "yes"],
    ...           "items": [{"item_id": 7, "votes": [[1, 1]], "proba": [0.2, 0.8], "text": "hi"}]}
    >>> evidence_by_item(record)["7"]["votes"]
    [{'source': 'b', 'version': None, 'label': 1, 'class_name': 'yes'}]
    """
    names, classes = record["source_names"], record.get("class_names")
    versions = record.get("source_versions") or [None] * len(names)
    out: dict[str, dict[str, Any]] = {}
    for item in record["items"]:
        votes = [{"source": names[j], "version": versions[j], "label": int(label),
                  "class_name": classes[label] if classes else None} for j, label in item["votes"]]
        out[str(item["item_id"])] = {"votes": votes, "proba": item["proba"], "text": item["text"]}
    return out
