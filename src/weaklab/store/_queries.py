"""Loading records back and listing them (paginated DataFrames)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core.label_matrix import LabelMatrix
from .._core.soft_labels import SoftLabels
from .._core.state import to_jsonable
from .._core.validation import check_int, fail
from ._base import check_id, check_text, loads
from ._codec import decode_ids, decode_proba, decode_state_arrays, decode_votes
from ._rows import StoreBase, typed_id
from ._runs import INTERRUPTED
from ._sql import VERSIONS_SQL

__all__ = ["QueriesMixin"]

#: The latest decision on each label issue.
_LATEST_DECISION = ("SELECT issue_id, arg_max(decision, created_at) AS decision, arg_max(who, created_at) AS who, "
                    "arg_max(correction_id, created_at) AS correction_id FROM issue_decisions GROUP BY issue_id")
#: The latest decision per (item, suggested class) in the other runs of a dataset's versions
#: (parameters: a dataset id, the run to leave out).
_EARLIER_DECISION = (
    "SELECT li.item_key, li.suggested_class, arg_max(dd.decision, dd.created_at) AS decision, "
    "arg_max(dd.who, dd.created_at) AS who, arg_max(dd.correction_id, dd.created_at) AS correction_id, "
    "arg_max(li.run_id, dd.created_at) AS run_id FROM issue_decisions dd JOIN label_issues li USING (issue_id) "
    f"JOIN runs r ON r.run_id = li.run_id WHERE r.dataset_id IN ({VERSIONS_SQL}) AND li.run_id <> ? "
    "AND li.suggested_class IS NOT NULL GROUP BY li.item_key, li.suggested_class")

_JSON_COLUMNS = ("config", "metrics", "params", "calibration", "report", "meta", "class_names")


#: The columns runs() lists (one row per run, with its dataset's name).
_RUNS_SQL = ("SELECT r.run_id, r.created_at, r.finished_at, r.dataset_id, d.name AS dataset, r.status, "
             "r.config, r.metrics FROM runs r JOIN datasets d USING (dataset_id)")
#: The columns datasets() lists.
_DATASETS_SQL = "SELECT dataset_id, name, fingerprint, n_items, meta, created_at FROM datasets"


class QueriesMixin(StoreBase):
    """Read access: containers back from the store, and listings for the CLI and dashboard."""

    # ------------------------------------------------------------------ containers
    def load_item_ids(self, dataset_id: int) -> np.ndarray:
        """The dataset's item ids, in dataset order, with their original dtype."""
        _, _, dtype, array = self._dataset_row(dataset_id)
        return decode_ids(self._read_array(array), dtype)

    def load_matrix(self, application_id: int) -> LabelMatrix:
        """The label matrix of an application, exactly as recorded (votes, names, versions, ids, form)."""
        row = self._application_row(application_id)
        dataset_id, n, m, k, class_names, layout, votes, rows_name, id_dtype = row
        rows_map = self._rows_of(rows_name)
        dense, coo = decode_votes(self._read_array(votes), layout, n_items=n, n_sources=m, n_classes=k,
                                  rows_map=rows_map)
        names = self._query("SELECT name, version FROM application_sources WHERE application_id = ? "
                            "ORDER BY col", [int(application_id)])
        versions = [v for _, v in names]
        meta: dict[str, Any] = dict(
            n_classes=k, source_names=[s for s, _ in names], class_names=loads(class_names),
            item_ids=self._item_ids_for(dataset_id, rows_map, id_dtype),
            source_versions=None if all(v is None for v in versions) else versions)
        if dense is not None:
            dense.flags.writeable = False
            return LabelMatrix(dense, **meta)
        rows, cols, labels = coo  # type: ignore[misc]
        return LabelMatrix.from_coo(rows, cols, labels, n_items=n, n_sources=m, **meta)

    def load_soft_labels(self, soft_labels_id: int) -> SoftLabels:
        """Recorded soft labels (probabilities re-normalised from their stored precision)."""
        check_id("soft_labels_id", soft_labels_id)
        dataset_id, k, class_names, producer, array, rows_name, id_dtype = self._one(
            "SELECT dataset_id, n_classes, class_names, producer, proba_array, rows_array, id_dtype "
            "FROM soft_labels WHERE soft_labels_id = ?", [int(soft_labels_id)],
            "soft_labels_id", soft_labels_id)
        rows_map = self._rows_of(rows_name)
        proba = decode_proba(self._read_array(array), int(k), rows_map)
        return SoftLabels(proba, item_ids=self._item_ids_for(dataset_id, rows_map, id_dtype),
                          class_names=loads(class_names), producer=producer)

    def load_label_model_state(self, label_model_run_id: int) -> dict[str, Any]:
        """The ``to_state()`` dict of a recorded label model, ready for ``Model.from_state``."""
        check_id("label_model_run_id", label_model_run_id)
        meta, array = self._one(
            "SELECT state, state_array FROM label_model_runs WHERE label_model_run_id = ?",
            [int(label_model_run_id)], "label_model_run_id", label_model_run_id)
        state = loads(meta)
        state["arrays"] = decode_state_arrays(self._read_array(array))
        return state

    def load_end_model_state(self, end_model_run_id: int) -> dict[str, Any] | None:
        """The fitted state a recorded end model was stored with (``"arrays"`` decoded), None when it has none.

        End models recorded before schema version 6, by the Dask engine or
        of a kind that is not persisted (the image CNN) have no state.
        """
        check_id("end_model_run_id", end_model_run_id)
        meta, array = self._one("SELECT state, state_array FROM end_model_runs WHERE end_model_run_id = ?",
                                [int(end_model_run_id)], "end_model_run_id", end_model_run_id)
        if meta is None or array is None:
            return None
        state = loads(meta)
        state["arrays"] = decode_state_arrays(self._read_array(array))
        return state

    def _item_ids_for(self, dataset_id: int, rows_map: np.ndarray | None, id_dtype: str | None) -> Any:
        if id_dtype is None:
            return None
        ids = self.load_item_ids(dataset_id)
        ids = ids if rows_map is None else ids[rows_map]
        return ids.astype(np.dtype(id_dtype), copy=False)

    # ------------------------------------------------------------------ listings
    def runs(self, *, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Runs, newest first.

        Columns: ``run_id, created_at, finished_at, dataset_id, dataset, status, config, metrics``.
        ``status`` is ``"running"``, one of :data:`RUN_STATUSES`, or
        ``"interrupted"`` (the process running it is gone).
        """
        return self._runs_frame("", [], offset, limit)

    def _runs_frame(self, where: str, params: list[Any], offset: int, limit: int | None) -> pd.DataFrame:
        self._refresh_dead_runs()
        frame = self._page(f"{_RUNS_SQL}{where} ORDER BY r.run_id DESC", params, offset, limit)
        if self._dead_runs and len(frame):
            frame["status"] = [self._status_of(r, s) for r, s in zip(frame["run_id"], frame["status"])]
        return frame

    def run(self, run_id: int) -> dict[str, Any]:
        """One run: the row :meth:`runs` lists for it, as a dict of plain values.

        Parameters
        ----------
        run_id : int
            The id of a run of this store.

        Returns
        -------
        dict
            ``run_id, created_at, finished_at, dataset_id, dataset, status, config, metrics``.

        Raises
        ------
        ValidationError
            ``run_id`` is not the id of a run of this store.

        Examples
        --------
        >>> store.run(3)["dataset_id"]                           # doctest: +SKIP
        1
        """
        if isinstance(run_id, bool) or not isinstance(run_id, (int, np.integer)):
            raise fail("run_id", "the id of a run in this store", run_id)
        frame = self._runs_frame(" WHERE r.run_id = ?", [int(run_id)], 0, None)
        if frame.empty:
            raise fail("run_id", "the id of a run in this store", run_id)
        row: dict[str, Any] = to_jsonable(frame.iloc[0].to_dict())
        return row

    def dataset(self, dataset_id: int) -> dict[str, Any]:
        """One dataset: the row :meth:`datasets` lists for it, as a dict of plain values.

        Parameters
        ----------
        dataset_id : int
            The id of a dataset of this store.

        Returns
        -------
        dict
            ``dataset_id, name, fingerprint, n_items, meta, created_at``.

        Raises
        ------
        ValidationError
            ``dataset_id`` is not the id of a dataset of this store.

        Examples
        --------
        >>> store.dataset(1)["meta"]                             # doctest: +SKIP
        {'path': 'data/comments.csv', 'id_column': 'comment_id'}
        """
        if isinstance(dataset_id, bool) or not isinstance(dataset_id, (int, np.integer)):
            raise fail("dataset_id", "the id of a dataset in this store", dataset_id)
        frame = self._page(f"{_DATASETS_SQL} WHERE dataset_id = ?", [int(dataset_id)], 0, None)
        if frame.empty:
            raise fail("dataset_id", "the id of a dataset in this store", dataset_id)
        row: dict[str, Any] = to_jsonable(frame.iloc[0].to_dict())
        return row

    def latest_run_id(self, dataset_id: int | None = None, *, status: str | None = "finished") -> int | None:
        """Id of the newest run with ``status`` (of one dataset if given), or None when there is none.

        Parameters
        ----------
        dataset_id : int, optional
            Only runs of this dataset.
        status : str or None, default="finished"
            Only runs with this status: by default the newest *completed*
            run, so a running, failed or interrupted run is never a default.
            None for the newest run of any status.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if dataset_id is not None:
            clauses.append("dataset_id = ?")
            params.append(check_id("dataset_id", dataset_id))
        if status is not None:
            self._refresh_dead_runs()
            clauses.append("status IN (?, ?)")  # a dead run may still read "running" in a read-only store
            params.extend([check_text("status", status), "running" if status == INTERRUPTED else status])
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._query(f"SELECT run_id, status FROM runs{where} ORDER BY run_id DESC", params)
        for run, found in rows:
            if status is None or self._status_of(int(run), found) == status:
                return int(run)
        return None

    def datasets(self) -> pd.DataFrame:
        """Datasets: ``dataset_id, name, fingerprint, n_items, meta, created_at``."""
        return self._page(f"{_DATASETS_SQL} ORDER BY dataset_id", [], 0, None)

    def sources(self, name: str | None = None) -> pd.DataFrame:
        """Source versions: ``source_id, name, version, kind, code, params, created_at``."""
        where, params = ("WHERE name = ?", [check_text("name", name)]) if name is not None else ("", [])
        return self._page(f"SELECT source_id, name, version, kind, code, params, created_at FROM sources "
                          f"{where} ORDER BY source_id", params, 0, None)

    def run_records(self, run_id: int) -> dict[str, pd.DataFrame]:
        """What a run recorded: ``applications``, ``label_model_runs``, ``soft_labels``, ``end_model_runs``.

        Returns
        -------
        dict of str to pandas.DataFrame
        """
        self._run_row(run_id)
        rid = [int(run_id)]
        return {
            "applications": self._page(
                "SELECT a.application_id, a.dataset_id, a.n_items, a.n_sources, a.n_classes, a.layout, "
                "a.report, "
                "a.created_at FROM run_applications r JOIN applications a USING (application_id) "
                "WHERE r.run_id = ? ORDER BY a.application_id", rid, 0, None),
            "label_model_runs": self._page(
                "SELECT label_model_run_id, application_id, class, params, metrics, created_at "
                "FROM label_model_runs WHERE run_id = ? ORDER BY label_model_run_id", rid, 0, None),
            "soft_labels": self._page(
                "SELECT soft_labels_id, role, producer, n_items, n_classes, created_at FROM soft_labels "
                "WHERE run_id = ? ORDER BY soft_labels_id", rid, 0, None),
            "end_model_runs": self._page(
                "SELECT end_model_run_id, name, params, metrics, calibration, created_at FROM end_model_runs "
                "WHERE run_id = ? ORDER BY end_model_run_id", rid, 0, None),
        }

    def run_source_stats(self, run_id: int) -> pd.DataFrame:
        """Every source's statistics in one run: one row per source (index ``source``), in one query.

        Columns: ``version`` and the statistics, as :meth:`source_history`
        gives them for that run (the latest value of each). A source recorded
        under several versions in the run keeps its most recent one. Empty
        (no rows) when the run recorded none.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from weaklab.store import Store
        >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     run = store.start_run(store.add_dataset("d", item_ids=[1, 2]))
        ...     _ = store.add_source_stats(run, {"w1": {"est_accuracy": 0.8}, "w2": {"est_accuracy": 0.6}})
        ...     store.run_source_stats(run)["est_accuracy"].to_dict()
        {'w1': 0.8, 'w2': 0.6}
        """
        self._run_row(run_id)
        long = self._frame(
            "SELECT source, version, metric, last(value ORDER BY created_at) AS value, max(created_at) AS at "
            "FROM source_stats WHERE run_id = ? GROUP BY source, version, metric", [int(run_id)])
        if long.empty:
            return pd.DataFrame(columns=["version"], index=pd.Index([], name="source"))
        long["version"] = long["version"].astype(object).where(long["version"].notna(), "")
        newest = long.groupby(["source", "version"])["at"].max().reset_index().sort_values("at", kind="stable")
        newest = newest.drop_duplicates("source", keep="last")[["source", "version"]]
        long = long.merge(newest, on=["source", "version"])
        wide = long.pivot(index="source", columns="metric", values="value")
        wide.columns.name = None
        wide.insert(0, "version", newest.set_index("source")["version"].replace("", None).reindex(wide.index))
        return wide

    def source_history(self, name: str) -> pd.DataFrame:
        """A source across runs: one row per run and version with every recorded statistic as a column.

        Columns: ``run_id, created_at, version`` and the statistics
        (``coverage`` from the run's label matrix; ``estimated_accuracy``,
        ``empirical_accuracy`` and others as recorded with
        :meth:`add_source_stats`). Oldest run first.
        """
        check_text("name", name)
        long = self._frame(
            "SELECT s.run_id, r.created_at, s.version, s.metric, last(s.value ORDER BY s.created_at) AS "
            "value "
            "FROM source_stats s JOIN runs r USING (run_id) WHERE s.source = ? "
            "GROUP BY s.run_id, r.created_at, s.version, s.metric", [name])
        if long.empty:
            return pd.DataFrame(columns=["run_id", "created_at", "version"])
        long["version"] = long["version"].astype(object).where(long["version"].notna(), "")
        wide = long.set_index(["run_id", "created_at", "version", "metric"])["value"].unstack("metric")
        wide = wide.reset_index()
        wide.columns.name = None
        wide["version"] = wide["version"].replace("", None)
        return wide.sort_values("run_id", kind="stable").reset_index(drop=True)

    def label_issues(self, run_id: int, *, offset: int = 0, limit: int = 50) -> pd.DataFrame:
        """One page of a run's label issues by rank, with the latest decision.

        ``status`` is ``"open"``, ``"accepted"`` or ``"rejected"``. An issue
        not decided in this run takes the latest decision on the same item
        and suggested class (by name) in another run of the dataset (any
        version of it); ``decided_in_run`` then names that run.
        """
        dataset_id = int(self._run_row(run_id)[0])
        frame = self._page(
            "SELECT i.issue_id, i.rank, i.item_key AS item_id, i.given, i.suggested, i.given_class, "
            "i.suggested_class, i.score, i.method, coalesce(d.decision, p.decision, 'open') AS status, "
            "coalesce(d.who, p.who) AS who, coalesce(d.correction_id, p.correction_id) AS correction_id, "
            "CASE WHEN d.decision IS NULL THEN p.run_id END AS decided_in_run "
            f"FROM label_issues i LEFT JOIN ({_LATEST_DECISION}) d USING (issue_id) "
            f"LEFT JOIN ({_EARLIER_DECISION}) p ON p.item_key = i.item_key AND p.suggested_class = i.suggested_class "
            "WHERE i.run_id = ? ORDER BY i.rank, i.issue_id", [dataset_id, int(run_id), int(run_id)], offset, limit)
        return self._typed_items(frame, dataset_id)

    def n_label_issues(self, run_id: int) -> int:
        """Number of label issues recorded for a run (for pagination)."""
        self._run_row(run_id)
        return int(self._query("SELECT count(*) FROM label_issues WHERE run_id = ?", [int(run_id)])[0][0])

    def corrections(self, run_id: int | None = None, *, item_id: Any = None, offset: int = 0,
                    limit: int | None = None) -> pd.DataFrame:
        """Correction-log rows (oldest first), of one run and/or one item."""
        where, params = self._filters(run_id=run_id, item_id=item_id)
        frame = self._page(
            "SELECT correction_id, run_id, item_key AS item_id, old_label, new_label, method, score, "
            "threshold, "
            "who, why, issue_id, created_at, (SELECT dataset_id FROM runs r WHERE r.run_id = c.run_id) "
            "AS dataset_id "
            f"FROM corrections c {where} ORDER BY correction_id", params, offset, limit)
        return self._typed_items_any(frame).drop(columns="dataset_id")

    def alerts(self, run_id: int | None = None, *, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Alerts (newest first), of one run if given (a run id the store does not hold is a ValidationError)."""
        if run_id is not None:
            self._run_row(run_id)
        where, params = self._filters(run_id=run_id)
        return self._page(f"SELECT alert_id, run_id, kind, source, severity, message, value, created_at "
                          f"FROM alerts {where} ORDER BY alert_id DESC", params, offset, limit)

    def claims(self, run_id: int) -> pd.DataFrame:
        """Unexpired review claims of a run: ``item_id, annotator, claimed_at, expires_at``."""
        from ._db import utcnow

        self._run_row(run_id)
        frame = self._page("SELECT item_key AS item_id, annotator, claimed_at, expires_at FROM claims "
                           "WHERE run_id = ? AND expires_at > ? ORDER BY claimed_at, row",
                           [int(run_id), utcnow()], 0, None)
        return self._typed_items(frame, int(self._run_row(run_id)[0]))

    # ------------------------------------------------------------------ helpers
    def _filters(self, **given: Any) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in given.items():
            if value is None:
                continue
            if column == "item_id":
                clauses.append("item_key = ?")
                params.append(str(value.item() if isinstance(value, np.generic) else value))
            elif column == "annotator":
                clauses.append("annotator = ?")
                params.append(check_text("annotator", value))
            else:
                clauses.append(f"{column} = ?")  # column names are constants of this module
                params.append(check_id(column, value))
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _page(self, sql: str, params: list[Any], offset: int, limit: int | None) -> pd.DataFrame:
        offset = check_int("offset", offset, low=0)
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, check_int("limit", limit, low=0)]
        if offset:
            sql += " OFFSET ?"
            params = [*params, offset]
        frame = self._frame(sql, params)
        for column in _JSON_COLUMNS:
            if column in frame.columns:
                frame[column] = [loads(v) if isinstance(v, str) else v for v in frame[column]]
        return frame

    def _typed_items_any(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not len(frame):
            return frame
        dtypes = {int(d): str(self._dataset_row(int(d))[2]) for d in frame["dataset_id"].unique()}
        pairs = zip(frame["item_id"], frame["dataset_id"])
        frame["item_id"] = [typed_id(k, dtypes[int(d)]) for k, d in pairs]
        return frame

    def _typed_items(self, frame: pd.DataFrame, dataset_id: int) -> pd.DataFrame:
        if "item_id" in frame.columns and len(frame):
            dtype = str(self._dataset_row(dataset_id)[2])
            frame["item_id"] = [typed_id(k, dtype) for k in frame["item_id"]]
        return frame
