"""What the run report shows, read from the store into plain Python values.

Each reader returns None (or an empty frame) when the run did not record that
part, so the report can say so instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.label_matrix import LabelMatrix
from .._core.soft_labels import SoftLabels
from .._core.state import to_jsonable
from ..evaluation import expected_calibration_error, reliability_curve
from ..labeling import lf_summary
from ..store import Store

__all__ = ["RunData", "read_run", "STAT_ALIASES"]

#: Recorded source statistics under the names the report shows (first alias found wins).
STAT_ALIASES: dict[str, tuple[str, ...]] = {
    "coverage": ("coverage",),
    "overlaps": ("overlaps", "overlap"),
    "conflicts": ("conflicts", "conflict"),
    "est_accuracy": ("est_accuracy", "estimated_accuracy", "est_acc"),
    "emp_accuracy": ("emp_accuracy", "empirical_accuracy", "emp_acc"),
}
_MIN_GOLD_FOR_CURVE = 10


@dataclass
class RunData:
    """Everything the report of one run needs (None where not recorded)."""

    run: dict[str, Any]
    class_names: list[str] | None = None
    sources: pd.DataFrame | None = None
    label_model: dict[str, Any] | None = None
    soft_labels: SoftLabels | None = None
    end_models: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ece: dict[str, Any] = field(default_factory=dict)
    slices: list[dict[str, Any]] | None = None
    slice_curves: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    issues: pd.DataFrame | None = None
    n_issues: int = 0
    alerts: pd.DataFrame | None = None
    n_annotations: int = 0


def read_run(store: Store, run_id: int) -> RunData:
    """Read the run's records (sources, models, calibration, slices, issues, alerts) from the store."""
    data = RunData(run=store.run(run_id))
    records = store.run_records(run_id)
    votes = store.partitioned(run_id).get("votes")
    if votes is not None:
        return _read_partitioned(store, int(run_id), data, records, votes["manifest"])
    dataset_id = int(data.run["dataset_id"])
    matrix = _matrix(store, records["applications"])
    soft = data.soft_labels = _soft_labels(store, records["soft_labels"], "label_model")
    data.class_names = _class_names(matrix, soft)
    data.n_annotations = len(store.annotations(dataset_id))
    answers = store.run_human_labels(int(run_id), seen_by_run=False)
    answers = answers[answers["label"] >= 0]
    dataset_ids = store.load_item_ids(dataset_id) if len(answers) else None
    gold = None if matrix is None else _gold(answers, _ids_or(matrix.item_ids, dataset_ids))
    data.sources = _sources(store, int(run_id), matrix, gold)
    data.label_model = _label_model(store, records["label_model_runs"], data.sources)
    data.end_models = [to_jsonable(r) for r in records["end_model_runs"].to_dict("records")]
    _calibration(data, soft, answers, dataset_ids)
    data.slices = _slices(data)
    data.n_issues = store.n_label_issues(run_id)
    data.issues = store.label_issues(run_id, limit=25) if data.n_issues else None
    alerts = store.alerts(run_id)
    data.alerts = alerts if len(alerts) else None
    return data


def _read_partitioned(store: Store, run_id: int, data: RunData, records: dict[str, pd.DataFrame],
                      manifest: Mapping[str, Any]) -> RunData:
    """A run on the Dask engine: sources from the reduced statistics it recorded, never its partitions whole."""
    from .partitioned_runs import partitioned_posteriors

    names = [str(n) for n in manifest["source_names"]]
    k = int(manifest["n_classes"])
    data.class_names = [str(c) for c in manifest.get("class_names") or range(k)]
    sources = pd.DataFrame(index=pd.Index(names, name="source"))
    sources["version"] = manifest.get("source_versions")
    recorded = _recorded_stats(store, run_id, names)
    for column, aliases in STAT_ALIASES.items():
        found = next((a for a in aliases if a in recorded.columns and recorded[a].notna().any()), None)
        sources[column] = np.nan if found is None else recorded[found].reindex(names).to_numpy(dtype=float)
    data.sources = sources
    data.label_model = _label_model(store, records["label_model_runs"], sources)
    data.end_models = [to_jsonable(r) for r in records["end_model_runs"].to_dict("records")]
    _end_model_calibration(data)
    data.slices = _slices(data)
    dataset_id = int(data.run["dataset_id"])
    data.n_annotations = len(store.annotations(dataset_id))
    answers = store.run_human_labels(run_id, seen_by_run=False)
    answers = answers[answers["label"] >= 0]
    if len(answers) >= _MIN_GOLD_FOR_CURVE and "soft_labels" in store.partitioned(run_id):
        proba = partitioned_posteriors(store, run_id, answers["item_id"].to_numpy())
        known = ~np.isnan(proba).any(axis=1)
        soft = SoftLabels(proba[known], item_ids=answers["item_id"].to_numpy()[known])
        _label_model_curve(data, soft, answers, soft.item_ids)
    data.n_issues = store.n_label_issues(run_id)
    data.issues = store.label_issues(run_id, limit=25) if data.n_issues else None
    alerts = store.alerts(run_id)
    data.alerts = alerts if len(alerts) else None
    return data


