"""[data].fit_gold in a multi-label project: gold label sets outside the dev split feed the label model's fit."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel_review import label_review_queue


def _fit_gold(root, value: str) -> None:
    toml = root / "weaklab.toml"
    toml.write_text(toml.read_text().replace('dev_value = "check"', f'dev_value = "check"\nfit_gold = {value}'))


def test_fit_gold_feeds_a_random_sample_of_gold_label_sets_to_the_fit(tmp_path, ticket_project, monkeypatch) -> None:
    """fit_gold = 40: the fit gets 40 gold label sets outside dev (said and recorded), the dev split stays held out,
    the queue and query leave them out, and the dev scores do not fall below the fit without gold."""
    plain = Project(ticket_project(tmp_path / "plain", n_items=300)).run("fit").metrics["label_model"]
    root = ticket_project(tmp_path / "gold", n_items=300)
    _fit_gold(root, "40")
    monkeypatch.chdir(root)
    runner = CliRunner()
    out = runner.invoke(main, ["query"])
    assert out.exit_code == 0, out.output
    assert "label model fitted on 40 of the 225 gold labels outside the dev split" in " ".join(out.output.split())
    run = json.loads(runner.invoke(main, ["runs", "--json"]).output)[0]
    lm = run["metrics"]["label_model"]
    assert lm["n_gold_for_fit"] == 40 == len(set(lm["fit_gold_items"])) and lm["file_gold_sampling"] == "random"
    assert lm["dev"]["n"] == plain["dev"]["n"] == 75
    dev_ids = {f"T{i:04d}" for i in range(0, 300, 4)}
    assert not dev_ids & set(lm["fit_gold_items"])
    assert not set(run["metrics"]["query"]) & set(lm["fit_gold_items"])
    with Project(root).open_store(read_only=True) as store:
        queue = label_review_queue(store, run["run_id"])
    assert not {str(v) for v in queue.item_ids} & set(lm["fit_gold_items"])
    assert len(queue.item_ids) == 300 - 75 - 40
    assert lm["dev"]["micro_f1"] >= plain["dev"]["micro_f1"]


def test_the_dashboard_queue_does_not_offer_the_items_whose_gold_fed_the_fit(tmp_path, ticket_project) -> None:
    """With fit_gold = "all" every non-dev item holds gold the fit had: the review page has nothing to offer."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app

    root = ticket_project(tmp_path / "gold", n_items=60)
    _fit_gold(root, '"all"')
    Project(root).run("fit")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", random_share=0, annotator_default="ann"),
                    base_url="http://127.0.0.1") as c:
        page = c.get("/review")
        assert page.status_code == 200, page.text[-300:]
        assert 'name="label"' not in page.text and "T00" not in page.text.split("<main")[1]


def test_fit_gold_without_a_split_column_is_refused_naming_the_key(tmp_path, ticket_project, monkeypatch) -> None:
    """Without [data].split_column every gold row is dev: fit_gold = "all" stops with the key and why."""
    root = ticket_project(tmp_path / "t", n_items=40)
    toml = root / "weaklab.toml"
    toml.write_text(toml.read_text().replace('split_column = "part"\ndev_value = "check"\n', 'fit_gold = "all"\n'))
    monkeypatch.chdir(root)
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 1 and "data.fit_gold" in out.output and "split column" in out.output
