"""``weaklab doctor``: check a store and its array files, and write back what can be recomputed exactly.

What can be repaired, in this order (each repair is accepted only when the
recomputed content has exactly the recorded content name, see
:mod:`weaklab.store`):

* item-id files: from the items kept in the database, always;
* vote matrices (and their row maps): by applying the project's labeling
  functions to the project's data again, when the data still have the
  recorded fingerprint and the LFs the recorded versions;
* label-model states: by fitting the recorded model class and parameters on
  the (repaired) matrix again, with the human answers the run could see or
  with none, and the data file's gold the fit had (``[data].fit_gold``: the
  items and gold the store recorded at fit time; for a run recorded before
  they were kept, the rows drawn again by the option and seed the run
  recorded, on the project's data);
* fit gold of a run recorded before it was kept: recorded, when the data
  file is unchanged since the run (:mod:`~weaklab.pipeline.doctor_fit_gold`,
  which also reports runs whose data file no longer holds the gold their fit had).
* the label model's soft labels: by predicting with the (repaired) model.

End-model probabilities and the issue judge's are not recomputed (they need
training); the next ``weaklab train`` / ``issues`` run records new ones.
A damaged database file itself is not repaired: the message says how to
recover.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core import LabelMatrix, SoftLabels
from ..errors import StoreError, WeaklabError
from ..store import Store
from .doctor_fit_gold import check_fit_gold
from .fit_gold import with_file_gold
from .loading import item_ids_of, load_data, recorded_fit_gold_rows, run_gold
from .runs import run_label_model_metrics
from .training import label_model_class

__all__ = ["DoctorReport", "doctor", "format_report", "project_for"]

logger = logging.getLogger(__name__)


@dataclass
class DoctorReport:
    """What ``doctor`` found and did.

    Attributes
    ----------
    store : str
        The store file.
    store_error : str or None
        Why the database file itself cannot be used (with recovery steps), or None.
    problems : list of dict
        The damaged array files still left: ``name, kind, problem, detail, used_by``.
    repaired : list of str
        What was written back.
    not_repaired : list of str
        Damaged files that could not be recomputed, and why.
    removed_temporary : int
        Temporary files of interrupted writes removed.
    fit_gold : list of dict
        Runs whose fit took gold of the data file that the file no longer
        matches, or that re-derive it (:func:`~weaklab.pipeline.doctor_fit_gold.check_fit_gold`):
        ``run_id, status, n_items, message, gone, relabelled, now_dev, text_changed``.
    """

    store: str
    store_error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    not_repaired: list[str] = field(default_factory=list)
    removed_temporary: int = 0
    fit_gold: list[dict[str, Any]] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when the database opens, every array file a record names is intact, and so is every fit-gold record.

        A data file edited since a run is not a fault of the store: its ``fit_gold`` notes leave it healthy.
        """
        return self.store_error is None and not self.problems and \
            not any(c["status"] == "damaged" for c in self.fit_gold)


def doctor(store_path: Any, *, project: Any = None, repair: bool = False, deep: bool = True,
           timeout: float = 10.0) -> DoctorReport:
    """Check a store (and with ``repair=True`` write back what can be recomputed).

    Parameters
    ----------
    store_path : str or Path
        The store's DuckDB file.
    project : Project, optional
        The project whose data and LFs recompute vote matrices (without it,
        only item ids are repaired).
    repair : bool, default=False
        Write back the damaged files that can be recomputed exactly.
    deep : bool, default=True
        Read every array file whole (else sizes and footers only).
    timeout : float, default=10.0
        Seconds to wait while another process holds the store.

    Returns
    -------
    DoctorReport

    Examples
    --------
    >>> report = doctor(".weaklab/weaklab.duckdb", repair=True)   # doctest: +SKIP
    >>> report.healthy                                             # doctest: +SKIP
    True
    """
    report = DoctorReport(store=str(store_path))
    try:
        store = Store(store_path, read_only=not repair, timeout=timeout)
    except StoreError as exc:
        report.store_error = str(exc)
        return report
    with store:
        try:
            found = store.check_arrays(deep=deep)
            if repair and len(found):
                report.removed_temporary = store.clean_temporary_files()
                _repair(store, found, project, report)
                found = store.check_arrays(deep=deep)
            report.fit_gold = [c.to_dict() for c in check_fit_gold(store, repair=repair)]
        except StoreError as exc:
            report.store_error = str(exc)
            return report
    report.problems = [{str(k): v for k, v in row.items()} for row in found.to_dict("records")]
    return report


