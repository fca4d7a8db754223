"""Alerts on source statistics between runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import AlertThresholds, detect_alerts


def _stats(**columns):
    return pd.DataFrame(columns, index=pd.Index(["a", "b", "c"], name="source"))


def test_no_alerts_for_stable_healthy_sources():
    """Identical, accurate, balanced sources raise nothing."""
    now = _stats(coverage=[0.3, 0.3, 0.3], conflicts=[0.05] * 3, est_accuracy=[0.8] * 3, decides=[0.1] * 3,
                 weight_share=[1 / 3] * 3)
    assert detect_alerts(now, now.copy(), n_classes=2) == []


def test_each_kind_fires_on_its_own_source():
    """Coverage and accuracy shifts, conflict rise, dominance and below-chance accuracy each fire once."""
    before = _stats(coverage=[0.3, 0.3, 0.3], conflicts=[0.05] * 3, est_accuracy=[0.8, 0.8, 0.8])
    now = _stats(coverage=[0.1, 0.3, 0.3], conflicts=[0.05, 0.2, 0.05], est_accuracy=[0.8, 0.8, 0.3],
                 decides=[0.0, 0.0, 0.7])
    kinds = {(a.source, a.kind) for a in detect_alerts(now, before, n_classes=2)}
    assert kinds == {("a", "coverage_change"), ("b", "conflict_rise"), ("c", "accuracy_change"),
                     ("c", "dominates"), ("c", "below_chance")}


def test_thresholds_and_chance_follow_parameters():
    """Raising a threshold silences its alert; chance is 1/k."""
    before = _stats(coverage=[0.3] * 3)
    now = _stats(coverage=[0.45, 0.3, 0.3], est_accuracy=[0.4] * 3)
    assert [a.kind for a in detect_alerts(now, before, n_classes=3)] == ["coverage_change"]
    loose = AlertThresholds(coverage_change=0.2)
    assert detect_alerts(now, before, n_classes=3, thresholds=loose) == []
    assert {a.kind for a in detect_alerts(now, None, n_classes=2)} == {"below_chance"}


def test_new_sources_and_nan_statistics_are_ignored_for_changes():
    """A source absent from the previous run, or with NaN statistics, raises no change alert."""
    before = pd.DataFrame({"coverage": [0.3]}, index=["a"])
    now = _stats(coverage=[0.3, 0.9, np.nan], est_accuracy=[np.nan] * 3)
    assert detect_alerts(now, before, n_classes=2) == []


def test_bad_input_is_rejected():
    """Non-frames and thresholds outside [0, 1] raise ValidationError."""
    with pytest.raises(ValidationError, match="current"):
        detect_alerts({"a": 1}, n_classes=2)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="dominance"):
        AlertThresholds(dominance=1.5)


def test_below_chance_does_not_fire_when_dev_gold_puts_the_source_above_chance():
    """An estimate of 0 % from the few items a lone-class source shares with others (all conflicts) is
    contradicted by 24 of 24 right votes on dev gold: no alert telling the user to drop a perfect source."""
    frame = pd.DataFrame({"est_accuracy": [0.0, 0.0, 0.0], "correct": [24, 1, np.nan],
                          "incorrect": [0, 3, np.nan]}, index=["measured_right", "measured_wrong", "unmeasured"])
    fired = {a.source for a in detect_alerts(frame, n_classes=3) if a.kind == "below_chance"}
    assert fired == {"measured_wrong", "unmeasured"}


def test_below_chance_still_fires_when_too_few_gold_votes_say_otherwise():
    """Two right votes do not settle it (95 % Wilson lower bound 0.34 < chance 0.5)."""
    frame = pd.DataFrame({"est_accuracy": [0.2], "correct": [2], "incorrect": [0]}, index=["few"])
    assert [a.kind for a in detect_alerts(frame, n_classes=2)] == ["below_chance"]


def test_below_chance_needs_the_sources_own_votes_to_show_it():
    """An estimate of 20 % (chance 50 %) on 200 votes is an error; on 3 votes it could be chance (95 % Wilson upper
    bound 0.63): no error for that source, one run-wide warning naming it with its votes instead."""
    frame = pd.DataFrame({"est_accuracy": [0.2, 0.2, 0.9], "n_votes": [200, 3, 50]},
                         index=["many_votes", "three_votes", "good"])
    alerts = detect_alerts(frame, n_classes=2)
    assert [(a.source, a.kind, a.severity) for a in alerts] == [
        (None, "below_chance_few_votes", "warning"), ("many_votes", "below_chance", "error")]
    assert "three_votes (20% on 3 votes)" in alerts[0].message and "many_votes" not in alerts[0].message


def test_many_crowd_workers_below_chance_on_a_handful_of_votes_make_one_warning():
    """A thousand workers with 1-3 votes each, 40 of them estimated below chance: one warning counting the 40 and
    naming the five lowest estimates (not 40 errors); a worker with 0 votes never counts."""
    rng = np.random.default_rng(0)
    accuracy = np.r_[rng.uniform(0.0, 0.3, 40), rng.uniform(0.6, 1.0, 960)]
    votes = rng.integers(1, 4, 1000)
    votes[0] = 0
    frame = pd.DataFrame({"est_accuracy": accuracy, "n_votes": votes}, index=[f"w{i}" for i in range(1000)])
    alerts = detect_alerts(frame, n_classes=2)
    assert [a.kind for a in alerts] == ["below_chance_few_votes"]
    assert alerts[0].value == 39 and "and 34 more" in alerts[0].message
    lowest = frame.iloc[1:40].sort_values("est_accuracy").index[:5]
    assert all(name in alerts[0].message for name in lowest)


def test_a_class_no_source_votes_is_named_by_a_run_wide_warning(tmp_path, msgs_project_writer):
    """A project whose sources never vote one class says so when it runs (the label model cannot give it)."""
    from weaklab.pipeline import Project

    only_junk = ('from weaklab import keyword_lf, regex_lf\n'
                 'lfs = [keyword_lf(["subscribe", "check out"], 1, name="kw_junk"), '
                 'regex_lf(r"https?://", "junk", name="re_link")]\n')
    msgs_project_writer(tmp_path, 60, 5, lfs=only_junk)
    result = Project(tmp_path).run("fit")
    unvoted = [a for a in result.alerts if a.kind == "class_unvoted"]
    assert len(unvoted) == 1 and unvoted[0].source is None and unvoted[0].severity == "warning"
    assert "'fine'" in unvoted[0].message and "'junk'" not in unvoted[0].message


def test_no_class_warning_when_every_class_has_a_vote(tmp_path, msgs_project_writer):
    from weaklab.pipeline import Project

    msgs_project_writer(tmp_path, 60, 5)
    assert not [a for a in Project(tmp_path).run("fit").alerts if a.kind == "class_unvoted"]
