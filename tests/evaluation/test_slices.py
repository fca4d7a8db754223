"""Slicing functions and slice reports: exact counts, interval coverage of the value, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.evaluation import (
    SlicingFunction,
    accuracy,
    f1_score,
    slice_report,
    slicing_function,
    wilson_interval,
)


@slicing_function
def short(x):
    return len(x.text) < 10


@slicing_function(vectorized=True)
def has_link(df):
    return df["text"].str.contains("http").to_numpy()


def _data(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    words = np.array(["hi", "check http://x.io now", "subscribe to my channel please", "ok http"])
    df = pd.DataFrame({"text": words[rng.integers(0, 4, n)]})
    y = rng.integers(0, 2, n)
    proba = rng.dirichlet(np.ones(2), n)
    return df, y, proba


def test_decorators_make_slicing_functions():
    """Both decorator forms give SlicingFunctions whose single-row call agrees with the mask."""
    df, _, _ = _data(20)
    assert isinstance(short, SlicingFunction) and short.name == "short"
    assert has_link.vectorized
    mask = short.mask(df)
    assert [short({"text": t}) for t in df["text"]] == mask.tolist()
    assert [has_link({"text": t}) for t in df["text"]] == has_link.mask(df).tolist()
    assert short.fingerprint != has_link.fingerprint


def test_slice_counts_and_metrics_are_exact():
    """Slice sizes equal the mask counts and each slice's metric equals the metric on its rows."""
    df, y, proba = _data()
    report = slice_report(y, proba, df, [short, has_link], metrics=["accuracy", "macro_f1", "ece"])
    assert list(report["slice"]) == ["overall", "short", "has_link"]
    pred = proba.argmax(axis=1)
    for name, mask in [("overall", np.ones(len(y), bool)), ("short", short.mask(df)),
                       ("has_link", has_link.mask(df))]:
        row = report.set_index("slice").loc[name]
        assert row["n"] == mask.sum()
        assert row["share"] == pytest.approx(mask.mean())
        assert row["accuracy"] == pytest.approx(accuracy(y[mask], pred[mask], n_classes=2))
        assert row["macro_f1"] == pytest.approx(f1_score(y[mask], pred[mask], n_classes=2))
        assert row["accuracy_lower"] <= row["accuracy"] <= row["accuracy_upper"]


def test_wilson_interval_matches_the_closed_form():
    """The Wilson interval of 8/10 at 95 % equals the textbook values (0.4902, 0.9433)."""
    lo, hi = wilson_interval(8, 10)
    assert float(lo) == pytest.approx(0.4902, abs=1e-4)
    assert float(hi) == pytest.approx(0.9433, abs=1e-4)


def test_bootstrap_intervals_are_deterministic_and_bracket_the_value():
    """Bootstrap bounds bracket the value and repeat exactly under the same random_state."""
    df, y, proba = _data()
    kwargs = dict(metrics=["macro_f1", "brier"], n_bootstrap=200, random_state=0)
    a = slice_report(y, proba, df, [short], **kwargs)
    b = slice_report(y, proba, df, [short], **kwargs)
    pd.testing.assert_frame_equal(a, b)
    assert np.all(a["macro_f1_lower"] <= a["macro_f1"]) and np.all(a["macro_f1"] <= a["macro_f1_upper"])
    assert np.all(a["brier_lower"] < a["brier_upper"])


def test_masks_hard_predictions_and_empty_slices():
    """Masks work without data, hard predictions with abstentions are accepted, empty slices give NaN."""
    y = np.array([0, 1, 1, 0])
    pred = np.array([0, 1, -1, 1])
    report = slice_report(y, pred, None, {"first": np.array([1, 1, 0, 0], bool), "none": np.zeros(4, bool)},
                          metrics=["accuracy", "coverage"])
    row = report.set_index("slice")
    assert row.loc["overall", "accuracy"] == 0.5 and row.loc["overall", "coverage"] == 0.75
    assert row.loc["first", "accuracy"] == 1.0
    assert row.loc["none", "n"] == 0 and np.isnan(row.loc["none", "accuracy"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(metrics=["ece"], proba_or_pred=np.array([0, 1, 1, 0])), "proba_or_pred: expected proba"),
        (dict(metrics=["auc"]), "metrics: expected names"),
        (dict(slices={"bad": np.array([1, 0])}), "slices\\['bad'\\]: expected a SlicingFunction"),
        (dict(slices={"overall": np.ones(4, bool)}), "slices: expected unique"),
        (dict(data=None), "data: expected a pandas DataFrame"),
        (dict(confidence_level=1.0), "confidence_level"),
    ],
)
def test_bad_inputs_raise_validation_errors(kwargs, message):
    """Unknown metrics, bad masks, reserved names, missing data and bad levels raise ValidationError."""
    df = pd.DataFrame({"text": ["a", "bb http", "c", "d"]})
    base = dict(y_true=np.array([0, 1, 1, 0]), proba_or_pred=np.full((4, 2), 0.5), data=df,
                slices=[short], metrics=["accuracy"])
    base.update(kwargs)
    with pytest.raises(ValidationError, match=message):
        slice_report(**base)


def test_slicing_function_checks_its_output_and_fields():
    """A vectorized slice returning the wrong shape, or reading a missing column, raises ValidationError."""
    bad = SlicingFunction("bad", lambda df: np.ones(2, bool), vectorized=True)
    with pytest.raises(ValidationError, match="slice 'bad'"):
        bad.mask(pd.DataFrame({"text": ["a", "b", "c"]}))
    needs = SlicingFunction("needs", lambda x: True, fields=["author"])
    with pytest.raises(ValidationError, match="author"):
        needs.mask(pd.DataFrame({"text": ["a"]}))