def _repair(store: Store, found: pd.DataFrame, project: Any, report: DoctorReport) -> None:
    users = [(table, record, what) for used in found["used_by"] for table, record, what in used]
    for _, dataset_id, _ in sorted({u for u in users if u[0] == "datasets"}):
        _note(report, store.restore_item_ids(dataset_id), f"item ids of dataset {dataset_id}",
              "its items in the database do not give the recorded content")
    matrices: dict[int, LabelMatrix] = {}
    for _, app_id, _ in sorted({u for u in users if u[0] == "applications"}):
        matrix = _recomputed_matrix(store, app_id, project, report)
        if matrix is not None:
            if _note(report, store.restore_votes(app_id, matrix), f"votes of application {app_id}",
                     "the LFs applied to the data give another matrix"):
                matrices[app_id] = matrix
    for _, lm_id, _ in sorted({u for u in users if u[0] == "label_model_runs"}):
        _restore_model(store, lm_id, report, project)
    for _, soft_id, _ in sorted({u for u in users if u[0] == "soft_labels"}):
        _restore_soft(store, soft_id, report)
    for _, em_id, _ in sorted({u for u in users if u[0] == "end_model_runs"}):
        report.not_repaired.append(f"end-model state of end-model run {em_id}: `weaklab train` trains and "
                                   "records it again (only `weaklab predict` reads it)")


def _note(report: DoctorReport, done: bool, what: str, why: str) -> bool:
    (report.repaired if done else report.not_repaired).append(what if done else f"{what}: {why}")
    return done


def _recomputed_matrix(store: Store, app_id: int, project: Any, report: DoctorReport) -> LabelMatrix | None:
    what = f"votes of application {app_id}"
    if project is None:
        report.not_repaired.append(f"{what}: run `weaklab doctor --repair` in the project folder (its data and "
                                   "LFs recompute the matrix)")
        return None
    try:
        matrix, data_fp = project.recompute_matrix()
    except WeaklabError as exc:
        report.not_repaired.append(f"{what}: the project's data or LFs cannot be loaded ({exc})")
        return None
    dataset_id = int(store.application_record(app_id)["dataset_id"])
    recorded = store.datasets()
    recorded = recorded[recorded["dataset_id"] == dataset_id]
    if recorded.empty or recorded["fingerprint"].iloc[0] != data_fp:
        report.not_repaired.append(f"{what}: the project's data changed since it was recorded")
        return None
    return matrix


def _restore_model(store: Store, lm_id: int, report: DoctorReport, project: Any = None) -> None:
    what = f"label-model state {lm_id}"
    meta = store.label_model_record(lm_id)
    try:
        matrix = store.load_matrix(int(meta["application_id"]))
    except (StoreError, TypeError, ValueError):
        report.not_repaired.append(f"{what}: its label matrix is not available")
        return
    cls = label_model_class(str(meta["class"]))
    drawn = _file_gold(store, meta.get("run_id"), matrix, project)
    for answers in _gold_candidates(store, meta.get("run_id"), matrix):
        for sampling in ("random", "active") if answers is not None else ("random",):  # how the run saw the answers
            gold, given = answers, sampling  # type: tuple[np.ndarray | None, str | np.ndarray]
            if drawn is not None:  # the run's fit had the data file's gold rows too
                none = np.full(matrix.n_items, -1, dtype=np.int64)
                gold, given, _ = with_file_gold(none if answers is None else answers, sampling, *drawn)
                gold = gold if (gold >= 0).any() else None
            try:
                model = cls(**(meta.get("params") or {})).fit(matrix, gold=gold, gold_sampling=given)
            except WeaklabError:
                continue
            if store.restore_label_model_state(lm_id, model.to_state()):
                report.repaired.append(what)
                return
    report.not_repaired.append(f"{what}: fitting {cls.__name__} again does not give the recorded state "
                               "(the gold it saw changed, or the fit is not deterministic)")


