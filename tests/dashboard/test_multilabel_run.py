"""The dashboard over a multi-label run: the runs page lists it, the item and label-model pages show it."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.demo.multilabel import init_multilabel_project
from weaklab.pipeline import Project


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ml_dashboard") / "topics"
    init_multilabel_project(root, n_items=80)
    Project(root).run("fit")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", annotator_default="ann"),
                    follow_redirects=False, base_url="http://127.0.0.1") as c:
        yield c


def test_runs_page_lists_the_multilabel_run(client: TestClient) -> None:
    """/runs answers 200 and names the run's label model."""
    page = client.get("/runs")
    assert page.status_code == 200 and "OneVsRestLabelModel" in page.text


def test_item_page_shows_each_labels_votes_probability_and_gold(client: TestClient) -> None:
    """/items/<id> of a multilabel run lists every label with its voters and P(applies), as explain tells them."""
    store = client.app.state.dashboard.store
    story = store.explain("a00003", 1)
    page = client.get("/items/a00003")
    assert page.status_code == 200, page.text[-300:]
    assert 'id="label-grid"' in page.text and page.text.count("<tr><td>") == 4
    for name, p in story["label_model"]["proba"].items():
        assert f"<td>{name}</td>" in page.text and f"{p:.3f}" in page.text
    data = client.get("/api/items/a00003").json()
    assert [r["label"] for r in data["rows"]] == ["sport", "politics", "tech", "health"]
    assert [r["label"] for r in data["rows"] if r["final"]] == story["final_labels"]


def test_label_model_page_shows_dev_f1_per_label_and_source_rates(client: TestClient) -> None:
    """/label-model of a multilabel run shows micro F1 of the label model and majority vote, each label, each source."""
    run = client.app.state.dashboard.store.run(1)
    lm = run["metrics"]["label_model"]
    page = client.get("/label-model")
    assert page.status_code == 200, page.text[-300:]
    assert f"{lm['dev']['micro_f1']:.3f}" in page.text and f"{lm['majority_vote']['micro_f1']:.3f}" in page.text
    assert 'id="per-label"' in page.text and page.text.count("words_") >= 4 and "learned sensitivity" in page.text
