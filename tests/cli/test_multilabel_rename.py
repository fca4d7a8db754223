"""[labels.rename] in a multi-label project: answers, gold and LFs given under the old name keep their meaning."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main


def _toml_with(root, classes: str, rename: str = "") -> None:
    toml = root / "weaklab.toml"
    text = toml.read_text().replace('classes = ["billing", "bug", "feature", "urgent"]', classes)
    toml.write_text(text.replace("[data]", f"{rename}[data]", 1) if rename else text)


def test_a_renamed_label_keeps_answers_gold_and_rules_given_under_its_old_name(tmp_path, ticket_project,
                                                                              monkeypatch) -> None:
    """After billing -> payments (and a reorder) the answered item's labels read 'payments', the gold and the
    rules still count, and the end model trains on the answer."""
    root = ticket_project(tmp_path / "tickets", n_items=120)
    monkeypatch.chdir(root)
    runner = CliRunner()
    assert runner.invoke(main, ["fit"]).exit_code == 0
    answered = runner.invoke(main, ["annotate", "adjudicate", "T0001", "billing|urgent", "--by", "lead"])
    assert answered.exit_code == 0, answered.output
    before = json.loads(runner.invoke(main, ["runs", "--json"]).output)[0]["metrics"]["label_model"]["dev"]
    _toml_with(root, 'classes = ["urgent", "payments", "bug", "feature"]',
               '[labels.rename]\nbilling = "payments"\n\n')
    trained = runner.invoke(main, ["train", "--json"])
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(trained.output)["metrics"]
    after = metrics["label_model"]["dev"]
    assert after["per_label"]["payments"] == before["per_label"]["billing"]  # gold and rules read the old name
    assert {r["label"] for r in metrics["label_sources"] if r["source"] == "kw_money"} == {"payments"}
    assert metrics["end_model"]["n_answered_used"] == 1
    story = json.loads(runner.invoke(main, ["explain", "T0001", "--json"]).output)
    assert set(story["final_labels"]) == {"payments", "urgent"}
    assert story["answers"][-1]["labels"] == ["payments", "urgent"]
    assert runner.invoke(main, ["export", "out.csv"]).exit_code == 0
    row = pd.read_csv(root / "out.csv").set_index("ticket_no").loc["T0001"]
    assert row["labels"] == "urgent|payments" and row["label_from"] == "annotation"
    diff = json.loads(runner.invoke(main, ["diff", "1", "2", "--json"]).output)
    per_label = {r["label"]: r for r in diff["per_label"]}
    assert set(per_label) == {"urgent", "payments", "bug", "feature"}  # billing of run 1 is payments of run 2


def test_a_rename_to_an_unknown_label_is_refused_naming_the_key(tmp_path, ticket_project, monkeypatch) -> None:
    """[labels.rename] billing = "money" (not a label) stops with the key, the labels expected and the value."""
    root = ticket_project(tmp_path / "tickets", n_items=40)
    _toml_with(root, 'classes = ["payments", "bug", "feature", "urgent"]', '[labels.rename]\nbilling = "money"\n\n')
    monkeypatch.chdir(root)
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 1 and "labels.rename.billing" in out.output and "'money'" in out.output


def test_a_label_studio_export_ticking_an_old_name_is_stored_under_the_new_one(tmp_path, ticket_project,
                                                                             monkeypatch) -> None:
    """A batch answered before billing -> payments imports after the rename as 'payments', once (no duplicate)."""
    root = ticket_project(tmp_path / "tickets", n_items=80)
    _toml_with(root, 'classes = ["payments", "bug", "feature", "urgent"]', '[labels.rename]\nbilling = "payments"\n\n')
    monkeypatch.chdir(root)
    runner = CliRunner()
    assert runner.invoke(main, ["fit"]).exit_code == 0
    (root / "export.json").write_text(json.dumps([{"item_id": "T0005", "labels": ["billing", "bug"], "annotator": 1,
                                                   "annotation_id": 11}]))
    first = runner.invoke(main, ["annotate", "import", "export.json", "--annotator", "ann"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["annotate", "import", "export.json", "--annotator", "ann"])
    assert again.exit_code == 0, again.output
    story = json.loads(runner.invoke(main, ["explain", "T0005", "--json"]).output)
    assert [a["labels"] for a in story["answers"]] == [["payments", "bug"]]