def _file_gold(store: Store, run_id: Any, matrix: LabelMatrix, project: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The data file's gold and the rows of it a run's fit drew (``[data].fit_gold``), aligned with ``matrix``.

    None when the run drew none, or without the project (or its data) to draw them from again.
    """
    metrics: dict[str, Any] = {}
    if run_id is not None:
        try:
            metrics = run_label_model_metrics(store, int(run_id))
        except WeaklabError:  # a run the store no longer holds drew nothing we can know
            metrics = {}
    if not metrics.get("n_file_gold_for_fit") or matrix.item_ids is None:
        return None
    if store.fit_gold_record(int(run_id)) is not None:  # the items and gold the fit had, as the store recorded them
        recorded = store.fit_gold(int(run_id))
        return _aligned(matrix, [str(v) for v in recorded["item_id"].tolist()], recorded["label"].to_numpy(),
                        np.ones(len(recorded), dtype=bool))
    if project is None:
        return None
    try:
        frame = load_data(project.config)
        gold, dev = run_gold(project.config, frame)
    except WeaklabError:
        return None
    rows = recorded_fit_gold_rows(project.config, frame, gold, dev, metrics)
    return _aligned(matrix, [str(v) for v in item_ids_of(project.config, frame).tolist()], gold, rows)


def _aligned(matrix: LabelMatrix, ids: list[str], gold: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``gold`` and ``rows`` (given for ``ids``) in the order of the matrix's items (-1 / False for the others)."""
    position = {item: i for i, item in enumerate(ids)}
    at = np.array([position.get(str(v), -1) for v in np.asarray(matrix.item_ids).tolist()], dtype=np.int64)
    known = at >= 0
    aligned_gold, aligned_rows = np.full(matrix.n_items, -1, dtype=np.int64), np.zeros(matrix.n_items, dtype=bool)
    aligned_gold[known], aligned_rows[known] = np.asarray(gold)[at[known]], np.asarray(rows)[at[known]]
    return aligned_gold, aligned_rows


def _gold_candidates(store: Store, run_id: Any, matrix: LabelMatrix) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = [None]
    if run_id is None or matrix.item_ids is None:
        return out
    labels = store.run_human_labels(int(run_id))
    if len(labels):
        out.append(_aligned(matrix, [str(v) for v in labels["item_id"].tolist()], labels["label"].to_numpy(),
                            np.ones(len(labels), dtype=bool))[0])
    return out


def _restore_soft(store: Store, soft_id: int, report: DoctorReport) -> None:
    what = f"soft labels {soft_id}"
    meta = store.soft_labels_record(soft_id)
    if meta["role"] != "label_model" or meta.get("label_model_run_id") is None:
        report.not_repaired.append(f"{what} ({meta['role']}): recomputing them needs training; the next "
                                   "`weaklab train` / `weaklab issues` run records new ones")
        return
    try:
        state = store.load_label_model_state(int(meta["label_model_run_id"]))
        lm = store.label_model_record(int(meta["label_model_run_id"]))
        matrix = store.load_matrix(int(lm["application_id"]))
    except (StoreError, TypeError, ValueError):
        report.not_repaired.append(f"{what}: the label model or its matrix is not available")
        return
    model = label_model_class(str(state["class"])).from_state(state)
    soft = SoftLabels(model.predict_proba(matrix), item_ids=matrix.item_ids, class_names=matrix.class_names,
                      producer=meta["producer"])
    _note(report, store.restore_soft_labels(soft_id, soft), what, "predicting again gives other soft labels")


def format_report(report: DoctorReport) -> list[str]:
    """The report as lines of text (for the command line)."""
    if report.store_error is not None:
        return [report.store_error]
    lines = [f"repaired: {r}" for r in report.repaired] + [f"not repaired: {r}" for r in report.not_repaired]
    if report.removed_temporary:
        lines.append(f"removed {report.removed_temporary} temporary file(s) of interrupted writes")
    for problem in report.problems:
        used = ", ".join(f"{what} of {table.rstrip('s').replace('_', ' ')} {record}"
                         for table, record, what in problem["used_by"])
        lines.append(f"{problem['problem']}: array {problem['name']} ({used}): {problem['detail']}")
    lines += [f"fit gold, {check['status']}: {check['message']}" for check in report.fit_gold]
    damaged = [f"{len(report.problems)} damaged array file(s)"] if report.problems else []
    damaged += [f"{n} damaged fit-gold record(s)" for n in [sum(c["status"] == "damaged" for c in report.fit_gold)]
                if n]
    lines.append(f"store {report.store}: " + ("healthy" if report.healthy else ", ".join(damaged)))
    return lines


def project_for(folder: Path) -> Any:
    """The project in ``folder`` (None when it holds no weaklab.toml)."""
    from .project import Project

    return Project(folder) if (folder / "weaklab.toml").is_file() else None
