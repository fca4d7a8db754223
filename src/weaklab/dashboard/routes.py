"""The dashboard's routes: HTML pages, form posts (CSRF-checked by the middleware) and a small JSON API."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..errors import ValidationError
from . import actions, views
from .security import csrf_token
from .state import DashboardState, NotFound

__all__ = ["build_router", "ANNOTATOR_COOKIE", "STATIC_TYPES"]

ANNOTATOR_COOKIE = "weaklab_annotator"
#: The only files ``/static/`` serves (read into memory at start-up; no request reaches the file system).
STATIC_TYPES = {"style.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}

PageNo = Query(1, ge=1, le=1_000_000)
#: Pages that show review claims (kept only until the next claim; the others are not refreshed by claims).
_SHOWS_CLAIMS = ("review.html",)
#: Stands for the visitor's CSRF token in a kept page (replaced at every response; never a valid token).
_CSRF_MARK = "csrf-" + secrets.token_hex(16)
RunId = Query(None, ge=0)


class Pages:
    """Rendering helpers shared by the routes: templates, the state, the visitor's annotator name."""

    def __init__(self, templates: Jinja2Templates, annotator_default: str | None) -> None:
        self.templates = templates
        self.annotator_default = annotator_default

    @staticmethod
    def state(request: Request) -> DashboardState:
        """The app's DashboardState."""
        return request.app.state.dashboard  # type: ignore[no-any-return]

    def render(self, request: Request, template: str, page: str, run_id: int | None, **context: Any) -> HTMLResponse:
        """A page from ``template`` with the navigation context (CSRF token, current run, run list).

        The rendered page is kept until the store changes (per address and
        annotator) with a placeholder where the visitor's CSRF token goes.
        """
        state = self.state(request)
        key = ("html", template, page, run_id, request.url.path, request.url.query,
               request.cookies.get(ANNOTATOR_COOKIE) or self.annotator_default)

        def build() -> str:
            base = {"csrf": _CSRF_MARK, "page": page, "run_id": run_id, "run_ids": state.run_ids()[:200],
                    "request": request}
            return self.templates.get_template(template).render({**base, **context})

        html = state.fresh(key, build, claims=template in _SHOWS_CLAIMS)
        return HTMLResponse(html.replace(_CSRF_MARK, csrf_token(request)))

    def annotator(self, request: Request) -> str | None:
        """The visitor's annotator name (cookie, else the app's default), or None."""
        raw = request.cookies.get(ANNOTATOR_COOKIE) or self.annotator_default
        try:
            return actions.check_annotator(raw) if raw else None
        except ValidationError:  # a tampered cookie: ask for the name again
            return None


def build_router(templates: Jinja2Templates, static: dict[str, bytes], annotator_default: str | None) -> APIRouter:
    """All routes of the app, over the DashboardState in ``request.app.state.dashboard``."""
    router = APIRouter()
    pages = Pages(templates, annotator_default)
    _page_routes(router, pages, static)
    _write_routes(router, pages)
    _api_routes(router, pages.state)
    return router


