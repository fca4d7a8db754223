"""What the dashboard's pages share: rendering with the navigation, query parameters, paging, the annotator.

Each page lives in one module of :mod:`weaklab.dashboard.pages`, holding its
view (built from the :class:`~weaklab.dashboard.state.DashboardState`) and its
routes; the helpers here are all that pages share.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ..errors import ValidationError
from ..pipeline.images import CamLookup, ImageLookup
from ..pipeline.review import check_annotator
from .security import csrf_token
from .state import DashboardState, NotFound

__all__ = ["ANNOTATOR_COOKIE", "CLAIM_LEASE_SECONDS", "CLAIM_WINDOW", "Nav", "PageNo", "Pager", "Pages", "RunId",
           "claim_next", "class_id", "explain", "flat_numbers", "gold_context", "item_cam", "item_image",
           "offered_items", "plain_json", "records", "review_redirect", "unfitted_note"]

ANNOTATOR_COOKIE = "weaklab_annotator"

PageNo = Query(1, ge=1, le=1_000_000)
RunId = Query(None, ge=0)
#: Pages that show review claims (kept only until the next claim; the others are not refreshed by claims).
_SHOWS_CLAIMS = ("review.html", "review_spans.html")
#: Stands for the visitor's CSRF token in a kept page (replaced at every response; never a valid token).
_CSRF_MARK = "csrf-" + secrets.token_hex(16)


@dataclass(frozen=True)
class Nav:
    """A page's link in the navigation bar.

    Attributes
    ----------
    order : int
        Position in the bar (smaller first).
    key : str
        The page name templates compare with ``page`` (the current page).
    path : str
        The link.
    label : str
        The link's text.
    with_run : bool, default=True
        Whether the link carries the current run (``?run=<id>``).
    """

    order: int
    key: str
    path: str
    label: str
    with_run: bool = True


class Pages:
    """Rendering helpers shared by the routes: templates, the state, the visitor's annotator name.

    Parameters
    ----------
    templates : Jinja2Templates
    annotator_default : str or None
        The annotator name used when the visitor has set none.
    """

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
            return check_annotator(raw) if raw else None
        except ValidationError:  # a tampered cookie: ask for the name again
            return None

    def required_annotator(self, request: Request, doing: str) -> str:
        """The visitor's annotator name; a ValidationError asking to set it first (before ``doing``) when unset."""
        annotator = self.annotator(request)
        if annotator is None:
            raise ValidationError(f"annotator: set your name on the review page before {doing}")
        return annotator


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
    """Numeric leaves of a nested metrics dict as ``{"a.b": value}`` (counts stay integers).

    Examples
    --------
    >>> flat_numbers({"dev": {"accuracy": 0.9, "n": 10}, "note": "x"})
    {'dev.accuracy': 0.9, 'dev.n': 10}
    """
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


def unfitted_note(state: DashboardState, run_id: int) -> str | None:
    """Why a run's pages that read soft labels have nothing to show: it recorded none (None when it did).

    A run of ``weaklab apply`` or ``analyze``, or one that failed before the
    label model, has no soft labels; a Dask run keeps them partitioned and a
    tagging run as span sets (neither is unfitted).
    """
    def build() -> str | None:
        from ..pipeline.partitioned_runs import is_partitioned_run

        store = state.store
        if len(store.run_records(int(run_id))["soft_labels"]) or is_partitioned_run(store, run_id) \
                or len(store.span_sets(run_id)):
            return None
        row = state.run_row(run_id)
        steps = ", ".join((row.get("config") or {}).get("steps") or []) or "none"
        return (f"Run {run_id} has no soft labels (its steps: {steps}; {row.get('status')}): `weaklab fit` fits "
                "the label model. The runs page lists the runs that have them.")

    return state.cached(("unfitted", int(run_id)), build)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as dicts of plain Python values (numpy scalars unwrapped)."""
    return [{str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def explain(state: DashboardState, item_id: Any, run_id: int) -> dict[str, Any]:
    """``store.explain`` of an item (a copy, kept until the store changes); NotFound for an unknown id."""
    def build() -> dict[str, Any]:
        try:
            return state.store.explain(item_id, run_id)
        except ValidationError:
            raise NotFound(f"item_id: no item {str(item_id)[:200]!r} in the dataset of run {run_id}") from None

    return dict(state.fresh(("explain", str(item_id), int(run_id)), build))


def item_image(images: ImageLookup, item_id: Any) -> dict[str, Any] | None:
    """What a page shows of an item's picture: its reference and where it failed (None: no picture)."""
    if images.column is None:
        return None
    ref = images.ref(item_id)
    return {"column": images.column, "ref": ref,
            "missing": None if ref is not None else (images.reason or f"no {images.column!r} value for this item")}


