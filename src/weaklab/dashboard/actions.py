"""Item-level pages and the writes: lineage, label issues (accept/reject), the review queue (claims, answers).

Every write goes through the store's API (``resolve_issue``, ``claim_items``,
``add_annotation``); every input is checked first and refused with a message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..pipeline.review import check_annotator
from .state import DashboardState, NotFound
from .views import Pager

__all__ = ["item_view", "issues_view", "resolve", "review_view", "answer", "skip", "adjudicate", "check_annotator",
           "REVIEW_WINDOW", "MAX_DISAGREEMENTS"]

#: Candidates offered to ``claim_items`` at a time (a window of the review ranking).
REVIEW_WINDOW = 64
#: A held claim with more than this many seconds left is shown without renewing it (a read, not a write).
RENEW_BELOW = 300.0
LEASE_SECONDS = 600.0
#: How many windows one request scans before saying the queue is empty.
MAX_WINDOWS = 64
#: Disagreements listed on the review page (the rest: `weaklab annotate disagreements`).
MAX_DISAGREEMENTS = 50


def explain(state: DashboardState, item_id: Any, run_id: int) -> dict[str, Any]:
    """``store.explain`` of an item (a copy, kept until the store changes); NotFound for an unknown id."""
    def build() -> dict[str, Any]:
        try:
            return state.store.explain(item_id, run_id)
        except ValidationError:
            raise NotFound(f"item_id: no item {str(item_id)[:200]!r} in the dataset of run {run_id}") from None

    return dict(state.fresh(("explain", str(item_id), int(run_id)), build))


def item_view(state: DashboardState, item_id: str, run_id: int) -> dict[str, Any]:
    """The lineage of one item: votes with versions, posterior, issues, corrections, answers, final label."""
    return dict(state.fresh(("item_view", str(item_id), int(run_id)), lambda: _item_view(state, item_id, run_id)))


def _item_view(state: DashboardState, item_id: str, run_id: int) -> dict[str, Any]:
    story = explain(state, item_id, run_id)
    story["text"] = state.texts(state.dataset_id(run_id)).get(story["item_id"])
    names = story.get("class_names") or state.class_names(run_id)
    story["class_names"] = names
    now = state.store.human_labels(state.dataset_id(run_id), class_names=names, item_id=story["item_id"],
                                   renames=state.store.run_class_renames(run_id), unknown="ignore")
    story["human_now"] = now.iloc[0].to_dict() if len(now) else None
    return story


def issues_view(state: DashboardState, run_id: int, page: int, size: int = 25) -> dict[str, Any]:
    """One page of the run's label issues by rank, each with its evidence (votes, posterior)."""
    return state.fresh(("issues_view", int(run_id), int(page), int(size)),
                       lambda: _issues_view(state, run_id, page, size))


def _issues_view(state: DashboardState, run_id: int, page: int, size: int) -> dict[str, Any]:
    store = state.store
    pager = Pager(page, size, store.n_label_issues(run_id))
    frame = store.label_issues(run_id, offset=pager.offset, limit=size)
    texts = state.texts(state.dataset_id(run_id))
    rows = []
    for issue in frame.to_dict("records"):
        issue = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in issue.items()}
        story = explain(state, issue["item_id"], run_id)
        issue["votes"] = story["votes"]
        issue["posterior"] = (story.get("posterior") or {}).get("proba")
        issue["text"] = texts.get(issue["item_id"])
        rows.append(issue)
    return {"issues": rows, "pager": pager, "class_names": state.class_names(run_id)}


def resolve(state: DashboardState, issue_id: int, decision: str, who: str, why: str | None) -> int | None:
    """Accept (record the suggested label as a correction) or reject a label issue."""
    if decision not in ("accept", "reject"):
        raise ValidationError(f"decision: expected 'accept' or 'reject'; got {decision[:40]!r}")
    try:
        correction = state.store.resolve_issue(issue_id, decision == "accept", who=who, why=why or None)
    except ValidationError as exc:
        if "issue_id" in str(exc):
            raise NotFound(f"issue_id: no label issue {issue_id} in this store") from None
        raise
    state.wrote()
    return correction


