"""The sources of a run (``/sources``, ``/api/sources``) and one source across runs (``/sources/<name>``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from ...errors import ValidationError
from .. import charts
from ..multilabel_sources import multilabel_source_view, multilabel_sources_view
from ..page import Nav, PageNo, Pager, Pages, RunId, plain_json, records
from ..state import DashboardState, NotFound

__all__ = ["NAV", "SOURCE_COLUMNS", "routes", "source_view", "sources_view"]

NAV = Nav(order=20, key="sources", path="/sources", label="Sources")

#: Columns of the sources table, in display order (others recorded are appended).
SOURCE_COLUMNS = ("source", "version", "coverage", "overlaps", "conflicts", "est_accuracy", "emp_accuracy")


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
    alerts = records(state.store.alerts(run_id, limit=100))
    return {"columns": columns, "rows": records(shown), "sort": sort, "dir": direction, "pager": pager,
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
    alerts = [a for a in records(state.store.alerts(limit=2000)) if a.get("source") == name]
    stats = state.matrix_stats(run_id)
    ids, votes, hard = stats.disagreements.get(name, ([], [], [])) if stats else ([], [], [])
    pager = Pager(page, size, len(ids))
    texts = state.texts(state.dataset_id(run_id))
    names = state.class_names(run_id)
    samples = [{"item_id": ids[i].item() if isinstance(ids[i], np.generic) else ids[i],
                "text": texts.get(ids[i]), "vote": _cname(names, votes[i]), "model": _cname(names, hard[i])}
               for i in range(pager.offset, min(len(ids), pager.offset + size))]
    return {"name": name, "history": records(history), "metrics": metrics, "chart": chart, "alerts": alerts,
            "samples": samples, "pager": pager, "sample_rows": None if stats is None else stats.n_rows}


def _cname(names: list[str], label: Any) -> str:
    label = int(label)
    return names[label] if 0 <= label < len(names) else "-"


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /sources``, ``GET /sources/<name>``, ``GET /api/sources`` (multi-label: a row per source and label)."""
    st, render = pages.state, pages.render

    @router.get("/sources", response_class=HTMLResponse)
    def sources_page(request: Request, run: int | None = RunId, sort: str = "source", dir: str = "asc",
                     page: int = PageNo) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "sources_labels.html", "sources", run_id,
                          **multilabel_sources_view(st(request), run_id, sort, dir, page))
        return render(request, "sources.html", "sources", run_id,
                      **sources_view(st(request), run_id, sort, dir, page))

    @router.get("/sources/{name}", response_class=HTMLResponse)
    def source_page(request: Request, name: str, run: int | None = RunId, page: int = PageNo) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "source_labels.html", "sources", run_id,
                          **multilabel_source_view(st(request), run_id, name, page))
        return render(request, "source.html", "sources", run_id, **source_view(st(request), run_id, name, page))

    @router.get("/api/sources")
    def api_sources(request: Request, run: int | None = RunId, sort: str = "source", dir: str = "asc",
                    page: int = PageNo) -> JSONResponse:
        run_id = st(request).resolve_run(run)
        view = multilabel_sources_view if st(request).is_multilabel(run_id) else sources_view
        data = view(st(request), run_id, sort, dir, page)
        return JSONResponse(plain_json({"run_id": run_id, "rows": data["rows"], "pages": data["pager"].pages}))
