"""Runs on the Dask engine, recorded by reference: partitioned votes and soft labels stay in their Parquet folders.

A distributed run records, per kind (``"votes"``, ``"soft_labels"``), the
dataset's root (a folder or fsspec URL), its content fingerprint and its
manifest (what its ``_weaklab.json`` holds: sources, classes, partition
files and rows). Nothing of the items is copied into the store; explaining
an item reads the one partition that holds it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .._core.partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
from .._core.validation import fail
from ..errors import StoreError
from ._base import check_id, check_text, dumps, loads
from ._db import utcnow
from ._rows import StoreBase

__all__ = ["PartitionedMixin", "PARTITIONED_KINDS"]

#: What a distributed run records: its datasets by reference, and small records reduced from them (the
#: agreement between sources, the evidence of its top label issues, where its list of the items that hold gold is),
#: kept in the manifest column.
#: ``"end_model"`` holds the end model's probabilities as given (calibrated on the dev gold when a calibrator was
#: fitted), ``"end_model_raw"`` its own, as a local run's soft-label roles.
_DATASETS = ("votes", "soft_labels", "end_model", "end_model_raw")
_REDUCED = ("agreement", "issue_evidence", "gold")
PARTITIONED_KINDS = _DATASETS + _REDUCED


class PartitionedMixin(StoreBase):
    """Record and read the partitioned datasets of distributed runs."""

    def add_partitioned(self, run_id: int, kind: str, root: str, fingerprint: str,
                        manifest: dict[str, Any]) -> None:
        """Record a run's partitioned votes or soft labels by reference (nothing is copied).

        Parameters
        ----------
        run_id : int
            The run that wrote (or reused) them.
        kind : {"votes", "soft_labels", "end_model", "end_model_raw", "agreement", "issue_evidence", "gold"}
            A dataset (``"end_model"``: the end model's probabilities, in
            the soft labels' layout, calibrated when a calibrator was fitted;
            ``"end_model_raw"``: its own), or a record reduced from one
            (``SourceAgreement.to_dict()``; the evidence of the top label
            issues; the file listing the items that hold gold).
        root : str
            The dataset's folder or fsspec URL (of a reduced record: the
            folder it was reduced from).
        fingerprint : str
            Its content fingerprint (e.g. ``PartitionedLabelMatrix.fingerprint``).
        manifest : dict
            Its ``to_metadata()`` (sources, classes, partitions, rows), or the
            reduced record itself.

        Examples
        --------
        >>> store.add_partitioned(run_id, "votes", plm.root, plm.fingerprint, plm.to_metadata())  # doctest: +SKIP
        """
        run_id = check_id("run_id", run_id)
        if kind not in PARTITIONED_KINDS:
            raise fail("kind", f"one of {list(PARTITIONED_KINDS)}", kind)
        check_text("root", root)
        check_text("fingerprint", fingerprint)
        self._run_row(run_id)
        text = dumps("manifest", manifest)
        with self._transaction() as con:
            con.execute("INSERT INTO partitioned VALUES (?, ?, ?, ?, ?, ?)",
                        [run_id, kind, root, fingerprint, text, utcnow()])

    def partitioned(self, run_id: int) -> dict[str, dict[str, Any]]:
        """A run's partitioned datasets: ``{kind: {"root", "fingerprint", "manifest"}}`` (empty for a local run).

        Examples
        --------
        >>> store.partitioned(run_id)["votes"]["root"]                     # doctest: +SKIP
        '/project/.weaklab/partitions/3f2a...'
        """
        rows = self._query("SELECT kind, root, fingerprint, manifest FROM partitioned WHERE run_id = ? "
                           f"AND kind IN ({', '.join('?' * len(_DATASETS))}) ORDER BY created_at",
                           [check_id("run_id", run_id), *_DATASETS])
        return {kind: {"root": root, "fingerprint": fp, "manifest": loads(manifest)}
                for kind, root, fp, manifest in rows}

    def reduced_record(self, run_id: int, kind: str) -> dict[str, Any] | None:
        """A record a distributed run reduced from its partitions (``"agreement"``, ``"issue_evidence"``, ``"gold"``).

        Returns
        -------
        dict or None
            What the run recorded (the ``manifest`` of :meth:`add_partitioned`),
            None when it recorded no such thing (a local run, or an older one).

        Examples
        --------
        >>> store.reduced_record(run_id, "agreement")["source_names"]     # doctest: +SKIP
        ['kw_song', 'kw_check', ...]
        """
        if kind not in _REDUCED:
            raise fail("kind", f"one of {list(_REDUCED)}", kind)
        rows = self._query("SELECT manifest FROM partitioned WHERE run_id = ? AND kind = ? ORDER BY created_at DESC "
                           "LIMIT 1", [check_id("run_id", run_id), kind])
        return loads(rows[0][0]) if rows else None

    def open_partitioned(self, run_id: int, kind: str = "votes") -> Any:
        """The run's :class:`~weaklab.PartitionedLabelMatrix` (``kind="votes"``) or soft labels (``"soft_labels"``,
        ``"end_model"``, ``"end_model_raw"``), opened lazily.

        Raises
        ------
        StoreError
            The run recorded no such dataset, or its folder is gone (the
            message names the folder).
        """
        if kind not in _DATASETS:
            raise fail("kind", f"one of {list(_DATASETS)} (the datasets; the reduced records: reduced_record())",
                       kind)
        found = self.partitioned(run_id).get(kind)
        if found is None:
            raise StoreError(f"store {self.path}: run {run_id} recorded no partitioned {kind}")
        cls = PartitionedLabelMatrix if kind == "votes" else PartitionedSoftLabels
        key = ("partitioned_open", (kind, found["root"], found["fingerprint"]))
        if key in self._cache:  # content-addressed: the folder's manifest never changes
            return self._cache[key]
        try:
            opened = cls.open(found["root"])
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise StoreError(f"store {self.path}: run {run_id}: the partitioned {kind} at {found['root']} "
                             f"cannot be read ({type(exc).__name__}: {exc})") from None
        self._cache[key] = opened
        return opened

    def _explain_partitioned(self, run_id: int, item_id: Any, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """``explain`` of an item of a distributed run: the item's votes and posterior, read from its partition."""
        plm = self.open_partitioned(run_id, "votes")
        dataset_id = int(self._run_row(run_id)[0])
        locator = self._item_locator(dataset_id)
        if locator is not None and tuple(locator.votes.partition_rows) == tuple(plm.partition_rows):
            found_row = int(locator.rows_of([item_id])[0])  # the dataset's id index: only partitions that may hold it
            if found_row < 0:
                raise fail("item_id", f"the id of an item of dataset {dataset_id}", item_id)
            partition, row = locator.partition_of(found_row)
        else:
            partition, row = _locate(plm, item_id)
        part = plm.read_partition(partition)
        labels = part.select_items([row]).to_dense()[0]
        class_names = list(plm.class_names) if plm.class_names is not None else None
        versions = plm.source_versions or (None,) * plm.n_sources
        votes = [{"source": name, "version": version, "label": int(label),
                  "class_name": None if class_names is None else class_names[int(label)]}
                 for name, version, label in zip(plm.source_names, versions, labels) if label >= 0]
        posterior = None
        if "soft_labels" in found:
            soft = self.open_partitioned(run_id, "soft_labels").read_partition(partition)
            proba = np.asarray(soft.proba[row], dtype=float)
            posterior = {"proba": proba.tolist(), "label": int(np.argmax(proba)), "producer": soft.producer}
        end = None
        if not votes and "end_model" in found:  # an item no source voted on: the end model labels it
            proba = np.asarray(self.open_partitioned(run_id, "end_model").read_partition(partition).proba[row],
                               dtype=float)
            end = {"proba": proba.tolist(), "label": int(np.argmax(proba))}
        label, origin = (end["label"], "end_model") if end else \
            (posterior["label"], "label_model") if posterior else _plurality(votes)
        status = self._run_row(run_id)[1]
        typed = part.item_ids[row]
        return {"item_id": typed.item() if isinstance(typed, np.generic) else typed, "run_id": run_id,
                "run_status": status,
                "dataset": {"dataset_id": int(dataset_id), "name": self._dataset_row(dataset_id)[0]},
                "row": int(plm.partition_offsets[partition]) + row, "partition": partition, "partition_row": row,
                "class_names": class_names, "votes": votes, "posterior": posterior, "end_model_posterior": end,
                "label_model": self._partitioned_model(run_id),
                "label_issues": self._partitioned_issues(run_id, part.item_ids[row]), "corrections": [],
                "annotations": [], "human": None, "final_label": label, "final_from": origin,
                "final_class": None if label is None or not class_names else class_names[label],
                "unavailable": [] if posterior else ["posterior"], "engine": "dask",
                "votes_root": found["votes"]["root"]}

    def _partitioned_issues(self, run_id: int, item_id: Any) -> list[dict[str, Any]]:
        """The run's top label issues that name ``item_id`` (recorded as label issues, else in its metrics)."""
        key = str(item_id.item() if isinstance(item_id, np.generic) else item_id)
        recorded = self._query_with_names(
            "SELECT issue_id, rank, given, suggested, score, method FROM label_issues WHERE run_id = ? AND "
            "item_key = ? ORDER BY issue_id", [run_id, key])
        if recorded[1]:
            return [dict(zip(recorded[0], r)) for r in recorded[1]]
        rows = self._query("SELECT metrics FROM runs WHERE run_id = ?", [run_id])
        metrics = loads(rows[0][0]) if rows else None
        issues = metrics.get("label_issues") if isinstance(metrics, dict) else None
        return [dict(issue) for issue in issues or () if str(issue.get("item_id")) == key]

    def _partitioned_model(self, run_id: int) -> dict[str, Any] | None:
        rows = self._query("SELECT class, label_model_run_id FROM label_model_runs WHERE run_id = ? "
                           "ORDER BY label_model_run_id DESC LIMIT 1", [run_id])
        return None if not rows else {"class": rows[0][0], "label_model_run_id": int(rows[0][1])}


def _locate(plm: PartitionedLabelMatrix, item_id: Any) -> tuple[int, int]:
    """(partition, row) of ``item_id``; a string from the command line also matches an integer id."""
    candidates = [item_id.item() if isinstance(item_id, np.generic) else item_id]
    if isinstance(candidates[0], str) and candidates[0].lstrip("-").isdigit():
        candidates.append(int(candidates[0]))
    for candidate in candidates:
        try:
            partition, row = plm.locate(candidate)
        except (KeyError, ValueError, TypeError):
            continue
        return int(partition), int(row)
    raise fail("item_id", f"the id of an item of the run's votes at {plm.root}", item_id)


def _plurality(votes: list[dict[str, Any]]) -> tuple[int | None, str]:
    if not votes:
        return None, "none"
    labels, counts = np.unique([v["label"] for v in votes], return_counts=True)
    top = labels[counts == counts.max()]
    return (int(top[0]), "votes") if top.size == 1 else (None, "none")
