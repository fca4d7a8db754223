"""The dashboard's review queues (classes and spans) never offer an item that holds gold in the data file,
unless the reviewer asks to re-check gold (``/review?gold=1``); the page says how many items it leaves out."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app

N_ITEMS = 24


@pytest.fixture
def project(tmp_path: Path, msgs_project_writer) -> tuple[Path, set[str]]:
    """24 messages with their own column names, every third a dev item with gold in ``truth``; fitted."""
    from weaklab.pipeline import Project

    gold = msgs_project_writer(tmp_path, N_ITEMS, 3)
    Project(tmp_path).run("fit")
    return tmp_path / ".weaklab" / "weaklab.duckdb", gold


def _client(store: Path) -> TestClient:
    return TestClient(create_app(store, annotator_default="ann"), follow_redirects=False, base_url="http://127.0.0.1")


def _skip_through(client: TestClient, page: str, skip: str, marker: str) -> tuple[list[str], list[str]]:
    """Skip every item the queue at ``page`` offers; the items shown, and the pages' text."""
    shown, texts = [], []
    for _ in range(200):
        text = client.get(page).text
        texts.append(text)
        found = re.search(marker + r' data-item="([^"]+)"', text)
        if found is None:
            break
        shown.append(found.group(1))
        form = {"csrf": str(client.cookies.get("weaklab_csrf")), "run": 1, "item_id": found.group(1)}
        if "gold=1" in page:
            form["gold"] = "1"
        response = client.post(skip, data=form)
        assert response.status_code == 303 and response.headers["location"].endswith(page.split("/review")[1])
    return shown, texts


def test_class_review_offers_no_gold_item_and_says_how_many(project: tuple[Path, set[str]]) -> None:
    """Skipping through the class review queue shows each item without gold once, none with gold; the page
    names the count and the gold column and links to the queue that offers them too."""
    store, gold = project
    with _client(store) as client:
        shown, texts = _skip_through(client, "/review?run=1", "/review/skip", 'id="review-item"')
        assert len(shown) == len(set(shown)) == N_ITEMS - len(gold) and not set(shown) & gold
        note = " ".join(texts[0].split())
        assert f"{len(gold)} items hold gold (column &#39;truth&#39;) and are not offered" in note
        assert 'href="/review?run=1&amp;gold=1"' in texts[-1] and 'id="queue-empty"' in texts[-1]


def test_class_review_offers_gold_items_when_asked(project: tuple[Path, set[str]]) -> None:
    """``/review?gold=1`` offers the gold items too (answers and skips come back to that queue)."""
    store, gold = project
    with _client(store) as client:
        shown, texts = _skip_through(client, "/review?run=1&gold=1", "/review/skip", 'id="review-item"')
        assert set(shown) >= gold and len(shown) == len(set(shown)) == N_ITEMS
        assert "are offered too, to re-check their gold" in texts[0]


def test_items_that_gain_gold_while_the_dashboard_runs_are_not_offered(project: tuple[Path, set[str]]) -> None:
    """The data file edited under a running dashboard (every item but the one shown gets gold): after the shown
    item is skipped the queue is empty, and the page counts the new gold."""
    store, _ = project
    with _client(store) as client:
        first = re.search(r'id="review-item" data-item="([^"]+)"', client.get("/review?run=1").text)
        assert first is not None
        data = store.parent.parent / "data" / "msgs.csv"
        table = pd.read_csv(data, keep_default_na=False)
        others = table["msg_no"] != first.group(1)
        table.loc[others, "truth"], table.loc[others, "part"] = "fine", "dev"
        table.to_csv(data, index=False)
        shown, texts = _skip_through(client, "/review?run=1", "/review/skip", 'id="review-item"')
        assert shown == [first.group(1)]
        assert f"{N_ITEMS - 1} items hold gold (column &#39;truth&#39;)" in " ".join(texts[0].split())


def _gold_spans(store: Path) -> set[str]:
    from weaklab.store import Store

    with Store(store, read_only=True) as opened:
        meta = opened.dataset(1)["meta"]
    table = pd.read_csv(meta["path"] if Path(meta["path"]).is_absolute() else store.parent.parent / meta["path"])
    dev = table[table[meta["split_column"]] == "dev"]
    return {str(v) for v in dev[meta["id_column"]]}


def test_span_review_offers_no_gold_item_unless_asked(tagging_store: Path) -> None:
    """The span review queue of a tagging run leaves out the dev sentences (gold spans) and offers them with
    ``gold=1``."""
    gold = _gold_spans(tagging_store)
    assert gold
    with _client(tagging_store) as client:
        shown, texts = _skip_through(client, "/review?run=1", "/review/spans/skip", 'id="span-review"')
        assert shown and not set(shown) & gold and len(shown) == len(set(shown))
        assert f"{len(gold)} items hold gold (column &#39;spans&#39;)" in " ".join(texts[0].split())
        again, _ = _skip_through(client, "/review?run=1&gold=1", "/review/spans/skip", 'id="span-review"')
        assert set(again) == gold  # the rest were skipped above
