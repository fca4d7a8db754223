"""The CLI on a multi-label project: init, train, runs, explain and export work; other commands refuse in one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("mlcli") / "topics"
    runner = CliRunner()
    out = runner.invoke(main, ["init", "--example", "multilabel", "--items", "160", str(folder)])
    assert out.exit_code == 0, out.output
    trained = runner.invoke(main, ["train", "--project", str(folder)])
    assert trained.exit_code == 0, trained.output
    return runner, str(folder), trained.output


def _in(project, args: list[str], monkeypatch: pytest.MonkeyPatch):
    runner, folder, _ = project
    monkeypatch.chdir(folder)
    return runner.invoke(main, args)


def test_train_then_runs_shows_the_multilabel_headline(project, monkeypatch) -> None:
    """`weaklab train` prints micro/macro F1 of the label model and majority vote; runs --json keeps the metrics."""
    printed = project[2]
    assert "micro F1" in printed and "one-vs-rest majority vote" in printed and "Per label" in printed
    runs = json.loads(_in(project, ["runs", "--json"], monkeypatch).output)
    metrics = runs[0]["metrics"]
    assert metrics["task"] == "multilabel" and 0 <= metrics["label_model"]["dev"]["micro_f1"] <= 1
    table = _in(project, ["runs"], monkeypatch).output
    assert "label model micro F1" in table


def test_explain_and_export_give_each_items_labels(project, monkeypatch) -> None:
    """explain --json tells the item's votes and probabilities; export writes labels and p_<label> per item."""
    story = json.loads(_in(project, ["explain", "a00002", "--json"], monkeypatch).output)
    assert story["kind"] == "multilabel" and set(story["label_model"]["proba"]) == {"sport", "politics", "tech",
                                                                                     "health"}
    shown = _in(project, ["explain", "a00002"], monkeypatch)
    assert shown.exit_code == 0 and "final labels" in shown.output
    out = _in(project, ["export", "labels.csv"], monkeypatch)
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(f"{project[1]}/labels.csv", keep_default_na=False)
    assert list(frame.columns[:3]) == ["article_id", "text", "labels"]
    assert {"p_sport", "end_p_health"} <= set(frame.columns) and len(frame) == 160
    row = frame[frame["article_id"] == "a00002"].iloc[0]
    final = story["final_labels"]
    assert row["labels"] == ("|".join(final) if final else "-")
    assert row["p_tech"] == pytest.approx(story["label_model"]["proba"]["tech"], abs=1e-6)


@pytest.mark.parametrize("args", [["suggest"]])
def test_unsupported_commands_refuse_in_one_line(project, monkeypatch, args) -> None:
    """Each command that does not handle multilabel runs yet exits 1 with one line saying so (no traceback)."""
    out = _in(project, args, monkeypatch)
    assert out.exit_code == 1, out.output
    assert "not supported for multilabel" in out.output and "Traceback" not in out.output
    assert len([line for line in out.output.splitlines() if line.startswith("Error")]) == 1
