"""The lineage of one item (``/items/<id>``, ``/api/items/<id>``) and adjudication (``POST /adjudicate``).

Every write goes through the store's API (``add_annotation``); every input is
checked first and refused with a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from ..multilabel_views import multilabel_item_view
from ..page import Pages, RunId, class_id, explain, item_cam, item_image, plain_json
from ..state import DashboardState, NotFound

__all__ = ["NAV", "adjudicate", "item_view", "routes", "span_grid"]

#: The lineage page is reached by the navigation bar's search form, not a link.
NAV = None


def item_view(state: DashboardState, item_id: str, run_id: int) -> dict[str, Any]:
    """The lineage of one item: votes with versions, posterior, issues, corrections, answers, final label."""
    return dict(state.fresh(("item_view", str(item_id), int(run_id)), lambda: _item_view(state, item_id, run_id)))


def _item_view(state: DashboardState, item_id: str, run_id: int) -> dict[str, Any]:
    story = explain(state, item_id, run_id)
    if story.get("kind") == "tagging":
        return {**story, "grid": span_grid(story)}
    story["text"] = state.texts(state.dataset_id(run_id)).get(story["item_id"])
    story["image"] = item_image(state.images(state.dataset_id(run_id)), story["item_id"])
    if story["image"] is not None:
        story["image"]["cam"] = item_cam(state.cams(run_id), story["item_id"])
    names = story.get("class_names") or state.class_names(run_id)
    story["class_names"] = names
    now = state.store.human_labels(state.dataset_id(run_id), class_names=names, item_id=story["item_id"],
                                   renames=state.store.run_class_renames(run_id), unknown="ignore")
    story["human_now"] = now.iloc[0].to_dict() if len(now) else None
    return story


def span_grid(story: dict[str, Any]) -> list[dict[str, Any]]:
    """A tagging item's spans as columns of per-token tags (``B-Type``/``I-Type``/empty): sources, proposed, ...

    Examples
    --------
    >>> span_grid({"tokens": ["a", "b"], "sources": [{"source": "s", "spans": [[0, 2, "X"]]}], "proposed": None,
    ...            "end_model": None, "gold": None, "answers": [], "final_spans": []})
    [{'name': 's', 'tags': ['B-X', 'I-X']}]
    """
    n = len(story["tokens"])
    columns = [(s["source"], s["spans"]) for s in story["sources"]]
    if story.get("proposed") is not None:
        columns.append(("proposed", [[p["start"], p["end"], p["type"]] for p in story["proposed"]["spans"]]))
    columns += [(name.replace("_", " "), story[name]) for name in ("end_model", "gold") if story.get(name) is not None]
    if story["answers"]:
        columns.append(("final", story["final_spans"]))
    out = []
    for name, spans in columns:
        tags = [""] * n
        for start, end, kind in spans:
            for i in range(start, min(end, n)):
                tags[i] = f"{'B' if i == start else 'I'}-{kind}"
        out.append({"name": name, "tags": tags})
    return out


def adjudicate(state: DashboardState, run_id: int, annotator: str, item_id: str, label: Any) -> int:
    """Settle an item's disagreement: an answer with origin ``"adjudication"`` decides its label."""
    names = state.class_names(run_id)
    value = class_id(label, names)
    typed = explain(state, item_id, run_id)["item_id"]
    annotation = state.store.add_annotation(state.dataset_id(run_id), typed, annotator, value,
                                            origin="adjudication", run_id=run_id)
    state.wrote()
    return annotation


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /items``, ``GET /items/<id>``, ``GET /api/items/<id>``, ``GET /thumbnails/<id>``, ``GET /cams/<id>``,
    ``POST /adjudicate``."""
    st, render = pages.state, pages.render

    @router.get("/items", include_in_schema=False)
    def find_item(item_id: str = Query(..., min_length=1, max_length=500),
                  run: int | None = RunId) -> RedirectResponse:
        suffix = f"?run={run}" if run is not None else ""
        return RedirectResponse(f"/items/{quote(item_id, safe='')}{suffix}", status_code=303)

    @router.get("/items/{item_id:path}", response_class=HTMLResponse)
    def item_page(request: Request, item_id: str, run: int | None = RunId) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "item_labels.html", "item", run_id,
                          story=multilabel_item_view(st(request), item_id, run_id))
        story = item_view(st(request), item_id, run_id)
        template = "item_spans.html" if story.get("kind") == "tagging" else "item.html"
        return render(request, template, "item", run_id, story=story)

    @router.get("/api/items/{item_id:path}")
    def api_item(request: Request, item_id: str, run: int | None = RunId) -> JSONResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return JSONResponse(plain_json(multilabel_item_view(st(request), item_id, run_id)))
        return JSONResponse(plain_json(item_view(st(request), item_id, run_id)))

    @router.get("/thumbnails/{item_id:path}", response_class=FileResponse)
    def thumbnail(request: Request, item_id: str, run: int | None = RunId) -> FileResponse:
        state = st(request)
        run_id = state.single_label_run(run, "the item page")
        typed = explain(state, item_id, run_id)["item_id"]  # an unknown item is refused here
        images = state.images(state.dataset_id(run_id))
        path = images.thumbnail(typed)
        if path is None:
            raise NotFound(f"item_id: an item with a readable picture, got {item_id[:200]!r} "
                           f"({images.reason or 'not an image dataset'})")
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/cams/{item_id:path}", response_class=FileResponse)
    def cam(request: Request, item_id: str, run: int | None = RunId) -> FileResponse:
        state = st(request)
        run_id = state.single_label_run(run, "the item page")
        story = explain(state, item_id, run_id)  # an unknown item is refused here
        cams = state.cams(run_id)
        path = cams.overlay(story["item_id"], int(story["row"]))
        if path is None:
            raise NotFound(f"item_id: an item with a class activation map, got {item_id[:200]!r} ({cams.reason})")
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @router.post("/adjudicate")
    def adjudicate_item(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                        label: str = Form(..., max_length=20)) -> RedirectResponse:
        state = st(request)
        who = pages.required_annotator(request, "adjudicating")
        run_id = state.single_label_run(run, "the item page")
        adjudicate(state, run_id, who, item_id, label)
        return RedirectResponse(f"/items/{quote(item_id, safe='')}?run={run_id}", status_code=303)
