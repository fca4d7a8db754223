"""Source health of a multi-label run per label: the single-label statistics and alert rules, label by label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import MultiLabelMatrix
from weaklab.models import MultiLabelDawidSkene
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel_sources import label_model_source_stats, label_source_alerts, label_source_stats


def _rows(result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["label_sources"])


def test_a_rule_wrong_on_most_of_its_votes_fires_below_chance_on_its_label(tmp_path, ticket_project) -> None:
    """fit records one row per (source, label) and an error alert naming the bad rule and its label only."""
    result = Project(ticket_project(tmp_path)).run("fit")
    rows = _rows(result)
    assert set(zip(rows["source"], rows["label"])) >= {("has_urgent", "urgent"), ("thanks_means_urgent", "urgent"),
                                                        ("kw_money", "billing")}
    assert not ((rows["source"] == "kw_money") & (rows["label"] != "billing")).any()  # only labels it voted on
    bad = rows[rows["source"] == "thanks_means_urgent"].iloc[0]
    assert bad["emp_accuracy"] < 0.5 and bad["est_accuracy"] < 0.5
    errors = [a for a in result.alerts if a.kind == "below_chance"]
    assert [a.source for a in errors] == ["thanks_means_urgent"]
    assert "on label 'urgent'" in errors[0].message and "50.0%" in errors[0].message
    with Project(tmp_path).open_store() as store:
        stored = store.alerts(result.run_id)
    assert list(stored["source"]) == ["thanks_means_urgent"]


def test_a_rule_that_stops_firing_alerts_a_coverage_change_on_its_label(tmp_path, ticket_project) -> None:
    """Drift is measured per (source, label) against the previous run: a keyword rule that no longer matches alerts."""
    root = ticket_project(tmp_path)
    first = Project(root).run("fit")
    before = _rows(first).set_index(["source", "label"]).loc[("kw_money", "billing"), "coverage"]
    assert before > 0.1
    rules = (root / "rules.py").read_text()
    (root / "rules.py").write_text(rules.replace('["refund", "payment"], "billing"', '["no-such-word"], "billing"'))
    result = Project(root).run("fit")
    drift = [a for a in result.alerts if a.kind == "coverage_change"]
    assert [a.source for a in drift] == ["kw_money"], [a.message for a in result.alerts]
    assert drift[0].message.startswith(f"kw_money on label 'billing': coverage fell from {before:.1%} to 0.0%")


def test_statistics_per_label_equal_the_single_label_summary_of_that_labels_votes() -> None:
    """Coverage, conflicts and dev accuracy of a (source, label) are lf_summary's on the label's binary votes."""
    from weaklab.labeling import lf_summary

    rng = np.random.default_rng(0)
    votes = rng.choice([-1, 0, 1], size=(50, 3, 2), p=[0.5, 0.25, 0.25])
    L = MultiLabelMatrix(votes, source_names=["a", "b", "c"], label_names=["x", "y"])
    gold = rng.integers(0, 2, size=(50, 2)).astype(float)
    dev = np.arange(50) < 20
    table = label_source_stats(L, gold, dev).set_index(["source", "label"])
    single = lf_summary(L.for_label("y"), np.where(dev, gold[:, 1], -1).astype(int))
    for source in ("a", "b", "c"):
        row = table.loc[(source, "y")]
        assert row["coverage"] == pytest.approx(single.loc[source, "coverage"])
        assert row["conflicts"] == pytest.approx(single.loc[source, "conflicts"])
        assert row["emp_accuracy"] == pytest.approx(single.loc[source, "emp_acc"])


def test_a_model_without_per_label_models_gives_posterior_accuracies_and_no_decides() -> None:
    """With MultiLabelDawidSkene the estimate is the mean P(vote right); a source voting against it scores low."""
    truth = np.array([1, 0] * 30)
    good = np.where(truth == 1, 1, 0)
    votes = np.stack([good, good, 1 - good], axis=1)[:, :, None]  # two agreeing sources, one always opposite
    L = MultiLabelMatrix(votes, source_names=["g1", "g2", "flip"], label_names=["t"])
    model = MultiLabelDawidSkene().fit(L)
    table = label_model_source_stats(model, L, model.predict_proba(L)).set_index("source")
    assert table.loc["flip", "est_accuracy"] < 0.5 < table.loc["g1", "est_accuracy"]
    assert table["decides"].isna().all()


def test_alerts_need_source_and_label_columns() -> None:
    """The per-label rules read a table of (source, label) rows; each alert is named by its label."""
    now = pd.DataFrame({"source": ["s", "s"], "label": ["a", "b"], "coverage": [0.5, 0.2]})
    before = pd.DataFrame({"source": ["s", "s"], "label": ["a", "b"], "coverage": [0.5, 0.5]})
    alerts = label_source_alerts(now, before)
    assert [(a.kind, a.source) for a in alerts] == [("coverage_change", "s")]
    assert alerts[0].message.startswith("s on label 'b': coverage fell from 50.0% to 20.0%")
