"""The CLI on a multi-label project of one's own: fit prints each source's health per label and its alerts."""

from __future__ import annotations

import json

from click.testing import CliRunner

from weaklab.cli import main


def test_fit_prints_sources_per_label_and_the_alert_and_alerts_lists_it(tmp_path, ticket_project, monkeypatch) -> None:
    """`weaklab fit` shows the per-label source table and the below-chance line; `alerts --json` has the alert."""
    root = ticket_project(tmp_path / "tickets")
    monkeypatch.chdir(root)
    runner = CliRunner()
    out = runner.invoke(main, ["fit"])
    assert out.exit_code == 0, out.output
    assert "Sources per label" in out.output
    assert "alert below_chance: thanks_means_urgent on label 'urgent'" in " ".join(out.output.split())
    listed = json.loads(runner.invoke(main, ["alerts", "--json"]).output)
    assert [(a["kind"], a["source"]) for a in listed] == [("below_chance", "thanks_means_urgent")]
    as_json = json.loads(runner.invoke(main, ["analyze", "--json"]).output)
    rows = as_json["metrics"]["label_sources"]
    assert {r["label"] for r in rows} == {"billing", "bug", "feature", "urgent"}
    assert all(r.get("est_accuracy") is None for r in rows)  # analyze fits no label model: no estimate
