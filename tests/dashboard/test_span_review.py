"""The review queue and lineage page of a tagging run, through FastAPI's test client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app


@pytest.fixture
def client(tagging_store: Path):
    with TestClient(create_app(tagging_store, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as c:
        yield c


def _shown(client: TestClient) -> tuple[str, str]:
    page = client.get("/review")
    assert page.status_code == 200, page.text[-500:]
    found = re.search(r'id="span-review" data-item="([^"]+)"', page.text)
    assert found is not None, page.text[-800:]
    return found.group(1), str(client.cookies.get("weaklab_csrf"))


def test_review_shows_the_least_certain_item_with_its_tokens_and_proposals(client: TestClient) -> None:
    """The page shows the first item of the ranking (least certain token first), its tokens and proposed spans."""
    store = client.app.state.dashboard.store
    item, _ = _shown(client)
    sets = store.span_sets(1)
    _, items = store.load_span_set(int(sets[sets["role"] == "label_model"]["span_set_id"].iloc[0]))
    ids = store.load_item_ids(1)
    assert item == str(ids[int(items["score"].to_numpy().argmin())])
    story = store.explain(item, 1)
    page = client.get("/review").text
    assert page.count('class="tok"') == len(story["tokens"])
    assert f"data-ntokens=\"{len(story['tokens'])}\"" in page


def test_answers_are_stored_with_lineage_and_the_queue_moves_on(client: TestClient) -> None:
    """An answer records spans, decisions and the proposal seen; the item leaves the queue; bad spans are refused."""
    store = client.app.state.dashboard.store
    item, csrf = _shown(client)
    story = store.explain(item, 1)
    bad = client.post("/review/spans/answer", data={"csrf": csrf, "run": 1, "item_id": item,
                                                    "spans": f"[[0, {len(story['tokens']) + 1}, \"Disease\"]]"})
    assert bad.status_code == 400 and "tokens" in bad.text
    bad = client.post("/review/spans/answer", data={"csrf": csrf, "run": 1, "item_id": item, "spans": "[[0, 1"})
    assert bad.status_code == 400 and "JSON" in bad.text
    proposed = [[p["start"], p["end"], p["type"]] for p in story["proposed"]["spans"]]
    decisions = [{"span": p, "decision": "rejected"} for p in proposed]
    import json

    ok = client.post("/review/spans/answer", headers={"accept": "application/json"},
                     data={"csrf": csrf, "run": 1, "item_id": item, "spans": '[[0, 1, "Chemical"]]',
                           "decisions": json.dumps(decisions)})
    assert ok.status_code == 200, ok.text
    answers = store.span_answers(1, item_id=item)
    assert answers["spans"].tolist() == [[[0, 1, "Chemical"]]]
    assert answers["span_set_id"].iloc[0] == story["proposed"]["span_set_id"]
    assert [d["decision"] for d in answers["decisions"].iloc[0]] == ["rejected"] * len(proposed)
    following, _ = _shown(client)
    assert following != item
    lineage = client.get(f"/items/{item}?run=1")
    assert lineage.status_code == 200 and 'id="span-grid"' in lineage.text
    assert "ann" in lineage.text and "from annotation" in lineage.text
    skipped = client.post("/review/spans/skip", data={"csrf": csrf, "run": 1, "item_id": following})
    assert skipped.status_code == 303
    assert store.span_answers(1, item_id=following)["status"].tolist() == ["skipped"]
    assert _shown(client)[0] not in (item, following)
