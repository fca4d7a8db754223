"""The FastAPI application factory of the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates

from ..errors import StoreError, ValidationError, WeaklabError
from .pages import STATIC_TYPES, build_router
from .security import security_middleware
from .state import DashboardState, NotFound, request_stamps

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent


def create_app(store_path: str | Path, *, token: str | None = None, annotator_default: str | None = None,
               timeout: float = 5.0, random_share: float | None = None) -> FastAPI:
    """Build the dashboard over an existing store (opened only while a request reads or writes it).

    Parameters
    ----------
    store_path : str or Path
        The store's DuckDB file (e.g. ``.weaklab/weaklab.duckdb``).
    token : str, optional
        When given, every request must present it (header, or the cookie a
        ``?token=`` visit sets). Required by ``weaklab serve`` off loopback.
    annotator_default : str, optional
        The review queue's annotator name when the visitor has not set one.
    timeout : float, default=5.0
        Seconds a request waits while another process writes the store.
    random_share : float, optional
        The share (0..1) of the review queue's slots that hold random checks,
        overriding the projects' ``[query].random_share`` (None: theirs; 0:
        a queue of ranked items only).

    Returns
    -------
    fastapi.FastAPI
        Its ``state.dashboard`` holds the open store; it is closed at shutdown.

    Raises
    ------
    ValidationError
        No store at ``store_path``, or an empty token.
    StoreError
        The store is locked by another process or damaged.
    """
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ValidationError("token: expected at least 8 characters (use a long random string)")
    state = DashboardState(store_path, timeout=timeout, random_share=random_share)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="weaklab dashboard", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.dashboard = state
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.globals.update(fmt=_fmt, when=_when, cname=_cname)
    static = {name: (_HERE / "static" / name).read_bytes() for name in STATIC_TYPES}
    app.include_router(build_router(templates, static, annotator_default))
    app.middleware("http")(request_stamps)
    app.middleware("http")(security_middleware(token))
    _error_handlers(app, templates)
    return app


def _fmt(value: Any, digits: int = 3) -> str:
    """A number for a table cell (``-`` when missing; counts without decimals)."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if number != number else f"{number:.{digits}f}"


def _when(value: Any) -> str:
    """A recorded time (UTC) to the second, for a table cell (``-`` when missing)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return "-"
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(value)


def _cname(names: Any, label: Any) -> str:
    """A class id as its class name (the id when no name is known; ``-`` for none or -1)."""
    if label is None or (isinstance(label, float) and label != label):
        return "-"
    value = int(label)
    if value < 0:
        return "-"
    return str(names[value]) if names and value < len(names) else str(value)


def _error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    def reply(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": message}, status_code=status)
        if request.url.path.startswith("/static/"):
            return PlainTextResponse(message, status_code=status)
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": message,
                                                                  "page": "", "run_id": None, "run_ids": [],
                                                                  "csrf": ""}, status_code=status)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return reply(request, 404, str(exc))

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> Response:
        return reply(request, 400, str(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        return reply(request, 503, f"the store could not answer: {exc}")

    @app.exception_handler(WeaklabError)
    async def weaklab_error(request: Request, exc: WeaklabError) -> Response:
        return reply(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()]
        return reply(request, 422, "invalid request: " + "; ".join(parts))

    @app.exception_handler(404)
    async def no_route(request: Request, exc: Exception) -> Response:
        return reply(request, 404, f"no page at {request.url.path[:200]}")

