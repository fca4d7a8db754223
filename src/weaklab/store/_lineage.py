"""Lineage records: datasets, sources, runs, applications and what the label models produced (append-only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .._core.hashing import fingerprint
from .._core.label_matrix import LabelMatrix, validate_item_ids
from .._core.soft_labels import SoftLabels
from .._core.validation import check_choice, check_int, fail
from ._arrays import rows_per_group
from ._base import check_text, dumps, finite_or_none
from ._codec import (
    encode_ids,
    encode_state_arrays,
    encode_votes,
    id_keys,
    keys_fingerprint,
    matrix_key,
    proba_table,
)
from ._db import utcnow
from ._rows import StoreBase

__all__ = ["LineageMixin", "RUN_STATUSES", "ids_fingerprint"]

#: Statuses a run can end with (``"running"`` until :meth:`finish_run`; ``"interrupted"`` when the store
#: finds its process gone).
RUN_STATUSES = ("finished", "failed", "cancelled")


class LineageMixin(StoreBase):
    """Append-only records of what the pipeline did."""

    # ------------------------------------------------------------------ datasets and sources
    def add_dataset(self, name: str, item_ids: Any = None, *, n_items: int | None = None,
                    fingerprint: str | None = None, meta: Mapping[str, Any] | None = None,
                    item_hashes: Any = None) -> int:
        """Record a dataset and its items; an identical dataset returns its existing id.

        Datasets with the same ``name`` are versions of one dataset (a data
        file edited between runs): human answers, corrections and issue
        decisions belong to the name and the item ids, so every version sees
        those of its items (see :meth:`carry_over`).

        Parameters
        ----------
        name : str
            Name of the dataset.
        item_ids : array-like of shape (n_items,), optional
            The items' own unique ids (integers or strings), in dataset order.
            By default the positions ``0 .. n_items-1``.
        n_items : int, optional
            Number of items; required when ``item_ids`` is omitted.
        fingerprint : str, optional
            Content fingerprint of the data (e.g. ``weaklab.fingerprint(df)``);
            by default the fingerprint of the item ids.
        meta : dict, optional
            JSON-able description (path, format, ...).
        item_hashes : array-like of shape (n_items,), optional
            A content fingerprint per item (str or int), to tell which
            answered items changed in a later version (see
            :meth:`changed_since_answered`).

        Returns
        -------
        int
            The dataset id.
        """
        check_text("name", name)
        ids = _dataset_ids(item_ids, n_items)
        hashes = _item_hashes(item_hashes, len(ids))
        keys = id_keys(ids)
        ids_fp = ids_fingerprint(ids)
        data_fp = check_text("fingerprint", fingerprint, optional=True) or ids_fp
        meta_text = dumps("meta", meta)
        with self._transaction() as con:
            found = con.execute(
                "SELECT dataset_id FROM datasets WHERE name = ? AND fingerprint = ? AND ids_fingerprint = ?",
                [name, data_fp, ids_fp]).fetchall()
            if found:  # (re)write its item-id file if it went missing or was damaged
                self._put_array(con, "item_ids", ids_fp, lambda: encode_ids(ids)[0])
                return int(found[0][0])
            table, dtype = encode_ids(ids)
            array = self._put_array(con, "item_ids", ids_fp, table)
            dataset_id = self._insert(con, "datasets", "dataset", "dataset_id", dict(
                name=name, fingerprint=data_fp, ids_fingerprint=ids_fp, n_items=len(ids), id_dtype=dtype,
                item_ids_array=array, meta=meta_text, created_at=utcnow()))
            _insert_items(con, dataset_id, keys, hashes)
        return dataset_id

    def add_source(self, name: str, version: str, *, kind: str = "lf", code: str | None = None,
                   params: Mapping[str, Any] | None = None) -> int:
        """Record a source version (an LF's fingerprint); an existing ``(name, version)`` returns its id.

        Parameters
        ----------
        name : str
            Source name (the label-matrix column).
        version : str
            Version, e.g. ``LabelingFunction.fingerprint``.
        kind : str, default="lf"
            What the source is: ``"lf"``, ``"crowd"``, ``"model"``, ...
        code : str, optional
            Source code text of the labeling function.
        params : dict, optional
            JSON-able parameters (keywords, thresholds, ...).
        """
        check_text("name", name)
        check_text("version", version)
        check_text("kind", kind)
        if code is not None and not isinstance(code, str):
            raise fail("code", "source code text (str) or None", code)
        params_text = dumps("params", params)
        with self._transaction() as con:
            found = con.execute("SELECT source_id FROM sources WHERE name = ? AND version = ?",
                                [name, version]).fetchall()
            if found:
                return int(found[0][0])
            return self._insert(con, "sources", "source", "source_id", dict(
                name=name, version=version, kind=kind, code=code, params=params_text, created_at=utcnow()))

    def add_sources(self, sources: Sequence[Mapping[str, Any]]) -> list[int]:
        """Record many source versions in one transaction (crowd workers); return their ids in order.

        Each mapping holds ``name`` and ``version`` and optionally ``kind``
        (default ``"lf"``), ``code`` and ``params``, as :meth:`add_source`
        takes them; an existing ``(name, version)`` keeps its record and id.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from weaklab.store import Store
        >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "s.duckdb") as store:
        ...     ids = store.add_sources([{"name": "w1", "version": "a1", "kind": "crowd"},
        ...                              {"name": "w2", "version": "b7", "kind": "crowd"}])
        ...     ids == store.add_sources([{"name": "w1", "version": "a1"}, {"name": "w2", "version": "b7"}])
        True
        """
        rows = []
        for i, source in enumerate(sources):
            if not isinstance(source, Mapping):
                raise fail(f"sources[{i}]", "a mapping with name and version", source)
            name, version, kind = source.get("name"), source.get("version"), source.get("kind", "lf")
            for key, value in (("name", name), ("version", version), ("kind", kind)):
                check_text(f"sources[{i}].{key}", value)
            code = source.get("code")
            if code is not None and not isinstance(code, str):
                raise fail(f"sources[{i}].code", "source code text (str) or None", code)
            rows.append((str(name), str(version), str(kind), code, dumps(f"sources[{i}].params", source.get("params"))))
        if not rows:
            return []
        with self._transaction() as con:
            known = {(str(n), str(v)): int(i) for n, v, i in con.execute(
                "SELECT name, version, source_id FROM sources WHERE list_contains(?, name)",
                [sorted({r[0] for r in rows})]).fetchall()}
            for name, version, kind, code, params_text in rows:
                if (name, version) not in known:
                    known[(name, version)] = self._insert(con, "sources", "source", "source_id", dict(
                        name=name, version=version, kind=kind, code=code, params=params_text,
                        created_at=utcnow()))
        return [known[(r[0], r[1])] for r in rows]

    # ------------------------------------------------------------------ runs
    def start_run(self, dataset_id: int, config: Mapping[str, Any] | None = None) -> int:
        """Open a run over a dataset; return its id (ids grow with time, so they sort runs).

        The run records this process (pid, host, start time): if the process
        dies before :meth:`finish_run`, the next store opened on this host
        shows the run as ``"interrupted"``.

        Parameters
        ----------
        dataset_id : int
            The dataset the run labels.
        config : dict, optional
            JSON-able configuration (label model, end model, thresholds, ...).
        """
        self._dataset_row(dataset_id)
        config_text = dumps("config", config)
        with self._transaction() as con:
            return self._insert(con, "runs", "run", "run_id", dict(
                dataset_id=int(dataset_id), config=config_text, status="running", metrics="{}",
                created_at=utcnow(), **self._process_columns()))

    def finish_run(self, run_id: int, status: str = "finished",
                   metrics: Mapping[str, Any] | None = None) -> None:
        """Close a running run with a status (``"finished"``, ``"failed"``, ``"cancelled"``) and metrics."""
        check_choice("status", status, RUN_STATUSES)
        metrics_text = dumps("metrics", metrics)
        current = self._run_row(run_id)[1]
        if current != "running":
            raise fail("run_id", "a running run", got_text=f"run {run_id}, already {current}")
        with self._transaction() as con:
            con.execute("UPDATE runs SET status = ?, metrics = ?, finished_at = ? WHERE run_id = ?",
                        [status, metrics_text, utcnow(), int(run_id)])

    # ------------------------------------------------------------------ applications
    def add_application(self, dataset_id: int, matrix: LabelMatrix, *,
                        report: Mapping[str, Any] | None = None, run_id: int | None = None) -> int:
        """Record a label matrix (and its ApplyReport) over a dataset's items.

        The same matrix over the same dataset returns the existing id (its
        first report is kept). With ``run_id`` the application joins that run,
        and each source's coverage is recorded as a source statistic of the run.

        Parameters
        ----------
        dataset_id : int
            The dataset whose items the matrix rows are. Without ``item_ids``
            the matrix rows must be the dataset's rows in order; with them,
            every id must be an item of the dataset.
        matrix : LabelMatrix
            The votes; names, versions, class names and item ids are kept.
        report : dict, optional
            ``ApplyReport.to_dict()``.
        run_id : int, optional
            The run this application belongs to.
        """
        if not isinstance(matrix, LabelMatrix):
            raise fail("matrix", "a LabelMatrix", matrix)
        report_text = None if report is None else dumps("report", report)
        rows_map, id_dtype = self._rows_map(dataset_id, matrix.item_ids, matrix.n_items, "matrix")
        if run_id is not None:
            self._run_row(run_id)
        with self._transaction() as con:
            app_id = self._find_or_add_application(con, int(dataset_id), matrix, rows_map, id_dtype,
                                                   report_text)
            if run_id is not None:
                con.execute("INSERT INTO run_applications VALUES (?, ?, ?)", [int(run_id), app_id, utcnow()])
                _coverage_stats(con, int(run_id), app_id)
        return app_id

    def _find_or_add_application(self, con: duckdb.DuckDBPyConnection, dataset_id: int, matrix: LabelMatrix,
                                 rows_map: np.ndarray | None, id_dtype: str | None,
                                 report_text: str | None) -> int:
        keys = None if matrix.item_ids is None else id_keys(matrix.item_ids)
        fp = matrix_key(matrix, keys)
        found = con.execute(
            "SELECT application_id, layout FROM applications WHERE dataset_id = ? AND fingerprint = ?",
            [dataset_id, fp]).fetchall()
        if found:  # (re)write its vote and row-map files if they went missing or were damaged
            layout = str(found[0][1])
            group = rows_per_group(matrix.n_sources) if layout == "packed" else 1 << 16
            self._put_array(con, f"votes-{layout}", fingerprint(fp, rows_map),
                            lambda: encode_votes(matrix, rows_map)[1], group)
            self._put_rows_map(con, rows_map)
            return int(found[0][0])
        layout, table = encode_votes(matrix, rows_map)
        group = rows_per_group(matrix.n_sources) if layout == "packed" else 1 << 16
        votes = self._put_array(con, f"votes-{layout}", fingerprint(fp, rows_map), table, group)
        rows_name = self._put_rows_map(con, rows_map)
        app_id = self._insert(con, "applications", "application", "application_id", dict(
            dataset_id=dataset_id, fingerprint=fp, n_items=matrix.n_items, n_sources=matrix.n_sources,
            n_classes=matrix.n_classes, class_names=_names_json(matrix.class_names), layout=layout,
            votes_array=votes, rows_array=rows_name, id_dtype=id_dtype, report=report_text,
            created_at=utcnow()))
        counts = matrix.votes_per_source()
        versions = matrix.source_versions or (None,) * matrix.n_sources
        n = max(1, matrix.n_items)
        con.executemany("INSERT INTO application_sources VALUES (?, ?, ?, ?, ?, ?)", [
            [app_id, j, name, versions[j], int(counts[j]), float(counts[j]) / n]
            for j, name in enumerate(matrix.source_names)])
        return app_id

    def _put_rows_map(self, con: duckdb.DuckDBPyConnection, rows_map: np.ndarray | None) -> str | None:
        if rows_map is None:
            return None
        return self._put_array(con, "rows", fingerprint(rows_map), pa.table({"row": pa.array(rows_map)}))

    # ------------------------------------------------------------------ label models and soft labels
    def add_label_model_run(self, run_id: int | None, state: Mapping[str, Any], *,
                            application_id: int | None = None,
                            metrics: Mapping[str, Any] | None = None) -> int:
        """Record a fitted label model: ``model.to_state()`` (JSON in DuckDB, arrays in Parquet) and metrics.

        Parameters
        ----------
        run_id : int or None
            The run that fitted the model.
        state : dict
            ``model.to_state()``: JSON-able keys plus ``"arrays"`` (numpy arrays).
        application_id : int, optional
            The label matrix the model was fitted on.
        metrics : dict, optional
            JSON-able metrics (fit time, log-likelihood, accuracy on gold, ...).
        """
        if not isinstance(state, Mapping) or "class" not in state or "arrays" not in state:
            raise fail("state", "a dict from model.to_state() (with 'class' and 'arrays')", state)
        if run_id is not None:
            self._run_row(run_id)
        if application_id is not None:
            self._application_row(application_id)
        meta = {k: v for k, v in state.items() if k != "arrays"}
        meta_text, params_text = dumps("state", meta), dumps("state['params']", state.get("params"))
        table = encode_state_arrays(dict(state["arrays"]))
        with self._transaction() as con:
            array = self._put_array(con, "state", fingerprint(table.column("data").to_pylist(),
                                                              table.column("name").to_pylist(),
                                                              table.column("dtype").to_pylist(),
                                                              table.column("shape").to_pylist()), table)
            return self._insert(con, "label_model_runs", "label_model_run", "label_model_run_id", dict(
                run_id=run_id, application_id=application_id, **{"class": str(state["class"])},
                module=state.get("module"), params=params_text, state=meta_text, state_array=array,
                metrics=dumps("metrics", metrics), created_at=utcnow()))

    def add_soft_labels(self, dataset_id: int, soft_labels: SoftLabels, *, run_id: int | None = None,
                        role: str = "label_model", dtype: str = "float32") -> int:
        """Record soft labels (probabilities in Parquet, float32 by default).

        Parameters
        ----------
        dataset_id : int
            The dataset of the items (rows in dataset order unless the soft
            labels carry item ids).
        soft_labels : SoftLabels
            The labels; item ids, class names and producer are kept.
        run_id : int, optional
            The run that produced them.
        role : str, default="label_model"
            What they are: ``"label_model"`` (the posterior ``explain`` shows),
            ``"end_model"``, ``"out_of_fold"``, ...
        dtype : {"float32", "float64"}, default="float32"
            Storage precision; float32 halves the size and keeps 7 digits.
        """
        if not isinstance(soft_labels, SoftLabels):
            raise fail("soft_labels", "a SoftLabels object", soft_labels)
        check_text("role", role)
        check_choice("dtype", dtype, ("float32", "float64"))
        if run_id is not None:
            self._run_row(run_id)
        rows_map, id_dtype = self._rows_map(dataset_id, soft_labels.item_ids, soft_labels.n_items,
                                            "soft_labels")
        table = proba_table(soft_labels.proba, rows_map, dtype)
        with self._transaction() as con:
            array = self._put_array(con, f"proba-{dtype}", fingerprint(soft_labels.fingerprint, rows_map),
                                    table, rows_per_group(soft_labels.n_classes))
            return self._insert(con, "soft_labels", "soft_labels", "soft_labels_id", dict(
                run_id=run_id, dataset_id=int(dataset_id), role=role, producer=soft_labels.producer,
                fingerprint=soft_labels.fingerprint, n_items=soft_labels.n_items,
                n_classes=soft_labels.n_classes, class_names=_names_json(soft_labels.class_names),
                proba_array=array, rows_array=self._put_rows_map(con, rows_map), id_dtype=id_dtype,
                created_at=utcnow()))

    def add_source_stats(self, run_id: int, stats: Any, *, versions: Mapping[str, str] | None = None) -> int:
        """Record per-source statistics of a run (estimated/empirical accuracy, overlap, conflict, ...).

        Parameters
        ----------
        run_id : int
            The run.
        stats : pandas.DataFrame or dict
            One row per source (index = source name), one numeric column
            per statistic; or ``{source: {statistic: value}}``.
        versions : dict, optional
            ``{source: version}``; by default the versions in the run's applications.

        Returns
        -------
        int
            Number of values recorded.
        """
        self._run_row(run_id)
        frame = _stats_frame(stats)
        known = dict(self._query(
            "SELECT s.name, s.version FROM run_applications r JOIN application_sources s "
            "USING (application_id) WHERE r.run_id = ?", [int(run_id)]))
        known.update(versions or {})
        now = utcnow()
        rows = [[int(run_id), str(src), known.get(str(src)), str(metric), finite_or_none(value), now]
                for src, series in frame.iterrows() for metric, value in series.items()]
        with self._transaction() as con:
            if rows:
                con.executemany("INSERT INTO source_stats VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def add_end_model_run(self, run_id: int | None, name: str, *, params: Mapping[str, Any] | None = None,
                          metrics: Mapping[str, Any] | None = None,
                          calibration: Mapping[str, Any] | None = None,
                          state: Mapping[str, Any] | None = None) -> int:
        """Record an end model: name, parameters, metrics and calibration data (JSON), and its fitted state.

        ``calibration`` holds e.g. ``{"ece_before": ..., "ece_after": ...,
        "bins": [{"confidence": ..., "accuracy": ..., "count": ...}, ...]}``.
        ``state`` is the fitted model as JSON-able keys plus ``"arrays"``
        (numpy arrays, kept in Parquet; never pickled), read back by
        :meth:`load_end_model_state`.
        """
        check_text("name", name)
        if run_id is not None:
            self._run_row(run_id)
        if state is not None and (not isinstance(state, Mapping) or "arrays" not in state):
            raise fail("state", "a dict of JSON-able keys and 'arrays' (numpy arrays)", state)
        values = dict(run_id=run_id, name=name, params=dumps("params", params),
                      metrics=dumps("metrics", metrics), calibration=dumps("calibration", calibration),
                      created_at=utcnow())
        table = None if state is None else encode_state_arrays(dict(state["arrays"]))
        with self._transaction() as con:
            if state is not None and table is not None:
                values["state"] = dumps("state", {k: v for k, v in state.items() if k != "arrays"})
                values["state_array"] = self._put_array(con, "end_model_state", fingerprint(
                    table.column("data").to_pylist(), table.column("name").to_pylist(),
                    table.column("dtype").to_pylist(), table.column("shape").to_pylist()), table)
            return self._insert(con, "end_model_runs", "end_model_run", "end_model_run_id", values)

    def add_alert(self, run_id: int | None, kind: str, message: str, *, source: str | None = None,
                  severity: str = "warning", value: float | None = None) -> int:
        """Record an alert (e.g. ``kind="coverage_drop"`` on a source) with a severity and a value."""
        check_text("kind", kind)
        check_text("message", message)
        check_text("source", source, optional=True)
        check_choice("severity", severity, ("info", "warning", "error"))
        if run_id is not None:
            self._run_row(run_id)
        values = dict(run_id=run_id, kind=kind, source=source, severity=severity, message=message,
                      value=finite_or_none(value), created_at=utcnow())
        with self._transaction() as con:
            return self._insert(con, "alerts", "alert", "alert_id", values)


def _dataset_ids(item_ids: Any, n_items: int | None) -> np.ndarray:
    if item_ids is None:
        if n_items is None:
            raise fail("item_ids", "the items' ids, or n_items= for positional ids", None)
        return np.arange(check_int("n_items", n_items, low=0), dtype=np.int64)
    ids = validate_item_ids(item_ids, len(np.asarray(item_ids)))
    if n_items is not None and check_int("n_items", n_items, low=0) != len(ids):  # type: ignore[arg-type]
        raise fail("n_items", f"the number of item_ids ({len(ids)})", n_items)  # type: ignore[arg-type]
    return ids  # type: ignore[return-value]


def ids_fingerprint(ids: np.ndarray) -> str:
    """The content fingerprint of a dataset's item ids (their kind and text keys)."""
    return fingerprint("item-ids", ids.dtype.kind, keys_fingerprint(id_keys(ids)))