def item_cam(cams: CamLookup, item_id: Any) -> dict[str, Any]:
    """Whether the item has a class-activation-map overlay (a run with an image end model), and why not."""
    ok = cams.ref is not None and cams.images.ref(item_id) is not None
    return {"available": ok, "reason": None if ok else (cams.reason or "the item has no picture"),
            "classes": (cams.ref or {}).get("classes")}


def class_id(label: Any, names: list[str]) -> int:
    """A submitted class id checked against the run's class names."""
    try:
        value = int(label)
    except (TypeError, ValueError):
        raise ValidationError(f"label: expected a class id in 0..{len(names) - 1}; got {str(label)[:40]!r}") from None
    if not 0 <= value < len(names):
        raise ValidationError(f"label: expected a class id in 0..{len(names) - 1} ({', '.join(names)}); "
                              f"got {value}")
    return value


def plain_json(value: Any) -> Any:
    """``value`` with plain JSON values only: numpy scalars unwrapped, NaN/inf as None, anything else as text.

    Examples
    --------
    >>> plain_json({"a": (1, float("nan")), "b": {2}})
    {'a': [1, None], 'b': '{2}'}
    """
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def offered_items(state: DashboardState, run_id: int, include_gold: bool) -> Callable[[list[Any]], list[Any]]:
    """A filter keeping the items a review queue may offer: all with ``include_gold``, else those without gold
    (dev items, and items whose gold fed the run's fit)."""
    if include_gold:
        return list
    gold = state.gold(state.dataset_id(run_id), run_id)
    return lambda items: [v for v in items if v not in gold]


#: Seconds a claimed review item stays reserved for its annotator.
CLAIM_LEASE_SECONDS = 600.0
#: Ranked items a queue looks at per claim attempt.
CLAIM_WINDOW = 64


def claim_next(state: DashboardState, run_id: int, annotator: str, ids: Any, answered: set[str],
               include_gold: bool) -> Any | None:
    """The first item of ``ids`` (most useful first) that ``annotator`` may review: their held claim, else the first
    free one not ``answered`` (ids as text) and offered (:func:`offered_items`), claimed for them; None when none."""
    offered = offered_items(state, run_id, include_gold)
    for start in range(0, len(ids), CLAIM_WINDOW):
        window = offered([v for v in ids[start:start + CLAIM_WINDOW].tolist() if str(v) not in answered])
        if not window:
            continue
        got = state.store.claim_items(run_id, annotator, window, n=1, lease_seconds=CLAIM_LEASE_SECONDS)
        state.wrote(claims=True)
        if got:
            return got[0]
    return None


def gold_context(state: DashboardState, run_id: int, include_gold: bool) -> dict[str, Any]:
    """What the review pages say about gold items: how many, the column, and whether they are offered."""
    gold = state.gold(state.dataset_id(run_id), run_id)
    note = gold.describe() if len(gold) else None
    return {"include_gold": include_gold, "n_gold": len(gold), "gold_column": gold.column, "gold_note": note}


def review_redirect(run: int, include_gold: bool) -> RedirectResponse:
    """Back to the run's review queue (the one offering gold items too, when that is where the answer came from)."""
    return RedirectResponse(f"/review?run={run}{'&gold=1' if include_gold else ''}", status_code=303)