def _page_routes(router: APIRouter, pages: Pages, static: dict[str, bytes]) -> None:
    """The HTML pages (GET only)."""
    st, render = pages.state, pages.render

    @router.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/runs", status_code=307)

    @router.get("/static/{name}")
    def static_file(name: str) -> Response:
        if name not in static:
            raise NotFound(f"static: no asset {name[:80]!r}")
        return Response(static[name], media_type=STATIC_TYPES[name],
                        headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/runs", response_class=HTMLResponse)
    def runs_page(request: Request, page: int = PageNo) -> HTMLResponse:
        return render(request, "runs.html", "runs", None, **views.runs_view(st(request), page))

    @router.get("/diff", response_class=HTMLResponse)
    def diff_page(request: Request, a: int = Query(..., ge=0), b: int = Query(..., ge=0),
                  page: int = PageNo) -> HTMLResponse:
        return render(request, "diff.html", "runs", b, **views.diff_view(st(request), a, b, page))

    @router.get("/sources", response_class=HTMLResponse)
    def sources_page(request: Request, run: int | None = RunId, sort: str = "source", dir: str = "asc",
                     page: int = PageNo) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "sources.html", "sources", run_id,
                      **views.sources_view(st(request), run_id, sort, dir, page))

    @router.get("/sources/{name}", response_class=HTMLResponse)
    def source_page(request: Request, name: str, run: int | None = RunId, page: int = PageNo) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "source.html", "sources", run_id, **views.source_view(st(request), run_id, name, page))

    @router.get("/label-model", response_class=HTMLResponse)
    def label_model_page(request: Request, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "label_model.html", "label-model", run_id,
                      **views.label_model_view(st(request), run_id))

    @router.get("/health", response_class=HTMLResponse)
    def health_page(request: Request, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "health.html", "health", run_id, **views.health_view(st(request), run_id))

    @router.get("/issues", response_class=HTMLResponse)
    def issues_page(request: Request, run: int | None = RunId, page: int = PageNo) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "issues.html", "issues", run_id, **actions.issues_view(st(request), run_id, page),
                      annotator=pages.annotator(request))

    @router.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "review.html", "review", run_id,
                      **actions.review_view(st(request), run_id, pages.annotator(request)))

    @router.get("/items", include_in_schema=False)
    def find_item(item_id: str = Query(..., min_length=1, max_length=500),
                  run: int | None = RunId) -> RedirectResponse:
        suffix = f"?run={run}" if run is not None else ""
        return RedirectResponse(f"/items/{quote(item_id, safe='')}{suffix}", status_code=303)

    @router.get("/items/{item_id:path}", response_class=HTMLResponse)
    def item_page(request: Request, item_id: str, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        return render(request, "item.html", "item", run_id, story=actions.item_view(st(request), item_id, run_id))


def _write_routes(router: APIRouter, pages: Pages) -> None:
    """The state-changing routes (POST, CSRF-checked by the middleware)."""
    st = pages.state

    @router.post("/issues/{issue_id}/resolve")
    def resolve_issue(request: Request, issue_id: int, decision: str = Form(...), run: int = Form(..., ge=0),
                      why: str = Form("", max_length=500), page: int = Form(1, ge=1)) -> RedirectResponse:
        who = pages.annotator(request) or "dashboard"
        actions.resolve(st(request), issue_id, decision, who, why.strip() or None)
        return RedirectResponse(f"/issues?run={run}&page={page}", status_code=303)

    @router.post("/review/annotator")
    def set_annotator(annotator: str = Form(...), run: int = Form(..., ge=0)) -> RedirectResponse:
        name = actions.check_annotator(annotator)
        response = RedirectResponse(f"/review?run={run}", status_code=303)
        response.set_cookie(ANNOTATOR_COOKIE, name, httponly=True, samesite="strict")
        return response

    @router.post("/review/answer")
    def review_answer(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                      label: str = Form(..., max_length=20)) -> Response:
        state = st(request)
        annotator = pages.annotator(request)
        if annotator is None:
            raise ValidationError("annotator: set your name on the review page before answering")
        annotation = actions.answer(state, state.resolve_run(run), annotator, item_id, label)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"annotation_id": annotation, "duplicate": annotation is None})
        return RedirectResponse(f"/review?run={run}", status_code=303)

    @router.post("/review/skip")
    def review_skip(request: Request, run: int = Form(..., ge=0),
                    item_id: str = Form(..., max_length=500)) -> RedirectResponse:
        state = st(request)
        annotator = pages.annotator(request)
        if annotator is None:
            raise ValidationError("annotator: set your name on the review page before skipping")
        actions.skip(state, state.resolve_run(run), annotator, item_id)
        return RedirectResponse(f"/review?run={run}", status_code=303)

    @router.post("/adjudicate")
    def adjudicate(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                   label: str = Form(..., max_length=20)) -> RedirectResponse:
        state = st(request)
        who = pages.annotator(request)
        if who is None:
            raise ValidationError("annotator: set your name on the review page before adjudicating")
        run_id = state.resolve_run(run)
        actions.adjudicate(state, run_id, who, item_id, label)
        return RedirectResponse(f"/items/{quote(item_id, safe='')}?run={run_id}", status_code=303)


def _api_routes(router: APIRouter, st: Any) -> None:
    """Read-only JSON endpoints (the same data as the pages)."""

    @router.get("/api/runs")
    def api_runs(request: Request, page: int = PageNo) -> JSONResponse:
        data = views.runs_view(st(request), page)
        runs = [{k: v for k, v in r.items() if k in ("run_id", "dataset", "status", "label_model", "n_sources",
                                                      "end_scores", "n_alerts")} for r in data["runs"]]
        return JSONResponse({"runs": runs, "page": page, "pages": data["pager"].pages})

    @router.get("/api/sources")
    def api_sources(request: Request, run: int | None = RunId, sort: str = "source", dir: str = "asc",
                    page: int = PageNo) -> JSONResponse:
        run_id = st(request).resolve_run(run)
        data = views.sources_view(st(request), run_id, sort, dir, page)
        return JSONResponse(_jsonable({"run_id": run_id, "rows": data["rows"], "pages": data["pager"].pages}))

    @router.get("/api/items/{item_id:path}")
    def api_item(request: Request, item_id: str, run: int | None = RunId) -> JSONResponse:
        run_id = st(request).resolve_run(run)
        return JSONResponse(_jsonable(actions.item_view(st(request), item_id, run_id)))


def _jsonable(value: Any) -> Any:
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
