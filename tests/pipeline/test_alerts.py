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