def next_item(state: DashboardState, run_id: int, annotator: str) -> Any | None:
    """The item ``annotator`` should answer next: their held claim, else a newly claimed free one.

    The ranking is scanned from where a free item may still be (windows
    found fully taken are skipped by later requests, see
    :meth:`DashboardState.review_start`), not from the top each time.
    """
    held = held_claim(state, run_id, annotator)
    if held is not None:
        return held
    again = review_again(state, state.dataset_id(run_id))
    if again:  # answered items whose content changed since come first (to be answered again)
        got = state.store.claim_items(run_id, annotator, again, n=1, lease_seconds=LEASE_SECONDS)
        state.wrote(claims=True)
        if got:
            return got[0]
    ranking = state.ranking(run_id)
    first = state.review_start(run_id, LEASE_SECONDS)
    for start in range(first, min(len(ranking), first + REVIEW_WINDOW * MAX_WINDOWS), REVIEW_WINDOW):
        window = ranking.window(start, REVIEW_WINDOW)
        got = state.store.claim_items(run_id, annotator, window, n=1, lease_seconds=LEASE_SECONDS)
        state.wrote(claims=True)
        if got:
            return got[0]
        state.review_taken(run_id, start, start + len(window))
    return None


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


def review_view(state: DashboardState, run_id: int, annotator: str | None) -> dict[str, Any]:
    """The review page: the claimed item with its text, the sources' votes and the current soft label."""
    names = state.class_names(run_id)
    out: dict[str, Any] = {"annotator": annotator, "class_names": names, "item": None,
                           "strategy": state.ranking(run_id).strategy, "disagreements": None}
    if annotator is None:
        return out
    dataset_id = state.dataset_id(run_id)
    item = next_item(state, run_id, annotator)
    out["n_answered"] = state.fresh(("n_answered", dataset_id, annotator),
                                    lambda: len(state.store.annotations(dataset_id, annotator=annotator)))
    out["disagreements"] = state.fresh(("disagreements", int(run_id)), lambda: disagreements(state, run_id))
    if item is None:
        return out
    story = explain(state, item, run_id)
    story["text"] = state.texts(dataset_id).get(item)
    story["changed_since_answered"] = str(item) in {str(v) for v in review_again(state, dataset_id)}
    out["item"] = story
    return out


def answer(state: DashboardState, run_id: int, annotator: str, item_id: str, label: Any) -> int | None:
    """Record an annotator's answer (an annotation with name and time); None when it repeats their last one."""
    value = _class_id(label, state.class_names(run_id))
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


def skip(state: DashboardState, run_id: int, annotator: str, item_id: str) -> int:
    """Record that ``annotator`` skipped an item: an annotation with no label (status ``"skipped"``).

    The skip stays in the item's history, is not gold, releases the claim and
    takes the item out of the review queue (as a skip from ``weaklab
    annotate`` or a Label Studio import does).
    """
    typed = explain(state, item_id, run_id)["item_id"]
    annotation = state.store.add_annotation(state.dataset_id(run_id), typed, annotator, None, origin="review",
                                            run_id=run_id)
    state.wrote()
    return annotation


def disagreements(state: DashboardState, run_id: int) -> list[dict[str, Any]]:
    """Items of the run's dataset whose annotators disagree (ties first), for adjudication."""
    store = state.store
    frame = store.disagreements(state.dataset_id(run_id), class_names=state.class_names(run_id),
                                renames=store.run_class_renames(run_id))
    frame = frame.sort_values("status", key=lambda s: s != "tie", kind="stable")
    return [{"item_id": r["item_id"], "status": r["status"], "votes": r["votes"]}
            for r in frame.head(MAX_DISAGREEMENTS).to_dict("records")]


def adjudicate(state: DashboardState, run_id: int, annotator: str, item_id: str, label: Any) -> int:
    """Settle an item's disagreement: an answer with origin ``"adjudication"`` decides its label."""
    names = state.class_names(run_id)
    value = _class_id(label, names)
    typed = explain(state, item_id, run_id)["item_id"]
    annotation = state.store.add_annotation(state.dataset_id(run_id), typed, annotator, value,
                                            origin="adjudication", run_id=run_id)
    state.wrote()
    return annotation


def _class_id(label: Any, names: list[str]) -> int:
    try:
        value = int(label)
    except (TypeError, ValueError):
        raise ValidationError(f"label: expected a class id in 0..{len(names) - 1}; got {str(label)[:40]!r}") from None
    if not 0 <= value < len(names):
        raise ValidationError(f"label: expected a class id in 0..{len(names) - 1} ({', '.join(names)}); "
                              f"got {value}")
    return value