# ---------------------------------------------------------------------- run and containers
def _matrix(store: Store, applications: pd.DataFrame) -> LabelMatrix | None:
    if applications.empty:
        return None
    return store.load_matrix(int(applications["application_id"].iloc[-1]))


def _soft_labels(store: Store, soft: pd.DataFrame, role: str) -> SoftLabels | None:
    chosen = soft[soft["role"] == role]
    return None if chosen.empty else store.load_soft_labels(int(chosen["soft_labels_id"].iloc[-1]))


def _class_names(matrix: LabelMatrix | None, soft: SoftLabels | None) -> list[str] | None:
    for container in (matrix, soft):
        if container is not None and container.class_names:
            return list(container.class_names)
    k = matrix.n_classes if matrix is not None else soft.n_classes if soft is not None else None
    return None if k is None else [str(c) for c in range(k)]


def _gold(answers: pd.DataFrame, item_ids: Any) -> np.ndarray | None:
    """Resolved human labels (``store.run_human_labels``) as gold over ``item_ids`` (-1 where none)."""
    if answers.empty or item_ids is None:
        return None
    position = {str(v): i for i, v in enumerate(np.asarray(item_ids).tolist())}
    gold = np.full(len(position), -1, dtype=np.int64)
    for item, label in zip(answers["item_id"].astype(str), answers["label"]):
        if item in position:
            gold[position[item]] = int(label)
    return gold if (gold >= 0).any() else None


# ---------------------------------------------------------------------- sources
def _sources(store: Store, run_id: int, matrix: LabelMatrix | None, gold: np.ndarray | None) -> pd.DataFrame | None:
    if matrix is None:
        return None
    names = list(matrix.source_names)
    frame = pd.DataFrame(index=pd.Index(names, name="source"))
    frame["version"] = list(matrix.source_versions) if matrix.source_versions else None
    recorded = _recorded_stats(store, run_id, names)
    computed = lf_summary(matrix, gold).rename(columns={"emp_acc": "emp_accuracy"})
    for column, aliases in STAT_ALIASES.items():
        found = next((a for a in aliases if a in recorded.columns and recorded[a].notna().any()), None)
        if found is not None:
            frame[column] = recorded[found].reindex(names).to_numpy(dtype=float)
        elif column in computed.columns:
            frame[column] = computed[column].reindex(names).to_numpy(dtype=float)
        else:
            frame[column] = np.nan
    extra = [c for c in recorded.columns if c not in {a for al in STAT_ALIASES.values() for a in al}]
    for column in extra:
        frame[column] = recorded[column].reindex(names).to_numpy(dtype=float)
    return frame


def _recorded_stats(store: Store, run_id: int, names: Sequence[str]) -> pd.DataFrame:
    stats = store.run_source_stats(run_id).drop(columns="version")
    return stats[stats.index.isin(list(names))].apply(pd.to_numeric, errors="coerce")


# ---------------------------------------------------------------------- label model
def _label_model(store: Store, runs: pd.DataFrame, sources: pd.DataFrame | None) -> dict[str, Any] | None:
    if runs.empty:
        return None
    row = to_jsonable(runs.iloc[-1].to_dict())
    state = store.load_label_model_state(int(row["label_model_run_id"]))
    arrays = state.get("arrays", {})
    balance = arrays.get("class_balance_")
    row["class_balance"] = None if balance is None else np.asarray(balance, dtype=float).tolist()
    row["attributes"] = state.get("attributes", {})
    row["source_accuracy"] = _source_accuracy(state, sources)
    return row


def _source_accuracy(state: Mapping[str, Any], sources: pd.DataFrame | None) -> dict[str, float] | None:
    """Per-source accuracy: the recorded estimate, else from the model state's arrays."""
    if sources is not None and sources["est_accuracy"].notna().any():
        return {str(k): float(v) for k, v in sources["est_accuracy"].items()}
    arrays = state.get("arrays", {})
    names = state.get("attributes", {}).get("source_names_")
    acc = arrays.get("source_accuracy_")
    confusion, balance = arrays.get("confusion_"), arrays.get("class_balance_")
    if acc is None and confusion is not None and balance is not None and np.ndim(confusion) == 3:
        diag = np.diagonal(np.asarray(confusion, dtype=float), axis1=1, axis2=2)  # (m, k): P(vote c | class c)
        acc = diag @ np.asarray(balance, dtype=float)
    if acc is None:
        return None
    acc = np.asarray(acc, dtype=float).ravel()
    labels = names if isinstance(names, list) and len(names) == acc.size else [str(j) for j in range(acc.size)]
    return {str(n): float(a) for n, a in zip(labels, acc)}


