"""The human review queue (``/review``): claims, answers, the annotator's name, disagreements to settle.

Every write goes through the store's API (``claim_items``, ``add_annotation``);
every input is checked first and refused with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ...pipeline.partitioned_runs import draw_free_items
from ...pipeline.queue_checks import n_random_checks, queue_random_share, queue_random_state, queue_rng
from ...pipeline.review import check_annotator, shows_suggestion
from ..page import (
    ANNOTATOR_COOKIE,
    Nav,
    Pages,
    RunId,
    class_id,
    explain,
    gold_context,
    item_cam,
    item_image,
    offered_items,
    review_redirect,
    unfitted_note,
)
from ..state import DashboardState
from .review_labels import label_review_view
from .review_spans import is_tagging_run, span_review_view

__all__ = ["BLIND", "NAV", "REVIEW_WINDOW", "MAX_DISAGREEMENTS", "answer", "blind_story", "disagreements",
           "next_item", "random_check", "suggesting",
           "review_again", "review_view", "routes", "skip"]

NAV = Nav(order=60, key="review", path="/review", label="Review queue")

#: Candidates offered to ``claim_items`` at a time (a window of the review ranking).
REVIEW_WINDOW = 64
#: A held claim with more than this many seconds left is shown without renewing it (a read, not a write).
RENEW_BELOW = 300.0
LEASE_SECONDS = 600.0
#: How many windows one request scans before saying the queue is empty.
MAX_WINDOWS = 64
#: Disagreements listed on the review page (the rest: `weaklab annotate disagreements`).
MAX_DISAGREEMENTS = 50


def next_item(state: DashboardState, run_id: int, annotator: str, *, include_gold: bool = False) -> Any | None:
    """The item ``annotator`` should answer next: their held claim, else a newly claimed free one.

    The ranking is scanned from where a free item may still be (windows
    found fully taken are skipped by later requests, see
    :meth:`DashboardState.review_start`), not from the top each time. Items
    that hold gold in the data file are not offered unless ``include_gold``.
    """
    held = held_claim(state, run_id, annotator)
    if held is not None:
        return held
    offered = offered_items(state, run_id, include_gold)
    again = offered(review_again(state, state.dataset_id(run_id)))
    if again:  # answered items whose content changed since come first (to be answered again)
        got = state.store.claim_items(run_id, annotator, again, n=1, lease_seconds=LEASE_SECONDS)
        state.wrote(claims=True)
        if got:
            return got[0]
    checked = random_check(state, run_id, annotator, offered)
    if checked is not None:
        return checked
    ranking = state.ranking(run_id)
    first = state.review_start(run_id, LEASE_SECONDS, gold=include_gold)
    for start in range(first, min(len(ranking), first + REVIEW_WINDOW * MAX_WINDOWS), REVIEW_WINDOW):
        window = ranking.window(start, REVIEW_WINDOW)
        free = offered(window.tolist())
        got = state.store.claim_items(run_id, annotator, free, n=1, lease_seconds=LEASE_SECONDS) if free else []
        state.wrote(claims=True)
        if got:
            _record_slot(state, run_id, got[0], 0)
            return got[0]
        state.review_taken(run_id, start, start + len(window), gold=include_gold)
    return None


def random_check(state: DashboardState, run_id: int, annotator: str,
                 offered: Callable[[list[Any]], list[Any]], *, forced: bool = False) -> Any | None:
    """With the project's ``[query].random_share`` probability, claim an item drawn uniformly from the free ones.

    Free: offered by the queue (no gold unless asked), not answered or
    skipped, not claimed by anyone. The slot is recorded in the store as a
    random check with the number of free items
    (:meth:`~weaklab.store.Store.add_queue_slots`); the page does not say
    so (the reviewer answers it as any other item). The draw is seeded from
    the store (:func:`~weaklab.pipeline.queue_checks.queue_rng`): the same
    store state serves the same item. ``forced``: a check whatever the
    share (the replacement of a skipped check, :func:`skip`). On a Dask run (whose ranking holds
    only the most uncertain items) the check is drawn from all its items but
    those holding gold
    (:func:`~weaklab.pipeline.partitioned_runs.draw_free_items`). None when
    the slot is not a check or nothing is free.
    """
    store = state.store
    dataset_id = state.dataset_id(run_id)
    share = state.random_share if state.random_share is not None else \
        state.fresh(("random_share", dataset_id), lambda: queue_random_share(store, dataset_id))
    if share <= 0 and not forced:
        return None
    seed = state.fresh(("queue_random_state", dataset_id), lambda: queue_random_state(store, dataset_id))
    rng = queue_rng(store, dataset_id, run_id=run_id, queue="review", random_state=seed)
    if n_random_checks(1, 1.0 if forced else share, rng) == 0:
        return None
    taken = {str(v) for v in store.annotations(dataset_id)["item_id"].tolist()}
    taken |= {str(v) for v in store.claims(run_id)["item_id"].tolist()}
    if "soft_labels" in store.partitioned(run_id):  # a Dask run: its ranking holds only the most uncertain items
        drawn, _, n_free = draw_free_items(store, run_id, 1, sorted(taken), rng)
        free = drawn.tolist()
    else:
        free = [v for v in offered(state.ranking(run_id).item_ids.tolist()) if str(v) not in taken]
        n_free = len(free)
    if not free:
        return None
    item = free[int(rng.integers(len(free)))]
    got = store.claim_items(run_id, annotator, [item], n=1, lease_seconds=LEASE_SECONDS)
    state.wrote(claims=True)
    if not got or str(got[0]) != str(item):
        return got[0] if got else None
    _record_slot(state, run_id, item, n_free)
    return item


def _record_slot(state: DashboardState, run_id: int, item: Any, pool_left: int) -> None:
    """Record one served slot of the queue (a random check when ``pool_left`` > 0)."""
    state.store.add_queue_slots(state.dataset_id(run_id), [item], [pool_left > 0], pool_left=pool_left,
                                queue="review", run_id=run_id)


def review_again(state: DashboardState, dataset_id: int) -> list[Any]:
    """Answered items of the dataset whose content changed since they were answered (only with several versions)."""
    store = state.store
    if state.fresh(("n_versions", dataset_id), lambda: len(store.dataset_versions(dataset_id))) < 2:
        return []
    return list(state.fresh(("review_again", dataset_id), lambda: store.changed_since_answered(dataset_id)))


def held_claim(state: DashboardState, run_id: int, annotator: str) -> Any | None:
    """The item ``annotator`` holds in the run with a long enough lease left (read-only), else None."""
    claims = state.fresh(("claims", int(run_id)), lambda: state.store.claims(run_id), claims=True)
    mine = claims[claims["annotator"] == annotator]
    if mine.empty:
        return None
    left = (mine["expires_at"].iloc[0] - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    return mine["item_id"].iloc[0] if left > RENEW_BELOW else None


def review_view(state: DashboardState, run_id: int, annotator: str | None, *,
                include_gold: bool = False) -> dict[str, Any]:
    """The review page: the claimed item with its text, the sources' votes and the current soft label.

    Items that hold gold are not offered unless ``include_gold`` (the page says how many).
    """
    names = state.class_names(run_id)
    out: dict[str, Any] = {"annotator": annotator, "class_names": names, "item": None,
                           "strategy": state.ranking(run_id).strategy, "disagreements": None,
                           **gold_context(state, run_id, include_gold)}
    if annotator is None:
        return out
    dataset_id = state.dataset_id(run_id)
    item = next_item(state, run_id, annotator, include_gold=include_gold)
    out["n_answered"] = state.fresh(("n_answered", dataset_id, annotator),
                                    lambda: len(state.store.annotations(dataset_id, annotator=annotator)))
    out["disagreements"] = state.fresh(("disagreements", int(run_id)), lambda: disagreements(state, run_id))
    if item is None:
        return out
    story = explain(state, item, run_id)
    story["text"] = state.texts(dataset_id).get(item)
    story["image"] = item_image(state.images(dataset_id), story["item_id"])
    if story["image"] is not None:
        story["image"]["cam"] = item_cam(state.cams(run_id), story["item_id"])
    story["changed_since_answered"] = str(item) in {str(v) for v in review_again(state, dataset_id)}
    out["show_suggestion"] = suggesting(state, dataset_id)
    out["item"] = story if out["show_suggestion"] else blind_story(story)
    return out


def suggesting(state: DashboardState, dataset_id: int) -> bool:
    """The project's ``[review].show_suggestion`` (cached): False hides the votes and soft labels (blind review)."""
    return bool(state.fresh(("show_suggestion", dataset_id), lambda: shows_suggestion(state.store, dataset_id)))


