"""The Label issues page names, for each flagged item, the sources that voted its flagged label."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.dashboard.pages.issues import responsible_sources
from weaklab.store import Store


def test_responsible_sources_are_the_voters_of_the_given_label():
    """Only sources whose vote equals the flagged label are named; no label names nobody."""
    votes = [{"source": "a", "label": 1}, {"source": "b", "label": 0}, {"source": "c", "label": 1}]
    assert responsible_sources(votes, 1) == ["a", "c"]
    assert responsible_sources(votes, 0) == ["b"]
    assert responsible_sources(votes, None) == []


def test_issues_page_shows_who_voted_each_flagged_label(demo_store: Path):
    """Every row's 'misled by' cell lists exactly the item's sources that voted its given label."""
    with Store(demo_store, read_only=True) as store:
        run_id = store.latest_run_id()
        first = store.label_issues(run_id, limit=1).iloc[0]
        story = store.explain(first["item_id"], run_id)
    expected = [v["source"] for v in story["votes"] if v["label"] == first["given"]]
    with TestClient(create_app(demo_store), base_url="http://127.0.0.1") as client:
        html = client.get(f"/issues?run={run_id}").text
    assert "misled by" in html
    row = html.split(f'data-issue="{int(first["issue_id"])}"', 1)[1].split("</tr>", 1)[0]
    cell = row.split('class="responsible">', 1)[1].split("</td>", 1)[0]
    assert [s for s in expected if f"<div>{s}</div>" in cell] == expected
    assert cell.count("<div>") == len(expected) or (not expected and cell == "-")