# ---------------------------------------------------------------------- calibration and slices
def _ids_or(item_ids: Any, dataset_ids: Any) -> Any:
    """A container's item ids, else the dataset's (containers without ids are in dataset order)."""
    return item_ids if item_ids is not None else dataset_ids


def _calibration(data: RunData, soft: SoftLabels | None, answers: pd.DataFrame, dataset_ids: Any) -> None:
    _end_model_calibration(data)
    if not data.curves and soft is not None:
        _label_model_curve(data, soft, answers, _ids_or(soft.item_ids, dataset_ids))


def _end_model_calibration(data: RunData) -> None:
    """The end models' reliability bins and ECE, and per slice of held-out dev items a diagram before/after."""
    for model in data.end_models:
        cal = model.get("calibration") or {}
        if not isinstance(cal, Mapping):
            continue
        name = str(model.get("name", "end model"))
        for key, label in (("bins_before", "before calibration"), ("bins", ""), ("bins_after", "after calibration")):
            bins = _bins(cal.get(key))
            if bins:
                data.curves[f"{name} {label}".strip()] = bins
        data.ece.update({f"{name}: {k}": cal[k] for k in ("ece", "ece_before", "ece_after", "temperature", "note")
                         if k in cal})
        slices = cal.get("slices")
        for slice_name, rec in (slices.items() if isinstance(slices, Mapping) else ()):
            if isinstance(rec, Mapping):
                curves = {f"{name} {label}": _bins(rec.get(key)) for key, label in
                          (("bins_before", "before calibration"), ("bins_after", "after calibration"))}
                data.slice_curves[str(slice_name)] = {k: v for k, v in curves.items() if v}


def _bins(value: Any) -> list[dict[str, Any]]:
    """Bins as ``{"confidence", "accuracy", "count"}`` from dicts or ``[confidence, accuracy, count]`` lists."""
    if not isinstance(value, list):
        return []
    out = []
    for b in value:
        if isinstance(b, Mapping):
            out.append({k: b.get(k) for k in ("confidence", "accuracy", "count")})
        elif isinstance(b, (list, tuple)) and len(b) >= 3:
            out.append({"confidence": b[0], "accuracy": b[1], "count": b[2]})
    return out


def _label_model_curve(data: RunData, soft: SoftLabels, answers: pd.DataFrame, item_ids: Any) -> None:
    """The label model's reliability against human answers, when enough items were answered."""
    gold = _gold(answers, item_ids)
    if gold is None or (gold >= 0).sum() < _MIN_GOLD_FOR_CURVE:
        return
    known = gold >= 0
    curve = reliability_curve(soft.proba[known], gold[known], n_bins=10)
    data.curves["label model vs human answers"] = [
        to_jsonable(r) for r in curve[["confidence", "accuracy", "count"]].to_dict("records")]
    data.ece["label model vs human answers: ece"] = expected_calibration_error(
        soft.proba[known], gold[known], n_bins=10)
    data.ece["label model vs human answers: items"] = int(known.sum())


def _slices(data: RunData) -> list[dict[str, Any]] | None:
    """Slice metrics recorded as ``metrics["slices"]`` of an end model or of the run."""
    candidates = [m.get("metrics") for m in reversed(data.end_models)] + [data.run.get("metrics")]
    for metrics in candidates:
        if isinstance(metrics, Mapping) and metrics.get("slices"):
            return _slice_rows(metrics["slices"])
    for model in reversed(data.end_models):  # the calibration's slices of held-out dev items
        slices = (model.get("calibration") or {}).get("slices") if isinstance(model.get("calibration"),
                                                                              Mapping) else None
        if isinstance(slices, Mapping) and slices:
            return [{"slice": k, **{m: v.get(m) for m in ("n", "accuracy", "ece_before", "ece_after")}}
                    for k, v in slices.items() if isinstance(v, Mapping)]
    return None


def _slice_rows(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, Mapping):  # {slice name: {metric: value}}
        return [{"slice": k, **(v if isinstance(v, Mapping) else {"value": v})} for k, v in value.items()]
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return [dict(v) for v in value]
    return None