BLIND = "hidden in blind review ([review].show_suggestion = false)"


def blind_story(story: dict[str, Any]) -> dict[str, Any]:
    """What blind review shows of an item: its id, text and picture, no votes, soft label nor CAM overlay."""
    image = story.get("image")
    if image is not None:
        image = {**image, "cam": {"available": False, "reason": BLIND}}
    return {"item_id": story["item_id"], "text": story.get("text"), "image": image, "votes": [],
            "posterior": None, "changed_since_answered": story.get("changed_since_answered", False)}


def answer(state: DashboardState, run_id: int, annotator: str, item_id: str, label: Any) -> int | None:
    """Record an annotator's answer (an annotation with name and time); None when it repeats their last one."""
    value = class_id(label, state.class_names(run_id))
    typed = explain(state, item_id, run_id)["item_id"]
    dataset_id = state.dataset_id(run_id)
    mine = state.store.annotations(dataset_id, item_id=typed, annotator=annotator)
    last = mine.iloc[-1] if len(mine) else None
    if (last is not None and last["status"] == "answered" and int(last["dataset_id"]) == dataset_id
            and int(last["label"]) == value):
        return None  # the same answer submitted twice on this data (a double click, a resent form)
    annotation = state.store.add_annotation(dataset_id, typed, annotator, value, origin="review", run_id=run_id)
    state.wrote()
    return annotation


