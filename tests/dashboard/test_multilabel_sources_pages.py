"""The sources and model-health pages of a multi-label run: each source per label, alerts, calibration per label."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, ticket_project):
    root = ticket_project(tmp_path_factory.mktemp("ml_sources") / "tickets")
    Project(root).run("fit")
    Project(root).run("train")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", annotator_default="ann", random_share=0),
                    follow_redirects=False, base_url="http://127.0.0.1") as c:
        yield c


def _metrics(client: TestClient, run: int = 2) -> dict:
    return client.app.state.dashboard.store.run(run)["metrics"]


def test_sources_page_lists_each_source_per_label_with_the_runs_alerts(client: TestClient) -> None:
    """/sources of a multilabel run shows one row per recorded (source, label) and the below-chance alert."""
    rows = _metrics(client)["label_sources"]
    page = client.get("/sources")
    assert page.status_code == 200, page.text[-300:]
    assert 'id="label-sources-table"' in page.text
    table = page.text.split('id="label-sources-table"')[1].split("</table>")[0]
    assert table.count('<td><a href="/sources/') == len(rows)
    bad = next(r for r in rows if r["source"] == "thanks_means_urgent")
    assert f"{bad['est_accuracy']:.3f}" in page.text
    assert "thanks_means_urgent on label &#39;urgent&#39;" in page.text and "below_chance" in page.text


def test_api_sources_sorts_the_rows_of_a_multilabel_run(client: TestClient) -> None:
    """/api/sources?sort=emp_accuracy gives every (source, label) row, lowest accuracy first; a bad column is a 400."""
    data = client.get("/api/sources", params={"sort": "emp_accuracy", "dir": "asc"}).json()
    values = [r["emp_accuracy"] for r in data["rows"]]
    assert len(values) == len(_metrics(client)["label_sources"]) and values == sorted(values)
    assert data["rows"][0]["source"] == "thanks_means_urgent"
    bad = client.get("/api/sources", params={"sort": "nope"})
    assert bad.status_code == 400 and "sort: expected one of" in bad.text


def test_source_page_shows_its_labels_across_runs_and_where_it_disagrees(client: TestClient) -> None:
    """/sources/<name> of a multilabel run lists its row per label in both runs and its votes the model contradicts."""
    page = client.get("/sources/has_urgent")
    assert page.status_code == 200, page.text[-300:]
    history = page.text.split('id="history-table"')[1].split("</table>")[0]
    assert history.count("<tr><td>1</td>") == 1 and history.count("<tr><td>2</td>") == 1
    assert 'id="disagreements-table"' in page.text  # ties of its absent votes with the bad rule's present ones
    assert client.get("/sources/no_such_rule").status_code == 404


def test_health_page_shows_per_label_scores_counts_and_reliability(client: TestClient) -> None:
    """/health of a trained multilabel run: micro F1 of both models, tp/fp/fn/tn per label that add up, diagrams."""
    metrics = _metrics(client)
    page = client.get("/health")
    assert page.status_code == 200, page.text[-300:]
    assert f"{metrics['label_model']['dev']['micro_f1']:.3f}" in page.text
    assert f"{metrics['end_model']['dev']['micro_f1']:.3f}" in page.text
    counts = page.text.split('id="ml-label-counts"')[1].split("</table>")[0]
    n_dev = metrics["n_dev"]
    for row in re.findall(r"<tr><td>(\w+)</td><td>(label model|end model)</td>(.*?)</tr>", counts):
        numbers = [float(x) for x in re.findall(r'class="num">([\d.]+)<', row[2])]
        support, tp, fp, fn, tn = numbers[0], *numbers[2:6]
        assert tp + fn == support and tp + fp + fn + tn == n_dev
    assert page.text.count('class="label-reliability"') == 5  # all labels pooled, then each of the four


def test_health_page_of_a_run_without_dev_gold_says_so(tmp_path, ticket_project) -> None:
    """A multilabel project without a gold column: /health answers 200 and says nothing can be measured."""
    root = ticket_project(tmp_path / "t", n_items=60)
    toml = root / "weaklab.toml"
    toml.write_text(toml.read_text().replace('gold_column = "tags"\n', ""))
    Project(root).run("fit")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", random_share=0),
                    base_url="http://127.0.0.1") as c:
        page = c.get("/health")
        assert page.status_code == 200 and 'id="no-dev"' in page.text
        assert c.get("/sources").status_code == 200


def test_issues_page_lists_flagged_cells_with_the_sources_behind_them(tmp_path, ticket_project) -> None:
    """/issues of a multilabel run before the issues step says none are recorded; after, each flagged (item, label)
    shows its weak label and the sources that voted it."""
    root = ticket_project(tmp_path / "t", n_items=160)
    Project(root).run("train")
    issues = Project(root).run("issues")
    assert issues.issues is not None and len(issues.issues)
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", random_share=0),
                    base_url="http://127.0.0.1") as c:
        before = c.get("/issues", params={"run": 1})
        assert before.status_code == 200 and "No label issues recorded" in before.text
        page = c.get("/issues")
        assert page.status_code == 200, page.text[-300:]
        table = page.text.split('id="label-issues-table"')[1].split("</table>")[0]
        assert table.count("<tr>") - 1 == min(50, len(issues.issues))
        store = c.app.state.dashboard.store
        first = issues.issues.iloc[0]
        story = store.explain(first["item_id"], issues.run_id)
        voters = [v["source"] for v in story["votes"] if v["label"] == first["label"] and v["vote"] == first["weak"]]
        row = table.split(f">{first['item_id']}</a>")[1].split("</tr>")[0]
        assert voters and all(f"<div>{s}</div>" in row for s in voters)
