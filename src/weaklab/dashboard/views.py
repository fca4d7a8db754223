"""What each read-only page shows, built from the store into plain template values.

Every listing is one page of rows (``offset``/``limit``): no page carries a
whole label matrix or soft-label table, however large the run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from . import charts
from .state import DashboardState, NotFound

__all__ = ["Pager", "runs_view", "diff_view", "sources_view", "source_view", "label_model_view", "health_view",
           "flat_numbers", "SOURCE_COLUMNS"]

#: Columns of the sources table, in display order (others recorded are appended).
SOURCE_COLUMNS = ("source", "version", "coverage", "overlaps", "conflicts", "est_accuracy", "emp_accuracy")


@dataclass
class Pager:
    """One page of a listing: ``page`` (from 1), ``size``, ``total`` rows."""

    page: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        """First row of the page."""
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_prev(self) -> bool:
        """Whether a previous page exists."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether a next page exists."""
        return self.page < self.pages


def flat_numbers(metrics: Any, prefix: str = "") -> dict[str, float | int]:
    """Numeric leaves of a nested metrics dict as ``{"a.b": value}`` (counts stay integers)."""
    out: dict[str, float | int] = {}
    if isinstance(metrics, Mapping):
        for key, value in metrics.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                out.update(flat_numbers(value, name + "."))
            elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
                out[name] = int(value)
            elif isinstance(value, (float, np.floating)):
                out[name] = float(value)
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


# ---------------------------------------------------------------------- runs and diff
def runs_view(state: DashboardState, page: int, size: int = 25) -> dict[str, Any]:
    """The runs listing: dataset, sources, label model, end-model scores and alerts of each run."""
    return state.fresh(("runs_view", int(page), int(size)), lambda: _runs_view(state, page, size))


def _runs_view(state: DashboardState, page: int, size: int) -> dict[str, Any]:
    store = state.store
    pager = Pager(page, size, len(state.run_ids()))
    rows = []
    for run in _records(store.runs(offset=pager.offset, limit=size)):
        config, metrics = run.get("config") or {}, run.get("metrics") or {}
        records = store.run_records(int(run["run_id"]))
        apps, models = records["applications"], records["label_model_runs"]
        run["n_sources"] = int(apps["n_sources"].iloc[-1]) if len(apps) else len(config.get("sources") or {})
        run["label_model"] = str(models["class"].iloc[-1]) if len(models) else "-"
        run["end_scores"] = {f"{r['name']}: {k}": v for r in _records(records["end_model_runs"])
                             for k, v in flat_numbers(r.get("metrics")).items()}
        run["n_alerts"] = len(store.alerts(int(run["run_id"])))
        run["n_metrics"] = len(flat_numbers(metrics))
        rows.append(run)
    return {"runs": rows, "pager": pager}


def diff_view(state: DashboardState, run_a: int, run_b: int, page: int, size: int = 50) -> dict[str, Any]:
    """Items whose final label differs between two runs, one page at a time."""
    a, b = state.resolve_run(run_a), state.resolve_run(run_b)
    if state.dataset_id(a) != state.dataset_id(b):
        raise ValidationError(f"runs: run {a} and run {b} label different datasets; pick two runs of one dataset")
    frame = state.fresh(("diff", a, b), lambda: state.store.diff(a, b))
    pager = Pager(page, size, len(frame))
    return {"a": a, "b": b, "rows": _records(frame.iloc[pager.offset:pager.offset + size]), "pager": pager,
            "class_names": state.class_names(b)}


# ---------------------------------------------------------------------- sources
def _source_table(state: DashboardState, run_id: int) -> pd.DataFrame:
    summary = state.summary(run_id)
    if summary.sources is None:
        return pd.DataFrame(columns=list(SOURCE_COLUMNS))
    table = summary.sources.reset_index()
    stats = state.matrix_stats(run_id)
    if stats is not None:
        names = state.class_names(run_id)
        position = {n: j for j, n in enumerate(stats.names)}
        for c, cname in enumerate(names[: stats.class_agreement.shape[1]]):
            table[f"agrees_lm_{cname}"] = [stats.class_agreement[position[s], c] if s in position else np.nan
                                           for s in table["source"]]
    return table


