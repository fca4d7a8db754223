"""The review queue of a tagging run: a person accepts, rejects or fixes the proposed spans of an item.

``/review`` of a run that recorded span sets shows this page instead of the
class buttons (:mod:`.review` hands over). Items come least certain first
(the label model's least certain token, from its ``"label_model"`` span
set), skipping items someone already answered or skipped; an item shown is
claimed for the annotator like any review item. The keyboard does
everything (``static/app.js``); the answer is one
:meth:`~weaklab.store.Store.add_span_answer` with the spans the person
left, their decision on every proposed span and the span set they saw.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ...errors import ValidationError
from ..page import Nav, Pages, claim_next, explain, gold_context, review_redirect
from ..state import DashboardState

__all__ = ["NAV", "is_tagging_run", "span_ranking", "next_span_item", "span_review_view", "answer_spans",
           "skip_spans", "routes"]

NAV: Nav | None = None  # reached through /review


def is_tagging_run(state: DashboardState, run_id: int) -> bool:
    """Whether the run recorded span sets (a tagging run)."""
    return bool(state.cached(("is_tagging", int(run_id)), lambda: len(state.store.span_sets(run_id)) > 0))


def span_ranking(state: DashboardState, run_id: int) -> dict[str, Any]:
    """The run's items, least certain first: ``{"ids", "scores", "span_set_id"}`` (from the proposed span set)."""
    def build() -> dict[str, Any]:
        store = state.store
        sets = store.span_sets(run_id)
        proposed = sets[sets["role"] == "label_model"]
        ids = np.asarray(store.load_item_ids(state.dataset_id(run_id)))
        if proposed.empty:
            return {"ids": ids, "scores": np.zeros(len(ids)), "span_set_id": None}
        set_id = int(proposed["span_set_id"].iloc[-1])
        _, items = store.load_span_set(set_id)
        scores = np.ones(len(ids)) if items is None else items["score"].to_numpy(dtype=np.float64)
        order = np.argsort(np.nan_to_num(scores, nan=1.0), kind="stable")
        return {"ids": ids[order], "scores": scores[order], "span_set_id": set_id}

    return state.cached(("span_ranking", int(run_id)), build)


def _answered(state: DashboardState, dataset_id: int) -> set[str]:
    return state.fresh(("span_answered", dataset_id),
                       lambda: set(state.store.span_answers(dataset_id)["item_key"].astype(str)))


def next_span_item(state: DashboardState, run_id: int, annotator: str, *, include_gold: bool = False) -> Any | None:
    """The item ``annotator`` should review next: their held claim, else the least certain free unanswered one.

    Items that hold gold spans in the data file are not offered unless ``include_gold``.
    """
    return claim_next(state, run_id, annotator, span_ranking(state, run_id)["ids"],
                      _answered(state, state.dataset_id(run_id)), include_gold)


def span_review_view(state: DashboardState, run_id: int, annotator: str | None, *,
                     include_gold: bool = False) -> dict[str, Any]:
    """The page's context: the claimed item's tokens, every source's spans and the proposed spans."""
    out: dict[str, Any] = {"annotator": annotator, "item": None, **gold_context(state, run_id, include_gold)}
    if annotator is None:
        return out
    dataset_id = state.dataset_id(run_id)
    out["n_answered"] = int((state.store.span_answers(dataset_id)["annotator"] == annotator).sum())
    item = next_span_item(state, run_id, annotator, include_gold=include_gold)
    if item is None:
        return out
    story = explain(state, item, run_id)
    proposed = story.get("proposed") or {"spans": [], "span_set_id": None, "producer": None}
    types = list(story["entity_types"])
    out["item"] = {
        "item_id": story["item_id"], "tokens": story["tokens"], "types": types,
        "proposed": [[p["start"], p["end"], p["type"]] for p in proposed["spans"]],
        "confidence": [p["confidence"] for p in proposed["spans"]],
        "span_set_id": proposed["span_set_id"], "producer": proposed["producer"],
        "sources": [{"source": s["source"], "spans": s["spans"]} for s in story["sources"] if s["spans"]],
        "type_index": {t: i for i, t in enumerate(types)},
    }
    return out


def _parsed(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ValidationError(f"{name}: expected JSON, got {text[:80]!r}") from None


def answer_spans(state: DashboardState, run_id: int, annotator: str, item_id: str, spans: Any,
                 decisions: Any) -> int:
    """Record an annotator's spans on an item (checked against its tokens) with their decisions."""
    story = explain(state, item_id, run_id)
    n = len(story["tokens"])
    for span in spans if isinstance(spans, list) else []:
        if isinstance(span, list) and len(span) == 3 and isinstance(span[1], int) and span[1] > n:
            raise ValidationError(f"spans: expected spans within the item's {n} tokens, got {span}")
    proposed = story.get("proposed") or {}
    answer = state.store.add_span_answer(story["dataset"], story["item_id"], annotator, spans, decisions=decisions,
                                         span_set_id=proposed.get("span_set_id"), run_id=run_id, origin="review")
    state.wrote()
    return answer


def skip_spans(state: DashboardState, run_id: int, annotator: str, item_id: str) -> int:
    """Record that ``annotator`` skipped the item (it leaves the queue; no spans are taken from it)."""
    story = explain(state, item_id, run_id)
    answer = state.store.add_span_answer(story["dataset"], story["item_id"], annotator, [], status="skipped",
                                         run_id=run_id, origin="review")
    state.wrote()
    return answer


def routes(router: APIRouter, pages: Pages) -> None:
    """``POST /review/spans/answer`` and ``POST /review/spans/skip``."""
    st = pages.state

    @router.post("/review/spans/answer")
    def spans_answer(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                     spans: str = Form(..., max_length=20000), decisions: str = Form("[]", max_length=40000),
                     gold: bool = Form(False)) -> Response:
        state = st(request)
        annotation = answer_spans(state, state.resolve_run(run), pages.required_annotator(request, "answering"),
                                  item_id, _parsed("spans", spans), _parsed("decisions", decisions))
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"span_answer_id": annotation})
        return review_redirect(run, gold)

    @router.post("/review/spans/skip")
    def spans_skip(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                   gold: bool = Form(False)) -> RedirectResponse:
        state = st(request)
        skip_spans(state, state.resolve_run(run), pages.required_annotator(request, "answering"), item_id)
        return review_redirect(run, gold)