def _item_hashes(values: Any, n: int) -> list[str] | None:
    if values is None:
        return None
    out = [v.item() if isinstance(v, np.generic) else v for v in np.asarray(values, dtype=object).ravel()]
    if len(out) != n:
        raise fail("item_hashes", f"one content fingerprint per item ({n})", got_text=f"{len(out)} values")
    bad = [v for v in out if isinstance(v, bool) or not isinstance(v, (str, int))]
    if bad:
        raise fail("item_hashes", "str or int fingerprints", bad[0])
    return [str(v) for v in out]


def _insert_items(con: duckdb.DuckDBPyConnection, dataset_id: int, keys: np.ndarray,
                  hashes: list[str] | None) -> None:
    frame = pa.table({"item_key": pa.array(keys, pa.string()),
                      "row": pa.array(np.arange(len(keys), dtype=np.int64)),
                      "content": pa.array(hashes if hashes is not None else [None] * len(keys), pa.string())})
    con.register("_wl_items", frame)
    try:
        con.execute("INSERT INTO items (dataset_id, item_key, row, content) SELECT ?, item_key, row, content "
                    "FROM _wl_items ORDER BY item_key", [dataset_id])
    finally:
        con.unregister("_wl_items")


def _coverage_stats(con: duckdb.DuckDBPyConnection, run_id: int, app_id: int) -> None:
    con.execute(
        "INSERT INTO source_stats SELECT ?, name, version, 'coverage', coverage, ? "
        "FROM application_sources WHERE application_id = ?", [run_id, utcnow(), app_id])


def _names_json(names: Any) -> str | None:
    return None if names is None else dumps("class_names", list(names))


def _stats_frame(stats: Any) -> pd.DataFrame:
    if isinstance(stats, Mapping):
        stats = pd.DataFrame.from_dict({k: dict(v) for k, v in stats.items()}, orient="index")
    if not isinstance(stats, pd.DataFrame):
        raise fail("stats", "a DataFrame indexed by source name, or {source: {statistic: value}}", stats)
    numeric = stats.select_dtypes(include="number")
    if numeric.shape[1] != stats.shape[1]:
        bad = [c for c in stats.columns if c not in numeric.columns]
        raise fail("stats", "numeric statistic columns", got_text=f"non-numeric columns {bad}")
    return numeric
