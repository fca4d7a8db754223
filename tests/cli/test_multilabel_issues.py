"""`weaklab issues` on a multi-label project: the (item, label) cells whose weak label the text contradicts."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from weaklab import MultiLabelMatrix
from weaklab.cli import main
from weaklab.pipeline.multilabel_issues import label_cell_issues


def test_issues_lists_non_dev_cells_whose_weak_label_is_the_runs(tmp_path, ticket_project, monkeypatch) -> None:
    """Each flagged cell is outside dev, its weak label is the run's P(applies) >= 0.5, and max_issues caps them."""
    root = ticket_project(tmp_path / "tickets", n_items=160)
    toml = root / "weaklab.toml"
    toml.write_text(toml.read_text() + "[issues]\nmax_issues = 7\n")
    monkeypatch.chdir(root)
    runner = CliRunner()
    out = runner.invoke(main, ["issues", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    found = data["issues"]
    assert 0 < len(found) <= 7 and data["metrics"]["n_label_issues"] == len(found)
    assert [r["score"] for r in found] == sorted(r["score"] for r in found)
    dev = {f"T{i:04d}" for i in range(0, 160, 4)}
    for row in found:
        assert row["item_id"] not in dev
        story = json.loads(runner.invoke(main, ["explain", row["item_id"], "--json"]).output)
        p = story["label_model"]["proba"][row["label"]]
        assert row["weak"] == ("present" if p >= 0.5 else "absent") and row["score"] < 0.5
    printed = runner.invoke(main, ["issues"]).output
    assert "label issue(s) (item, label) recorded" in printed


def test_planted_wrong_weak_labels_on_separable_items_are_found_and_rows_outside_are_not_judged() -> None:
    """On features that separate the labels, most flipped weak labels are flagged and nothing else (dev left out)."""
    rng = np.random.default_rng(1)
    n = 300
    truth = rng.integers(0, 2, (n, 2))
    X = np.c_[truth + rng.normal(0, 0.1, (n, 2))]
    weak = truth.copy()
    weak[:12, 1] = 1 - weak[:12, 1]
    L = MultiLabelMatrix(weak[:, None, :], source_names=["s"], label_names=["a", "b"])
    rows = np.arange(n) >= 6                                   # the first 6 items are held out (dev)
    found = label_cell_issues(X, weak.astype(float), L, np.arange(n), rows)
    flagged = set(zip(found["item_id"].tolist(), found["label"].tolist()))
    planted = {(i, "b") for i in range(6, 12)}
    assert len(flagged & planted) >= 4 and flagged <= planted  # most planted flips; nothing else, no dev item


def test_the_report_shows_source_health_per_label_and_the_label_issues(tmp_path, ticket_project, monkeypatch) -> None:
    """`weaklab report` of a multilabel run after issues has the per-label health table (the bad rule's row with its
    estimated accuracy), the flagged cells and the below-chance alert."""
    root = ticket_project(tmp_path / "tickets", n_items=160)
    monkeypatch.chdir(root)
    runner = CliRunner()
    data = json.loads(runner.invoke(main, ["issues", "--json"]).output)
    out = runner.invoke(main, ["report", "-o", "report.html"])
    assert out.exit_code == 0, out.output
    html = (root / "report.html").read_text()
    assert "Health per source and label" in html and "below_chance" in html
    bad = next(r for r in data["metrics"]["label_sources"] if r["source"] == "thanks_means_urgent")
    health = html.split("Health per source and label")[1].split("</table>")[0]
    assert "thanks_means_urgent" in health and f"{bad['est_accuracy']:.3f}" in health
    issues = html.split('id="issues"')[1].split("</table>")[0]
    assert issues.count("<tr>") - 1 == min(20, len(data["issues"]))
