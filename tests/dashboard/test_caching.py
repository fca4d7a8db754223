"""The dashboard serves pages between writes from its caches (no store query), shows any process's
write on the next load, and continues the review queue where free items start instead of rescanning."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.dashboard.pages.review import REVIEW_WINDOW
from weaklab.store import Store

READS = ("runs", "alerts", "explain", "claims", "annotations", "latest_run_id", "label_issues", "n_label_issues",
         "run_records", "human_labels", "disagreements", "source_history")


@pytest.fixture
def client(demo_store: Path):
    # no random checks (random_share=0): these tests count the queue's claims and reads of a ranked scan
    with TestClient(create_app(demo_store, annotator_default="ann", random_share=0.0), follow_redirects=False,
                    base_url="http://127.0.0.1") as c:
        yield c


def _count_reads(client, monkeypatch) -> list[str]:
    store = client.app.state.dashboard.store
    calls: list[str] = []
    for name in READS:
        original = getattr(store, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(store, name, counted)
    return calls


PAGES = ["/runs", "/sources", "/sources?sort=coverage&dir=desc", "/sources/kw_subscribe", "/label-model", "/health",
         "/issues", "/review", "/diff?a=1&b=2"]


def test_pages_between_writes_read_nothing_from_the_store(client, monkeypatch):
    """Once rendered, every page is served again without one store query while nothing was written."""
    item = client.app.state.dashboard.store.load_item_ids(1)[5]
    for _ in range(2):  # the first round claims a review item; the second reads the claim back once
        for url in [*PAGES, f"/items/{item}"]:
            assert client.get(url).status_code == 200, url
    calls = _count_reads(client, monkeypatch)
    for url in [*PAGES, f"/items/{item}"]:
        assert client.get(url).status_code == 200, url
    assert calls == []


def test_a_write_by_another_store_shows_on_the_next_load(client, demo_store):
    """An alert recorded through another Store (another process would do the same) appears on /sources."""
    assert "written-elsewhere" not in client.get("/sources").text
    with Store(demo_store) as other:
        other.add_alert(other.latest_run_id(), "note", "written-elsewhere", severity="info")
    time.sleep(0.2)  # the change stamp is re-read every 0.1 s
    assert "written-elsewhere" in client.get("/sources").text


def test_an_answer_shows_at_once(client):
    """The review page right after an answer counts it (the dashboard's own writes refresh its caches at once)."""
    page = client.get("/review")
    assert page.status_code == 200 and "0 answered" in page.text
    csrf = client.cookies.get("weaklab_csrf")
    item = client.app.state.dashboard.store.claims(2)["item_id"].iloc[0]
    answer = client.post("/review/answer", data={"csrf": csrf, "run": 2, "item_id": str(item), "label": 1})
    assert answer.status_code == 303
    assert "1 answered" in client.get("/review").text


def test_the_review_queue_continues_where_free_items_start(client, monkeypatch):
    """When the first windows of the ranking are all answered, a later reviewer does not rescan them."""
    state = client.app.state.dashboard
    ranking = state.ranking(2)
    taken = ranking.item_ids[: 2 * REVIEW_WINDOW]
    state.store.add_annotations(1, taken, "earlier", [0] * len(taken), origin="review")
    calls: list[int] = []
    original = state.store.claim_items

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(state.store, "claim_items", counted)
    client.cookies.set("weaklab_annotator", "first")
    assert client.get("/review").status_code == 200
    assert len(calls) == 3  # two windows found taken, then a claim in the third
    calls.clear()
    client.cookies.set("weaklab_annotator", "second")
    assert client.get("/review").status_code == 200
    assert len(calls) == 1
    held = state.store.claims(2)
    assert set(held["annotator"]) == {"first", "second"}
    assert not set(held["item_id"]) & set(taken.tolist())


def test_a_page_is_never_kept_under_a_newer_stamp_than_its_data(client, demo_store, monkeypatch):
    """A write landing while a page is being built shows on the next load: the page is kept under the
    change stamp its request started with (one stamp per request), not a newer one read while rendering."""
    from weaklab.dashboard.pages import runs as views

    original = views.runs_view
    written: list[int] = []

    def slow_view(state, page, size=25):
        out = original(state, page, size)
        if not written:  # another process records a run after the view read the runs, before the page renders
            with Store(demo_store) as other:
                written.append(other.start_run(1))
            time.sleep(0.25)  # longer than the dashboard's change-stamp refresh (0.1 s)
        return out

    monkeypatch.setattr(views, "runs_view", slow_view)
    assert "/sources?run=3" not in client.get("/runs").text  # built from the runs read before the write
    assert written == [3]
    assert "/sources?run=3" in client.get("/runs").text  # not served from a page kept under the newer stamp