def skip(state: DashboardState, run_id: int, annotator: str, item_id: str, *, include_gold: bool = False) -> int:
    """Record that ``annotator`` skipped an item: an annotation with no label (status ``"skipped"``).

    The skip stays in the item's history, is not gold, releases the claim and
    takes the item out of the review queue (as a skip from ``weaklab
    annotate`` or a Label Studio import does). When the queue served the item
    as a random check, a fresh uniform draw replaces it at once: claimed for
    ``annotator`` and recorded as a check (its own round), it is the next item
    they see, so skipping does not thin the checks out (the weights count the
    skip, :func:`~weaklab.pipeline.queue_checks.check_outcomes`).
    """
    typed = explain(state, item_id, run_id)["item_id"]
    dataset_id = state.dataset_id(run_id)
    annotation = state.store.add_annotation(dataset_id, typed, annotator, None, origin="review", run_id=run_id)
    state.wrote()
    if _served_as_check(state, dataset_id, typed):
        random_check(state, run_id, annotator, offered_items(state, run_id, include_gold), forced=True)
    return annotation


def _served_as_check(state: DashboardState, dataset_id: int, item: Any) -> bool:
    """Whether the last slot a queue served ``item`` in was a random check."""
    slots = state.store.queue_slots(dataset_id)
    mine = slots[slots["item_id"].astype(str) == str(item)] if len(slots) else slots
    return bool(len(mine)) and bool(mine["at_random"].iloc[-1])


def disagreements(state: DashboardState, run_id: int) -> list[dict[str, Any]]:
    """Items of the run's dataset whose annotators disagree (ties first), for adjudication."""
    store = state.store
    frame = store.disagreements(state.dataset_id(run_id), class_names=state.class_names(run_id),
                                renames=store.run_class_renames(run_id))
    frame = frame.sort_values("status", key=lambda s: s != "tie", kind="stable")
    return [{"item_id": r["item_id"], "status": r["status"], "votes": r["votes"]}
            for r in frame.head(MAX_DISAGREEMENTS).to_dict("records")]


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /review``, ``POST /review/annotator``, ``POST /review/answer``."""
    st, render = pages.state, pages.render

    @router.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, run: int | None = RunId, gold: bool = Query(False)) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "review_labels.html", "review", run_id,
                          **label_review_view(st(request), run_id, pages.annotator(request), include_gold=gold))
        if is_tagging_run(st(request), run_id):
            return render(request, "review_spans.html", "review", run_id,
                          **span_review_view(st(request), run_id, pages.annotator(request), include_gold=gold))
        note = unfitted_note(st(request), run_id)
        if note is not None:
            return render(request, "review.html", "review", run_id, unfitted=note)
        return render(request, "review.html", "review", run_id,
                      **review_view(st(request), run_id, pages.annotator(request), include_gold=gold))

    @router.post("/review/annotator")
    def set_annotator(annotator: str = Form(...), run: int = Form(..., ge=0)) -> RedirectResponse:
        name = check_annotator(annotator)
        response = RedirectResponse(f"/review?run={run}", status_code=303)
        response.set_cookie(ANNOTATOR_COOKIE, name, httponly=True, samesite="strict")
        return response

    @router.post("/review/answer")
    def review_answer(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                      label: str = Form(..., max_length=20), gold: bool = Form(False)) -> Response:
        state = st(request)
        annotator = pages.required_annotator(request, "answering")
        annotation = answer(state, state.single_label_run(run, "the review queue"), annotator, item_id, label)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"annotation_id": annotation, "duplicate": annotation is None})
        return review_redirect(run, gold)

    @router.post("/review/skip")
    def review_skip(request: Request, run: int = Form(..., ge=0), item_id: str = Form(..., max_length=500),
                    gold: bool = Form(False)) -> RedirectResponse:
        state = st(request)
        annotator = pages.required_annotator(request, "skipping")
        skip(state, state.single_label_run(run, "the review queue"), annotator, item_id, include_gold=gold)
        return review_redirect(run, gold)

