"""The review queue of a multi-label run: a person ticks the labels that apply to an item.

``/review`` of a multi-label run shows this page instead of the class
buttons (:mod:`.review` hands over). Items come least certain first (the
largest summed binary entropy of the label model's ``P(label applies)``,
:func:`~weaklab.pipeline.multilabel.label_uncertainty`), skipping items
someone already answered or skipped and, unless asked, items with gold; an
item shown is claimed for the annotator like any review item. The answer is
one :meth:`~weaklab.store.Store.add_label_set_answer`: the label *names*
the person ticked, and the label set of probabilities they were shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ...pipeline.multilabel import label_uncertainty
from ...pipeline.review import shows_suggestion
from ..multilabel_views import label_rows
from ..page import Nav, Pages, claim_next, explain, gold_context, review_redirect
from ..state import DashboardState

__all__ = ["NAV", "label_ranking", "next_label_item", "label_review_view", "answer_labels", "skip_labels",
           "routes"]

NAV: Nav | None = None  # reached through /review
#: The ticked label names of the answer form (none ticked: none applies).
LABELS_FIELD = Form([], max_length=200)


def label_ranking(state: DashboardState, run_id: int) -> dict[str, Any]:
    """The run's items, least certain first: ``{"ids", "scores", "label_set_id"}`` (from the label model's set)."""
    def build() -> dict[str, Any]:
        store = state.store
        sets = store.label_sets(run_id)
        fitted = sets[sets["role"] == "label_model"]
        ids = np.asarray(store.load_item_ids(state.dataset_id(run_id)))
        if fitted.empty:
            return {"ids": ids, "scores": np.zeros(len(ids)), "label_set_id": None}
        set_id = int(fitted["label_set_id"].iloc[-1])
        scores = label_uncertainty(store.load_label_proba(set_id))
        order = np.argsort(-scores, kind="stable")
        return {"ids": ids[order], "scores": scores[order], "label_set_id": set_id}

    return state.cached(("label_ranking", int(run_id)), build)


def _answered(state: DashboardState, dataset_id: int) -> set[str]:
    return state.fresh(("label_answered", dataset_id),
                       lambda: set(state.store.label_set_answers(dataset_id)["item_key"].astype(str)))


def next_label_item(state: DashboardState, run_id: int, annotator: str, *, include_gold: bool = False) -> Any | None:
    """The item ``annotator`` should review next: their held claim, else the least certain free unanswered one."""
    return claim_next(state, run_id, annotator, label_ranking(state, run_id)["ids"],
                      _answered(state, state.dataset_id(run_id)), include_gold)


def label_review_view(state: DashboardState, run_id: int, annotator: str | None, *,
                      include_gold: bool = False) -> dict[str, Any]:
    """The page's context: the claimed item's text and, per label, its voters and P(applies)."""
    out: dict[str, Any] = {"annotator": annotator, "item": None, **gold_context(state, run_id, include_gold)}
    if annotator is None:
        return out
    dataset_id = state.dataset_id(run_id)
    out["n_answered"] = int((state.store.label_set_answers(dataset_id)["annotator"] == annotator).sum())
    item = next_label_item(state, run_id, annotator, include_gold=include_gold)
    if item is None:
        return out
    story = explain(state, item, run_id)
    rows = label_rows(story)
    out["show_suggestion"] = bool(state.fresh(("show_suggestion", dataset_id),
                                              lambda: shows_suggestion(state.store, dataset_id)))
    if not out["show_suggestion"]:  # blind review: the labels alone, every box unticked
        rows = [{"label": r["label"], "present": [], "absent": [], "label_model": None, "end_model": None,
                 "gold": None, "final": False} for r in rows]
    out["item"] = {"item_id": story["item_id"], "text": state.texts(dataset_id).get(story["item_id"]), "rows": rows}
    return out


def answer_labels(state: DashboardState, run_id: int, annotator: str, item_id: str, labels: list[str]) -> int:
    """Record the labels ``annotator`` says apply to the item (by name), with the probabilities they were shown."""
    story = explain(state, item_id, run_id)
    answer = state.store.add_label_set_answer(
        story["dataset"]["dataset_id"], story["item_id"], annotator, labels, label_names=story["label_names"],
        label_set_id=label_ranking(state, run_id)["label_set_id"], run_id=run_id, origin="review")
    state.wrote()
    return answer


def skip_labels(state: DashboardState, run_id: int, annotator: str, item_id: str) -> int:
    """Record that ``annotator`` skipped the item (it leaves the queue; no labels are taken from it)."""
    story = explain(state, item_id, run_id)
    answer = state.store.add_label_set_answer(story["dataset"]["dataset_id"], story["item_id"], annotator, [],
                                              label_names=story["label_names"], status="skipped", run_id=run_id,
                                              origin="review")
    state.wrote()
    return answer


def routes(router: APIRouter, pages: Pages) -> None:
    """``POST /review/labels/answer`` and ``POST /review/labels/skip``."""
    st = pages.state

    @router.post("/review/labels/answer")
    def labels_answer(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                      labels: list[str] = LABELS_FIELD, gold: bool = Form(False)) -> Response:
        state = st(request)
        answer = answer_labels(state, state.resolve_run(run), pages.required_annotator(request, "answering"), item_id,
                               labels)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"label_set_answer_id": answer})
        return review_redirect(run, gold)

    @router.post("/review/labels/skip")
    def labels_skip(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                    gold: bool = Form(False)) -> RedirectResponse:
        state = st(request)
        skip_labels(state, state.resolve_run(run), pages.required_annotator(request, "answering"), item_id)
        return review_redirect(run, gold)

