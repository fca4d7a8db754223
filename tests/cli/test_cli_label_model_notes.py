"""A run keeps what its label model chose, why, and the warnings its fit raised; the CLI prints them as plain lines
(not as Python's file-and-line warnings), a run that reuses the fit still shows them, and the dashboard's
label-model page and the report show them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.models import AutoLabelModel
from weaklab.pipeline import Project
from weaklab.report import render_report

NOT_CONVERGED = "DawidSkene did not converge in max_iter=1 iterations"


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture()
def project(spam_project):
    return spam_project


def _stopped_early(root):
    """A label model whose fit warns for sure: Dawid-Skene stopped after one EM iteration."""
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "DawidSkene"\n'
                      'params = { max_iter = 1, random_state = 0 }\n')


def test_fit_prints_the_label_models_warning_as_a_line_and_keeps_it_with_the_run(project):
    """The warning is one 'warning: ...' line (no file path or warning class), recorded in the run's metrics, and
    shown again when the next run reuses the recorded fit."""
    _stopped_early(project)
    first = _invoke("fit")
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if NOT_CONVERGED in line]
    assert len(lines) == 1 and lines[0].startswith("warning: "), first.output
    assert "ConvergenceWarning" not in first.output and ".py:" not in first.output
    again = _invoke("fit", "--json")
    assert again.exit_code == 0, again.output
    result = json.loads(again.stdout)
    assert result["reused"]["fit"] is True
    assert any(NOT_CONVERGED in text for text in result["metrics"]["label_model"]["warnings"])
    assert result["metrics"]["label_model"]["choice"] == "DawidSkene"


def test_default_label_model_says_what_it_chose_and_why(project):
    """With the default AutoLabelModel the run names the model it labels with and keeps its whole reason, the same
    text the fitted model gives."""
    fit = _invoke("fit", "--json")
    assert fit.exit_code == 0, fit.output
    run = json.loads(fit.stdout)
    label_model = run["metrics"]["label_model"]
    project_ = Project(project)
    with project_.open_store(read_only=True) as store:
        model = AutoLabelModel.from_state(store.load_label_model_state(run["metrics"]["label_model_run_id"]))
    assert label_model["reason"] == model.reason_
    named = [name for name, _ in model.members_] or [model.selected_]
    assert all(name in label_model["choice"] for name in named)
    text = _invoke("fit").output
    assert "AutoLabelModel chose" in text or label_model["choice"] == "AutoLabelModel"


def test_dashboard_and_report_show_the_choice_and_the_warnings(project):
    """The label-model page shows the warning under 'Warning:' and keeps it out of the metrics table; so does the
    report."""
    pytest.importorskip("fastapi", reason="the dashboard needs the [web] extra (fastapi)")
    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app

    _stopped_early(project)
    run = Project(project).run("fit")
    store_path = Project(project).store_path
    page = TestClient(create_app(store_path), base_url="http://127.0.0.1").get(f"/label-model?run={run.run_id}")
    assert page.status_code == 200
    body = page.text
    assert "Warning:" in body and NOT_CONVERGED in body
    table = body.split('id="lm-metrics"', 1)[1].split("</table>", 1)[0]
    assert NOT_CONVERGED not in table
    with Project(project).open_store(read_only=True) as store:
        report = render_report(store, run.run_id)
    assert f'<p class="warning">warning: {NOT_CONVERGED}' in report


def test_label_model_lines_show_the_choice_then_each_kept_warning_as_markup_escaped_lines():
    """The CLI's lines are the choice, then one yellow 'warning:' line per kept warning text in order (rich markup in
    a text escaped, a text itself starting with 'warning: ' kept whole), then the hint when no gold reached the fit."""
    from weaklab.cli.render import label_model_lines

    metrics = {"class": "AutoLabelModel", "choice": "DawidSkene", "warnings": ["weights [bold] close", "warning: x"]}
    assert label_model_lines({**metrics, "n_gold_for_fit": 3}) == [
        "  AutoLabelModel chose DawidSkene", "[yellow]warning[/]: weights \\[bold] close",
        "[yellow]warning[/]: warning: x"]
    assert label_model_lines(metrics)[-1].startswith("  no gold reached this fit")
    assert label_model_lines({"class": "MajorityVote", "choice": "MajorityVote", "warnings": []}) == []
