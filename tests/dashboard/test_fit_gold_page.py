"""The label-model page and the report say which gold of the data file fed the fit ([data].fit_gold), or that some
was unused."""

from __future__ import annotations

import html

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the [web] extra (fastapi)")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project, init_project
from weaklab.report import render_report


def test_label_model_page_and_report_say_what_gold_outside_dev_fed_the_fit(tmp_path):
    """Before fit_gold the page counts the unused gold and names the key; after, it and the report say how many rows
    fed the fit."""
    init_project(tmp_path, n_items=200)
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    project = Project(tmp_path)
    project.run("fit")
    client = TestClient(create_app(project.store_path), base_url="http://127.0.0.1")
    unused = client.get("/label-model?run=1").text
    assert "gold labels outside the dev split are not used by the fit" in unused and "fit_gold" in unused
    config.write_text(config.read_text().replace("# fit_gold = 50 ", "fit_gold = 20 "))
    project = Project(tmp_path)
    run = project.run("fit")
    page = TestClient(create_app(project.store_path), base_url="http://127.0.0.1").get(f"/label-model?run={run.run_id}")
    assert page.status_code == 200
    assert "label model fitted on 20 of the" in page.text and "not used by the fit" not in page.text
    with project.open_store(read_only=True) as store:
        assert "label model fitted on 20 of the" in render_report(store, run.run_id)


def test_the_label_model_page_shows_autolabelmodels_gold_decision_once(tmp_path):
    """With AutoLabelModel and fit_gold, the decision made with the gold is on the page once (in "Why"), not
    repeated under it."""
    init_project(tmp_path, n_items=200)
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text().replace("# fit_gold = 50 ", "fit_gold = 40 "))
    project = Project(tmp_path)
    run = project.run("fit")
    decision = run.metrics["label_model"]["gold_decision"]
    page = TestClient(create_app(project.store_path), base_url="http://127.0.0.1").get(f"/label-model?run={run.run_id}")
    assert "label model fitted on 40 of the" in page.text
    assert html.unescape(page.text).count(decision) == 1
