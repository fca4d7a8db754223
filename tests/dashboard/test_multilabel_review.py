"""The review queue of a multi-label run: a person ticks the labels that apply; the answer is stored by label name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.demo.multilabel import init_multilabel_project
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel import label_uncertainty


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ml_review") / "topics"
    init_multilabel_project(root, n_items=80)
    Project(root).run("fit")
    return root


@pytest.fixture
def client(template: Path, tmp_path: Path):
    root = tmp_path / "topics"
    shutil.copytree(template, root)
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", annotator_default="ann"),
                    follow_redirects=False, base_url="http://127.0.0.1") as c:
        c.root = root  # type: ignore[attr-defined]
        yield c


def _shown(client: TestClient) -> tuple[str, str]:
    page = client.get("/review")
    assert page.status_code == 200, page.text[-500:]
    found = re.search(r'id="label-review" data-item="([^"]+)"', page.text)
    assert found is not None, page.text[-800:]
    return found.group(1), str(client.cookies.get("weaklab_csrf"))


def test_queue_offers_the_most_uncertain_non_dev_item_with_its_labels_ticked(client: TestClient) -> None:
    """The first item is the non-dev item of largest summed entropy; its boxes start at the label model's labels."""
    store = client.app.state.dashboard.store
    item, _ = _shown(client)
    sets = store.label_sets(1)
    proba = store.load_label_proba(int(sets[sets["role"] == "label_model"]["label_set_id"].iloc[0]))
    gold = store.load_label_proba(int(sets[sets["role"] == "gold"]["label_set_id"].iloc[0]))
    ids = store.load_item_ids(1)
    split = np.array([line.rsplit(",", 1)[1] for line in
                      (client.root / "data" / "articles.csv").read_text().splitlines()[1:]])  # type: ignore[attr-defined]
    scores = np.where((split == "dev") & ~np.isnan(gold).any(axis=1), -1.0, label_uncertainty(proba))
    assert item == str(ids[int(np.argmax(scores))])
    page = client.get("/review").text
    story = store.explain(item, 1)
    assert page.count('type="checkbox" name="labels"') == 4 and page.count(" checked>") == len(story["final_labels"])


def test_answer_is_stored_by_label_name_and_becomes_the_final_labels(client: TestClient) -> None:
    """Ticked labels are stored by name with the label set shown; explain's final labels come from the answer."""
    store = client.app.state.dashboard.store
    item, csrf = _shown(client)
    bad = client.post("/review/labels/answer", data={"csrf": csrf, "run": 1, "item_id": item,
                                                     "labels": ["sport", "cooking"]})
    assert bad.status_code == 400 and "labels" in bad.text
    ok = client.post("/review/labels/answer", headers={"accept": "application/json"},
                     data={"csrf": csrf, "run": 1, "item_id": item, "labels": ["health", "sport"]})
    assert ok.status_code == 200, ok.text
    answers = store.label_set_answers(1, item_id=item)
    assert answers["labels"].tolist() == [["sport", "health"]] and answers["annotator"].tolist() == ["ann"]
    sets = store.label_sets(1)
    assert answers["label_set_id"].iloc[0] == int(sets[sets["role"] == "label_model"]["label_set_id"].iloc[0])
    story = store.explain(item, 1)
    assert story["final_labels"] == ["sport", "health"] and story["final_from"] == "annotation"
    following, _ = _shown(client)
    assert following != item
    none = client.post("/review/labels/answer", data={"csrf": csrf, "run": 1, "item_id": following})
    assert none.status_code == 303 and store.explain(following, 1)["final_labels"] == []
    third, _ = _shown(client)
    skipped = client.post("/review/labels/skip", data={"csrf": csrf, "run": 1, "item_id": third})
    assert skipped.status_code == 303
    assert store.label_set_answers(1, item_id=third)["status"].tolist() == ["skipped"]
    assert store.explain(third, 1)["final_from"] == "label_model"


def test_train_takes_answered_labels_and_query_leaves_answered_items_out(client: TestClient) -> None:
    """The next run trains on the answered items' labels (counted) and its query skips every answered item."""
    store = client.app.state.dashboard.store
    item, csrf = _shown(client)
    client.post("/review/labels/answer", data={"csrf": csrf, "run": 1, "item_id": item, "labels": ["tech"]})
    result = Project(client.root).run("query")  # type: ignore[attr-defined]
    assert result.metrics["end_model"]["n_answered_used"] == 1
    assert item not in result.query
    assert store.explain(item, result.run_id)["final_labels"] == ["tech"]
