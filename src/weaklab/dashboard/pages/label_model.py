"""What the label model learned (``/label-model``): source accuracies and confusions, class balance, agreement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...pipeline.fit_gold import answers_fit_lines, fit_gold_lines
from .. import charts
from ..multilabel_views import multilabel_model_view
from ..page import Nav, Pages, RunId
from ..state import DashboardState

__all__ = ["NAV", "NOTE_KEYS", "label_model_view", "routes"]

NAV = Nav(order=30, key="label-model", path="/label-model", label="Label model")
#: The metrics that say what the label model chose, why and what it warned about: shown as text, not in the table.
NOTE_KEYS = ("choice", "reason", "warnings")


def label_model_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """Learned source accuracies and confusions, class balance, agreement heat-map, dependencies."""
    return state.fresh(("label_model_view", int(run_id)), lambda: _label_model_view(state, run_id))


def _unshown(lines: list[str], metrics: dict[str, Any]) -> list[str]:
    """``lines`` without the gold-decision line when the page's "Why" (the model's reason) already says it.

    Examples
    --------
    >>> _unshown(["fitted on 40", "AutoLabelModel with that gold: kept MV"],
    ...          {"gold_decision": "kept MV", "reason": "kept MV; see scores_"})
    ['fitted on 40']
    """
    decision = str(metrics.get("gold_decision") or "")
    if not decision or not str(metrics.get("reason") or "").startswith(decision):
        return lines
    return [line for line in lines if not line.endswith(f" with that gold: {decision}")]


def _label_model_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    summary = state.summary(run_id)
    names = state.class_names(run_id)
    model = summary.label_model
    out: dict[str, Any] = {"model": model, "class_names": names, "confusions": [], "dependencies": None,
                           "accuracy_chart": None, "balance_chart": None, "agreement": None, "agreement_missing": None}
    if "votes" in state.store.partitioned(run_id):
        out["agreement_missing"] = ("This run ran on the Dask engine and recorded no agreement between sources "
                                    "(runs before weaklab recorded it, or without a fitted label model).")
    if model is not None:
        metrics = model.get("metrics") or {}
        out["fit_gold_lines"] = _unshown(fit_gold_lines(metrics), metrics)
        out["answers_lines"] = answers_fit_lines(metrics)
        out["choice"] = {key: metrics.get(key) for key in NOTE_KEYS}
        out["metrics"] = {key: value for key, value in metrics.items() if key not in (*NOTE_KEYS, "gold_decision")}
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
        keep = min(stats.agreement.shape[0], 40)  # a Dask run counts pairs of its first sources only
        out["agreement"] = charts.heatmap(stats.names[:keep], stats.names[:keep],
                                          stats.agreement[:keep, :keep], title="Agreement between sources")
        out["agreement_note"] = (f"first {keep} of {stats.n_sources} sources; " if keep < stats.n_sources
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


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /label-model``."""
    st, render = pages.state, pages.render

    @router.get("/label-model", response_class=HTMLResponse)
    def label_model_page(request: Request, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "label_model_labels.html", "label-model", run_id,
                          **multilabel_model_view(st(request), run_id))
        return render(request, "label_model.html", "label-model", run_id, **label_model_view(st(request), run_id))
