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
    with TestClient(create_app(store_path, annotator_default="ann"), follow_redirects=False) as client:
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
