"""The runs listing (``/runs``, ``/api/runs``) and the diff of two runs (``/diff``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from ...errors import ValidationError
from ...pipeline.fit_gold import answers_in_fit
from ...pipeline.multilabel_diff import diff_label_sets
from ..page import Nav, PageNo, Pager, Pages, flat_numbers, records
from ..state import DashboardState
from .review_spans import is_tagging_run

__all__ = ["NAV", "diff_view", "routes", "runs_view"]

NAV = Nav(order=10, key="runs", path="/runs", label="Runs", with_run=False)


def runs_view(state: DashboardState, page: int, size: int = 25) -> dict[str, Any]:
    """The runs listing: dataset, sources, label model, end-model scores and alerts of each run."""
    return state.fresh(("runs_view", int(page), int(size)), lambda: _runs_view(state, page, size))


def _runs_view(state: DashboardState, page: int, size: int) -> dict[str, Any]:
    store = state.store
    pager = Pager(page, size, len(state.run_ids()))
    rows = []
    for run in records(store.runs(offset=pager.offset, limit=size)):
        config, metrics = run.get("config") or {}, run.get("metrics") or {}
        run_records = store.run_records(int(run["run_id"]))
        apps, models = run_records["applications"], run_records["label_model_runs"]
        run["n_sources"] = int(apps["n_sources"].iloc[-1]) if len(apps) else len(config.get("sources") or {})
        run["label_model"] = str(models["class"].iloc[-1]) if len(models) else "-"
        run["end_scores"] = {f"{r['name']}: {k}": v for r in records(run_records["end_model_runs"])
                             for k, v in flat_numbers(r.get("metrics")).items()}
        run["n_alerts"] = len(store.alerts(int(run["run_id"])))
        counts = answers_in_fit(metrics.get("label_model") or {})
        run["answers_in_fit"] = None if counts is None else {"given": counts[0], "in_fit": counts[1]}
        run["n_metrics"] = len(flat_numbers(metrics))
        rows.append(run)
    return {"runs": rows, "pager": pager}


def diff_view(state: DashboardState, run_a: int, run_b: int, page: int, size: int = 50) -> dict[str, Any]:
    """Items whose final label differs between two runs, one page at a time (final spans for tagging runs, final
    label sets and per-label counts for multi-label runs)."""
    a, b = state.resolve_run(run_a), state.resolve_run(run_b)
    if state.is_multilabel(a) or state.is_multilabel(b):
        return _label_set_diff(state, a, b, page, size)
    if state.dataset_id(a) != state.dataset_id(b):
        raise ValidationError(f"runs: run {a} and run {b} label different datasets; pick two runs of one dataset")
    if is_tagging_run(state, a) and is_tagging_run(state, b):
        frame = state.fresh(("diff_spans", a, b), lambda: state.store.diff_spans(a, b))
        pager = Pager(page, size, len(frame))
        rows = records(frame.iloc[pager.offset:pager.offset + size])
        for row in rows:
            row["words_a"] = [(" ".join(row["tokens"][s:e]), t) for s, e, t in row["spans_a"]]
            row["words_b"] = [(" ".join(row["tokens"][s:e]), t) for s, e, t in row["spans_b"]]
            row["added_words"] = {(" ".join(row["tokens"][s:e]), t) for s, e, t in row["added"]}
            row["removed_words"] = {(" ".join(row["tokens"][s:e]), t) for s, e, t in row["removed"]}
        return {"a": a, "b": b, "kind": "tagging", "rows": rows, "pager": pager}
    frame = state.fresh(("diff", a, b), lambda: state.store.diff(a, b))
    pager = Pager(page, size, len(frame))
    return {"a": a, "b": b, "kind": "classes", "rows": records(frame.iloc[pager.offset:pager.offset + size]),
            "pager": pager, "class_names": state.class_names(b)}


def _label_set_diff(state: DashboardState, a: int, b: int, page: int, size: int) -> dict[str, Any]:
    """Two multi-label runs' diff (:func:`~weaklab.pipeline.multilabel_diff.diff_label_sets`), one page of items."""
    found = state.fresh(("diff_labels", a, b), lambda: diff_label_sets(state.store, a, b))
    pager = Pager(page, size, len(found.items))
    return {"a": a, "b": b, "kind": "labels", "rows": records(found.items.iloc[pager.offset:pager.offset + size]),
            "per_label": records(found.per_label), "pager": pager}


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /runs``, ``GET /diff``, ``GET /api/runs``."""
    st, render = pages.state, pages.render

    @router.get("/runs", response_class=HTMLResponse)
    def runs_page(request: Request, page: int = PageNo) -> HTMLResponse:
        return render(request, "runs.html", "runs", None, **runs_view(st(request), page))

    @router.get("/diff", response_class=HTMLResponse)
    def diff_page(request: Request, a: int = Query(..., ge=0), b: int = Query(..., ge=0),
                  page: int = PageNo) -> HTMLResponse:
        return render(request, "diff.html", "runs", b, **diff_view(st(request), a, b, page))

    @router.get("/api/runs")
    def api_runs(request: Request, page: int = PageNo) -> JSONResponse:
        data = runs_view(st(request), page)
        shown = ("run_id", "dataset", "status", "label_model", "n_sources", "end_scores", "n_alerts", "answers_in_fit")
        runs = [{k: v for k, v in r.items() if k in shown} for r in data["runs"]]
        return JSONResponse({"runs": runs, "page": page, "pages": data["pager"].pages})