def sources_view(state: DashboardState, run_id: int, sort: str, direction: str, page: int,
                 size: int = 50) -> dict[str, Any]:
    """The sortable source summary of a run (one page), its chart and the run's alerts."""
    return state.fresh(("sources_view", int(run_id), str(sort), str(direction), int(page), int(size)),
                       lambda: _sources_view(state, run_id, sort, direction, page, size))


def _sources_view(state: DashboardState, run_id: int, sort: str, direction: str, page: int,
                  size: int) -> dict[str, Any]:
    table = state.fresh(("source_table", run_id), lambda: _source_table(state, run_id))
    columns = list(table.columns)
    if sort not in columns:
        raise ValidationError(f"sort: expected one of {', '.join(columns)}; got {sort!r}")
    if direction not in ("asc", "desc"):
        raise ValidationError(f"dir: expected 'asc' or 'desc'; got {direction!r}")
    ordered = table.sort_values(sort, ascending=direction == "asc", kind="stable", na_position="last")
    pager = Pager(page, size, len(ordered))
    shown = ordered.iloc[pager.offset:pager.offset + size]
    metrics = [c for c in ("coverage", "est_accuracy", "emp_accuracy") if c in shown.columns]
    chart = charts.bars([str(s) for s in shown["source"]], {c: shown[c].tolist() for c in metrics},
                        title="Coverage and accuracy per source") if len(shown) else None
    alerts = _records(state.store.alerts(run_id, limit=100))
    return {"columns": columns, "rows": _records(shown), "sort": sort, "dir": direction, "pager": pager,
            "chart": chart, "alerts": alerts}


def source_view(state: DashboardState, run_id: int, name: str, page: int, size: int = 25) -> dict[str, Any]:
    """One source: its statistics across runs and versions, its alerts, items where it disagrees."""
    return state.fresh(("source_view", int(run_id), str(name), int(page), int(size)),
                       lambda: _source_view(state, run_id, name, page, size))


def _source_view(state: DashboardState, run_id: int, name: str, page: int, size: int) -> dict[str, Any]:
    summary = state.summary(run_id)
    known = set(summary.sources.index) if summary.sources is not None else set()
    history = state.store.source_history(name) if name in known else None
    if history is None:
        raise NotFound(f"source: no source {name!r} in run {run_id}")
    metrics = [c for c in history.columns if c not in ("run_id", "created_at", "version")]
    x = [f"run {r}" for r in history["run_id"]]
    chart = charts.line_chart(x, {m: history[m].tolist() for m in metrics[:6]},
                              title=f"{name} across runs") if len(history) else None
    alerts = [a for a in _records(state.store.alerts(limit=2000)) if a.get("source") == name]
    stats = state.matrix_stats(run_id)
    ids, votes, hard = stats.disagreements.get(name, ([], [], [])) if stats else ([], [], [])
    pager = Pager(page, size, len(ids))
    texts = state.texts(state.dataset_id(run_id))
    names = state.class_names(run_id)
    samples = [{"item_id": ids[i].item() if isinstance(ids[i], np.generic) else ids[i],
                "text": texts.get(ids[i]), "vote": _cname(names, votes[i]), "model": _cname(names, hard[i])}
               for i in range(pager.offset, min(len(ids), pager.offset + size))]
    return {"name": name, "history": _records(history), "metrics": metrics, "chart": chart, "alerts": alerts,
            "samples": samples, "pager": pager, "sample_rows": None if stats is None else stats.n_rows}


def _cname(names: list[str], label: Any) -> str:
    label = int(label)
    return names[label] if 0 <= label < len(names) else "-"


# ---------------------------------------------------------------------- label model and health
def label_model_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """Learned source accuracies and confusions, class balance, agreement heat-map, dependencies."""
    return state.fresh(("label_model_view", int(run_id)), lambda: _label_model_view(state, run_id))


