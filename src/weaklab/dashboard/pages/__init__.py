"""The dashboard's pages: one module each, holding the page's view and its routes.

A page module defines ``routes(router, pages)`` (its GET page, its form posts,
its JSON endpoints) and ``NAV`` (its link in the navigation bar, or None).
Adding a page means adding a module here and its template in ``templates/``:
:func:`build_router` finds every module of this package.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..page import Nav, Pages
from ..state import NotFound

__all__ = ["STATIC_TYPES", "build_router", "page_modules"]

#: The only files ``/static/`` serves (read into memory at start-up; no request reaches the file system).
STATIC_TYPES = {"style.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


def page_modules() -> list[ModuleType]:
    """Every page module of this package, in navigation order (pages without a link last, by name).

    Returns
    -------
    list of module
        The modules; each has ``NAV`` (a :class:`~weaklab.dashboard.page.Nav` or None) and
        ``routes(router, pages)``.

    Examples
    --------
    >>> [m.__name__.rsplit(".", 1)[1] for m in page_modules()][:3]
    ['runs', 'sources', 'label_model']
    """
    modules = [importlib.import_module(f"{__name__}.{info.name}")
               for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
               if not info.name.startswith("_")]
    last = Nav(order=10**9, key="", path="", label="")
    return sorted(modules, key=lambda m: (m.NAV or last).order)


def build_router(templates: Jinja2Templates, static: dict[str, bytes], annotator_default: str | None) -> APIRouter:
    """All routes of the app, over the DashboardState in ``request.app.state.dashboard``.

    Parameters
    ----------
    templates : Jinja2Templates
        The dashboard's templates (``weaklab/dashboard/templates``); the navigation bar is set on them.
    static : dict of str to bytes
        The assets ``/static/`` serves, by file name (only names of ``STATIC_TYPES``).
    annotator_default : str or None
        The name review answers are stored under when the form gives none.

    Returns
    -------
    APIRouter
        The home redirect, the static assets and every page module's routes.

    Examples
    --------
    >>> from pathlib import Path
    >>> import weaklab.dashboard
    >>> templates = Jinja2Templates(directory=str(Path(weaklab.dashboard.__file__).parent / "templates"))
    >>> router = build_router(templates, static={}, annotator_default=None)
    >>> {"/", "/runs", "/api/runs"} <= {route.path for route in router.routes}
    True
    """
    router = APIRouter()
    modules = page_modules()
    pages = Pages(templates, annotator_default)
    templates.env.globals["nav"] = tuple(m.NAV for m in modules if m.NAV is not None)  # base.html's bar

    @router.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/runs", status_code=307)

    @router.get("/static/{name}")
    def static_file(name: str) -> Response:
        if name not in static:
            raise NotFound(f"static: no asset {name[:80]!r}")
        return Response(static[name], media_type=STATIC_TYPES[name],
                        headers={"Cache-Control": "public, max-age=3600"})

    for module in modules:
        module.routes(router, pages)
    return router
