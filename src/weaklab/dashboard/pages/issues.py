"""Label issues of a run (``/issues``) and their resolution (``POST /issues/<id>/resolve``).

Every write goes through the store's API (``resolve_issue``); every input is
checked first and refused with a message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ...errors import ValidationError
from ...pipeline.issue_evidence import evidence_by_item
from ..multilabel_issues import multilabel_issues_view
from ..page import Nav, PageNo, Pager, Pages, RunId, explain, records
from ..state import DashboardState, NotFound

__all__ = ["NAV", "issues_view", "repairs_view", "resolve", "responsible_sources", "routes"]

NAV = Nav(order=50, key="issues", path="/issues", label="Label issues")


def issues_view(state: DashboardState, run_id: int, page: int, size: int = 25) -> dict[str, Any]:
    """One page of the run's label issues by rank, each with its evidence (votes, posterior, responsible sources)."""
    return state.fresh(("issues_view", int(run_id), int(page), int(size)),
                       lambda: _issues_view(state, run_id, page, size))


def responsible_sources(votes: list[dict[str, Any]], given: Any) -> list[str]:
    """The sources whose vote is the flagged (given) label: they pulled the weak label to it."""
    if given is None:
        return []
    return [str(v["source"]) for v in votes if v.get("label") is not None and int(v["label"]) == int(given)]


def _issues_view(state: DashboardState, run_id: int, page: int, size: int) -> dict[str, Any]:
    store = state.store
    pager = Pager(page, size, store.n_label_issues(run_id))
    frame = store.label_issues(run_id, offset=pager.offset, limit=size)
    recorded = state.fresh(("issue_evidence", int(run_id)), lambda: _recorded_evidence(state, run_id))
    texts = state.texts(state.dataset_id(run_id))
    rows = []
    for issue in records(frame):
        evidence = recorded.get(str(issue["item_id"]))
        if evidence is None:  # a local run (or a Dask run that recorded none): the item's story
            story = explain(state, issue["item_id"], run_id)
            evidence = {"votes": story["votes"], "proba": (story.get("posterior") or {}).get("proba"),
                        "text": texts.get(issue["item_id"])}
        issue["votes"] = evidence["votes"]
        issue["responsible"] = responsible_sources(evidence["votes"], issue.get("given"))
        issue["posterior"] = evidence["proba"]
        issue["text"] = evidence["text"]
        rows.append(issue)
    return {"issues": rows, "pager": pager, "class_names": state.class_names(run_id)}


def _recorded_evidence(state: DashboardState, run_id: int) -> dict[str, dict[str, Any]]:
    """The votes, posteriors and texts a Dask run recorded for its top issues (empty for other runs)."""
    record = state.store.reduced_record(run_id, "issue_evidence")
    return {} if record is None else evidence_by_item(record)


def repairs_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """The run's source repair suggestions (harm per source; drop or keep), or why there are none."""
    def build() -> dict[str, Any]:
        from ...pipeline.suggest_run import run_suggestions, went_through_issues

        if not went_through_issues(state.store.run_records(int(run_id))):
            return {"repairs": [], "repairs_note": "the run has not been through the issues step yet (run "
                                                   "`weaklab issues`: it ranks label issues and judges the sources)"}
        try:
            found = run_suggestions(state.store, run_id)
        except ValidationError as exc:
            return {"repairs": [], "repairs_note": str(exc)}
        return {"repairs": [r.to_dict() for r in found.repairs], "repairs_note": None}

    return dict(state.fresh(("repairs_view", int(run_id)), build))


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


def routes(router: APIRouter, pages: Pages) -> None:
    """``GET /issues``, ``POST /issues/<id>/resolve``."""
    st, render = pages.state, pages.render

    @router.get("/issues", response_class=HTMLResponse)
    def issues_page(request: Request, run: int | None = RunId, page: int = PageNo) -> HTMLResponse:
        run_id = st(request).resolve_run(run)
        if st(request).is_multilabel(run_id):
            return render(request, "issues_labels.html", "issues", run_id,
                          **multilabel_issues_view(st(request), run_id, page))
        return render(request, "issues.html", "issues", run_id, **issues_view(st(request), run_id, page),
                      **repairs_view(st(request), run_id), annotator=pages.annotator(request))

    @router.post("/issues/{issue_id}/resolve")
    def resolve_issue(request: Request, issue_id: int, decision: str = Form(...), run: int = Form(..., ge=0),
                      why: str = Form("", max_length=500), page: int = Form(1, ge=1)) -> RedirectResponse:
        who = pages.annotator(request) or "dashboard"
        resolve(st(request), issue_id, decision, who, why.strip() or None)
        return RedirectResponse(f"/issues?run={run}&page={page}", status_code=303)
