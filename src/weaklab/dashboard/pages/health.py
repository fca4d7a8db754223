"""Model health (``/health``): end-model metrics, confusion matrix, reliability diagram with ECE, slices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...pipeline.partitioned_runs import is_partitioned_run, partitioned_posteriors
from .. import charts
from ..multilabel_views import multilabel_health_view
from ..page import Nav, Pages, RunId, flat_numbers, unfitted_note
from ..state import DashboardState

__all__ = ["NAV", "health_view", "routes"]

NAV = Nav(order=40, key="health", path="/health", label="Model health")


def health_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """End-model metrics, confusion matrix, reliability diagram with ECE, slices."""
    return state.fresh(("health_view", int(run_id)), lambda: _health_view(state, run_id))


def _health_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    summary = state.summary(run_id)
    names = state.class_names(run_id)
    models = [{"name": m.get("name"), "metrics": flat_numbers(m.get("metrics")), "params": m.get("params"),
               **_columns(m.get("metrics"))} for m in summary.end_models]
    curves = {k: v for k, v in summary.curves.items() if v}
    diagram = charts.reliability(curves, title="Reliability diagram") if curves else None
    per_slice = {name: charts.reliability(c, title=f"Reliability diagram: {name}")
                 for name, c in summary.slice_curves.items() if c}
    confusion, note = _confusion(state, run_id, summary, names)
    matrix = charts.heatmap(names, names, confusion, title="Confusion matrix", high=float(np.nanmax(confusion)),
                            fmt=".0f") if confusion is not None and confusion.size else None
    return {"models": models, "diagram": diagram, "slice_diagrams": per_slice, "ece": summary.ece,
            "slices": summary.slices,
            "confusion": matrix, "confusion_note": note, "run_metrics": flat_numbers(summary.run.get("metrics"))}


def _columns(metrics: Any) -> dict[str, Any]:
    """A tabular end model's columns as read (with each category column's number of categories) and those left out,
    with why; nothing for other end models."""
    if not isinstance(metrics, Mapping) or not metrics.get("columns"):
        return {}
    categories = metrics.get("categories") or {}
    why = metrics.get("skipped_why") or {}
    return {"columns": [(str(c), f"{categories[c]} categories, one-hot" if c in categories else "numeric")
                        for c in metrics["columns"]],
            "skipped": [(str(c), str(why.get(c, "not numeric, or empty")))
                        for c in metrics.get("skipped_columns") or []]}


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
    k = len(names)
    grid = np.zeros((k, k))
    last = pd.Series(answers["label"].to_numpy(), index=answers["item_id"].astype(str).to_numpy())
    if is_partitioned_run(state.store, run_id):  # the answered items' posteriors, from their partitions only
        proba = partitioned_posteriors(state.store, run_id, answers["item_id"].to_numpy())
        pos = np.where(np.isnan(proba).any(axis=1), -1, np.arange(len(proba)))
    else:
        ranking = state.ranking(run_id)
        if len(ranking) > 200_000:
            return None, "No confusion matrix recorded."
        proba = ranking.proba
        pos = pd.Index([str(v) for v in ranking.item_ids.tolist()]).get_indexer(pd.Index(list(last.index)))
    for p, truth in zip(pos, last.to_numpy()):
        if p >= 0 and 0 <= int(truth) < k:
            grid[int(truth), int(np.argmax(proba[p]))] += 1
    return grid, f"label model vs {int(grid.sum())} human answers (rows: human answer, columns: label model)"


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /health``."""
    st, render = pages.state, pages.render

    @router.get("/health", response_class=HTMLResponse)
    def health_page(request: Request, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "health_labels.html", "health", run_id,
                          **multilabel_health_view(st(request), run_id))
        note = unfitted_note(st(request), run_id)
        if note is not None:
            return render(request, "health.html", "health", run_id, unfitted=note)
        return render(request, "health.html", "health", run_id, **health_view(st(request), run_id))