def _label_model_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    summary = state.summary(run_id)
    names = state.class_names(run_id)
    model = summary.label_model
    out: dict[str, Any] = {"model": model, "class_names": names, "confusions": [], "dependencies": None,
                           "accuracy_chart": None, "balance_chart": None, "agreement": None}
    if model is not None:
        accuracy = model.get("source_accuracy") or {}
        if accuracy:
            out["accuracy_chart"] = charts.bars(list(accuracy), {"learned accuracy": list(accuracy.values())},
                                                title="Learned accuracy per source")
        if model.get("class_balance"):
            out["balance_chart"] = charts.bars(names, {"class balance": model["class_balance"]},
                                               title="Class balance")
        state_dict = state.store.load_label_model_state(int(model["label_model_run_id"]))
        out["confusions"] = _confusions(state_dict, names)
        out["dependencies"] = _dependencies(state_dict)
    stats = state.matrix_stats(run_id)
    if stats is not None:
        keep = min(len(stats.names), 40)
        out["agreement"] = charts.heatmap(stats.names[:keep], stats.names[:keep],
                                          stats.agreement[:keep, :keep], title="Agreement between sources")
        out["agreement_note"] = (f"first {keep} of {len(stats.names)} sources; " if keep < len(stats.names)
                                 else "") + f"over {stats.n_rows:,} items"
    return out


def _confusions(state_dict: Mapping[str, Any], names: list[str]) -> list[dict[str, Any]]:
    arrays = state_dict.get("arrays", {})
    confusion = arrays.get("confusion_")
    sources = state_dict.get("attributes", {}).get("source_names_") or []
    if confusion is None or np.ndim(confusion) != 3:
        return []
    confusion = np.asarray(confusion, dtype=float)
    shown = []
    for j in range(min(confusion.shape[0], 30)):
        label = sources[j] if j < len(sources) else str(j)
        cols = [*names, "abstain"] if confusion.shape[2] == len(names) + 1 else names[: confusion.shape[2]]
        shown.append({"source": label, "chart": charts.heatmap(names[: confusion.shape[1]], cols, confusion[j],
                                                               title=f"{label}: P(vote | true class)")})
    return shown


def _dependencies(state_dict: Mapping[str, Any]) -> Any:
    for where in (state_dict.get("attributes", {}), state_dict.get("params", {}), state_dict.get("arrays", {})):
        for key, value in where.items():
            if "depend" in key and value is not None:
                return np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
    return None


def health_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """End-model metrics, confusion matrix, reliability diagram with ECE, slices."""
    return state.fresh(("health_view", int(run_id)), lambda: _health_view(state, run_id))


def _health_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    summary = state.summary(run_id)
    names = state.class_names(run_id)
    models = [{"name": m.get("name"), "metrics": flat_numbers(m.get("metrics")), "params": m.get("params")}
              for m in summary.end_models]
    curves = {k: v for k, v in summary.curves.items() if v}
    diagram = charts.reliability(curves, title="Reliability diagram") if curves else None
    confusion, note = _confusion(state, run_id, summary, names)
    matrix = charts.heatmap(names, names, confusion, title="Confusion matrix", high=float(np.nanmax(confusion)),
                            fmt=".0f") if confusion is not None and confusion.size else None
    return {"models": models, "diagram": diagram, "ece": summary.ece, "slices": summary.slices,
            "confusion": matrix, "confusion_note": note, "run_metrics": flat_numbers(summary.run.get("metrics"))}


def _confusion(state: DashboardState, run_id: int, summary: Any,
               names: list[str]) -> tuple[np.ndarray | None, str]:
    for model in reversed(summary.end_models):
        metrics = model.get("metrics") or {}
        for key in ("confusion", "confusion_matrix"):
            if isinstance(metrics, Mapping) and metrics.get(key) is not None:
                return np.asarray(metrics[key], dtype=float), f"{model.get('name')}, as recorded (rows: truth)"
    answers = state.store.run_human_labels(run_id, seen_by_run=False)
    answers = answers[answers["label"] >= 0]
    if answers.empty:
        return None, "No confusion matrix recorded, and no human answers to compare the label model with."
    ranking = state.ranking(run_id)
    index = pd.Index([str(v) for v in ranking.item_ids.tolist()]) if len(ranking) <= 200_000 else None
    k = len(names)
    grid = np.zeros((k, k))
    last = pd.Series(answers["label"].to_numpy(), index=answers["item_id"].astype(str).to_numpy())
    if index is None:
        return None, "No confusion matrix recorded."
    pos = index.get_indexer(pd.Index(list(last.index)))
    for p, truth in zip(pos, last.to_numpy()):
        if p >= 0 and 0 <= int(truth) < k:
            grid[int(truth), int(np.argmax(ranking.proba[p]))] += 1
    return grid, f"label model vs {int(grid.sum())} human answers (rows: human answer, columns: label model)"
