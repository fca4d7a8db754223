"""Answers given in the dashboard's review queue keep their class when the project's classes are reordered."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project
from weaklab.store import Store


def test_a_review_answer_keeps_its_class_after_the_classes_are_reordered(news_project, news_classes):
    """A 'sports' answer posted in the review queue is still 'sports' (and gold) after reordering the classes."""
    first = Project(news_project).run("fit")
    store_path = Project(news_project).store_path
    with TestClient(create_app(store_path, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        assert client.get("/review").status_code == 200
        csrf = client.cookies.get("weaklab_csrf")
        response = client.post("/review/answer", data={"csrf": csrf, "run": str(first.run_id), "item_id": "s004",
                                                       "label": "1"})  # 1 = sports under politics, sports, tech
        assert response.status_code == 303
    news_classes(news_project, ["sports", "tech", "politics"])
    run = Project(news_project).run("fit")
    with Store(store_path, read_only=True) as store:
        story = store.explain("s004", run.run_id)
        answers = store.annotations(run.dataset_id)
    assert (story["final_class"], story["final_from"]) == ("sports", "annotation")
    assert answers["class_name"].tolist() == ["sports"]


def test_disagreements_are_flagged_and_adjudicated_in_the_dashboard(news_project):
    """A 1-1 disagreement is listed on the review page and the item page; an adjudication settles it."""
    first = Project(news_project).run("fit")
    store_path = Project(news_project).store_path
    with Store(store_path) as store:
        store.add_annotations(first.dataset_id, ["s004", "s004"], ["ana", "bo"], ["sports", "tech"])
    with TestClient(create_app(store_path, annotator_default="chief"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        review = client.get("/review").text
        assert 'id="disagreements"' in review and "s004" in review
        item = client.get(f"/items/s004?run={first.run_id}").text
        assert 'id="adjudicate-form"' in item and "tie" in item
        csrf = client.cookies.get("weaklab_csrf")
        response = client.post("/adjudicate", data={"csrf": csrf, "run": str(first.run_id), "item_id": "s004",
                                                     "label": "1"})
        assert response.status_code == 303
        assert "s004" not in client.get("/review").text.split('id="disagreements"')[-1]
    with Store(store_path, read_only=True) as store:
        settled = store.human_labels(first.dataset_id).set_index("item_id")
        answers = store.annotations(first.dataset_id, item_id="s004")
    assert settled.loc["s004", "status"] == "adjudicated" and settled.loc["s004", "class_name"] == "sports"
    assert answers["origin"].tolist()[-1] == "adjudication" and answers["annotator"].tolist()[-1] == "chief"
