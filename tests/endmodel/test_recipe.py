"""Issue 15: class-prior matching, the combined predictor, calibration per part and the default recipe."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.endmodel import (
    CombinedPredictor,
    GroupedCalibration,
    SoftLabelClassifier,
    TemperatureScaling,
    TopLabelIsotonic,
    WeakLabelRecipe,
    bootstrap_gain,
    class_prior_from_gold,
    match_class_prior,
    vote_shares,
)
from weaklab.evaluation import expected_calibration_error


def _task(n, seed, prior=0.5, scale=1.0):
    """Two Gaussian classes in 2-d; the first feature carries the class."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prior).astype(np.int64)
    X = np.c_[scale * (2.0 * y - 1.0) + rng.normal(0, 1.0, n), rng.normal(0, 1.0, n)]
    return X, y


def _votes(y, seed, coverage=0.5, acc=0.85, m=4):
    rng = np.random.default_rng(seed)
    fire = rng.random((y.size, m)) < coverage
    right = rng.random((y.size, m)) < acc
    return np.where(fire, np.where(right, y[:, None], 1 - y[:, None]), -1)


def _acc(y, p):
    return float(np.mean(np.asarray(p).argmax(axis=1) == y))


# ------------------------------------------------------------------------------- class prior
def test_match_class_prior_hits_the_prior_and_keeps_each_rows_order():
    rng = np.random.default_rng(0)
    p = rng.dirichlet([5.0, 1.0, 1.0], size=400)
    q = match_class_prior(p, [0.2, 0.5, 0.3])
    np.testing.assert_allclose(q.mean(axis=0), [0.2, 0.5, 0.3], atol=1e-6)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    # a change of prior: the ratio between two classes moves by the same factor in every row
    ratio = (q[:, 1] / q[:, 0]) / (p[:, 1] / p[:, 0])
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)


def test_match_class_prior_skips_unlabelled_rows_and_names_bad_priors():
    p = np.array([[0.9, 0.1], [np.nan, np.nan], [0.7, 0.3]])
    q = match_class_prior(p, [0.5, 0.5])
    assert np.isnan(q[1]).all() and np.allclose(q[[0, 2]].mean(axis=0), 0.5)
    with pytest.raises(ValidationError, match="prior: expected 2 positive class shares"):
        match_class_prior(p, [1.0, 0.0])
    with pytest.raises(ValidationError, match=r"SoftLabelClassifier\(class_prior=...\)"):
        SoftLabelClassifier(LogisticRegression(), class_prior=[0.2, 0.2, 0.6]).fit(np.eye(3)[:, :2], p)


def test_class_prior_from_gold_skips_unknown():
    np.testing.assert_allclose(class_prior_from_gold([0, 1, 1, -1], 2), [2 / 5, 3 / 5])


def test_class_prior_repairs_soft_labels_with_the_wrong_balance():
    """Soft labels whose balance is skewed 9:1 towards class 0 (true 1:1): training with the gold-dev prior wins."""
    X, y = _task(2000, 0)
    logit = 2.0 * X[:, 0]  # the Bayes posterior of the task, then a prior shift to 90 % class 0
    p1 = 1 / (1 + np.exp(-(logit - np.log(9.0))))
    soft = np.c_[1 - p1, p1]
    train, test = slice(0, 1500), slice(1500, None)
    dev_prior = class_prior_from_gold(y[1400:1500], 2)
    plain = SoftLabelClassifier(LogisticRegression()).fit(X[train], soft[train])
    fixed = SoftLabelClassifier(LogisticRegression(), class_prior=dev_prior).fit(X[train], soft[train])
    acc_plain, acc_fixed = _acc(y[test], plain.predict_proba(X[test])), _acc(y[test], fixed.predict_proba(X[test]))
    assert acc_fixed >= _acc(y[test], soft[test])  # never below the labels it learned from
    assert acc_fixed > acc_plain + 0.1
    assert abs(fixed.predict_proba(X[test]).argmax(axis=1).mean() - 0.5) < 0.1


# ------------------------------------------------------------------------- combined predictor
def _combined_setting(seed, lm_acc_covered):
    """End model 75 % right everywhere; label model right with prob lm_acc_covered on covered items, prior elsewhere."""
    rng = np.random.default_rng(seed)
    n = 2000
    y = rng.integers(0, 2, n)
    covered = rng.random(n) < 0.5
    end_right = rng.random(n) < 0.75
    end_pred = np.where(end_right, y, 1 - y)
    end = np.where(end_pred[:, None] == np.arange(2), 0.75, 0.25)
    lm_right = rng.random(n) < lm_acc_covered
    lm_pred = np.where(lm_right, y, 1 - y)
    lm = np.where(covered[:, None], np.where(lm_pred[:, None] == np.arange(2), 0.95, 0.05), 0.5)
    lm[~covered] = [0.55, 0.45]
    return y, end, lm, covered


def test_combined_predictor_uses_the_label_model_where_it_is_confident():
    y, end, lm, covered = _combined_setting(0, 0.97)
    valid, test = np.arange(1000), np.arange(1000, 2000)
    gold = np.where(np.isin(np.arange(2000), valid), y, -1)
    cp = CombinedPredictor().fit(end, lm, covered, gold)
    assert cp.choice_ == "combined" and cp.fell_back_
    assert "fell back to the combination" in cp.reason_
    out = cp.predict_proba(end[test], lm[test], covered[test])
    acc = _acc(y[test], out)
    assert acc > max(_acc(y[test], end[test]), _acc(y[test], lm[test])) + 0.05
    assert set(cp.answered_by(lm[test], covered[test])) == {"label_model", "end_model"}


def test_combined_predictor_keeps_the_end_model_when_the_label_model_is_no_better():
    y, end, lm, covered = _combined_setting(1, 0.70)
    gold = np.where(np.arange(2000) < 1000, y, -1)
    cp = CombinedPredictor().fit(end, lm, covered, gold)
    assert cp.choice_ == "end_model" and not cp.fell_back_
    assert "kept the end model" in cp.reason_


def test_combined_predictor_falls_back_to_the_label_model_and_says_so():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2000)
    covered = np.ones(2000, dtype=bool)
    lm_pred = np.where(rng.random(2000) < 0.97, y, 1 - y)
    lm = np.where(lm_pred[:, None] == np.arange(2), 0.95, 0.05)
    end = np.tile([0.51, 0.49], (2000, 1))  # an end model that learned nothing
    cp = CombinedPredictor().fit(end, lm, covered, np.where(np.arange(2000) < 500, y, -1))
    assert cp.choice_ in ("label_model", "combined") and cp.fell_back_
    assert "fell back" in cp.reason_
    assert _acc(y[500:], cp.predict_proba(end[500:], lm[500:], covered[500:])) > 0.9


def test_bootstrap_gain_is_zero_for_equal_predictions():
    y = np.array([0, 1, 1, 0])
    assert bootstrap_gain(y, y, y, 2, "accuracy") == (0.0, 0.0)


# -------------------------------------------------------------------------------- calibration
def _two_groups(n, seed):
    """Covered items over-confident (true accuracy 0.7 at confidence 0.95), uncovered under-confident."""
    rng = np.random.default_rng(seed)
    covered = rng.random(n) < 0.4
    conf = np.where(covered, 0.95, 0.6)
    true_acc = np.where(covered, 0.7, 0.9)
    pred = rng.integers(0, 3, n)
    right = rng.random(n) < true_acc
    y = np.where(right, pred, (pred + 1 + rng.integers(0, 2, n)) % 3)
    proba = np.full((n, 3), 0.0)
    proba[np.arange(n), pred] = conf
    proba[np.arange(n), (pred + 1) % 3] = (1 - conf) * 0.6
    proba[np.arange(n), (pred + 2) % 3] = (1 - conf) * 0.4
    return proba, y, covered


def test_grouped_calibration_beats_one_temperature_on_a_mixed_set():
    proba, y, covered = _two_groups(4000, 0)
    fit, test = slice(0, 1000), slice(1000, None)
    cal = GroupedCalibration().fit(proba[fit], y[fit], groups=covered[fit])
    out = cal.transform(proba[test], groups=covered[test])
    np.testing.assert_array_equal(out.argmax(axis=1), proba[test].argmax(axis=1))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    pooled = TemperatureScaling().fit(proba[fit], y[fit]).transform(proba[test])
    ece_grouped = expected_calibration_error(out, y[test])
    assert ece_grouped < 0.03
    assert ece_grouped < expected_calibration_error(pooled, y[test]) - 0.05
    assert set(cal.methods_) == {None, False, True}


def test_grouped_calibration_small_group_uses_the_pooled_calibrator():
    proba, y, _ = _two_groups(600, 1)
    groups = np.where(np.arange(600) < 10, "tiny", "big")
    cal = GroupedCalibration(min_items=30).fit(proba, y, groups=groups)
    assert cal.methods_["tiny"] == "pooled" and cal.n_items_["tiny"] == 10
    np.testing.assert_allclose(cal.transform(proba[:10], groups=groups[:10]),
                               GroupedCalibration(min_items=30).fit(proba, y, groups=groups)
                               .transform(proba[:10], groups=np.array(["unseen"] * 10)))


def test_top_label_isotonic_keeps_argmax_on_three_classes():
    rng = np.random.default_rng(3)
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=500)
    y = rng.integers(0, 3, 500)  # labels unrelated to the scores: calibrated confidence falls towards 1/3
    out = TopLabelIsotonic().fit(proba, y).transform(proba)
    np.testing.assert_array_equal(out.argmax(axis=1), proba.argmax(axis=1))
    assert out.max(axis=1).mean() < proba.max(axis=1).mean()


# ------------------------------------------------------------------------------------ recipe
def test_recipe_survives_a_collapsed_label_model():
    """A label model that says 'class 0' everywhere: the recipe trains on the vote shares and beats it."""
    X, y = _task(3000, 5, prior=0.3)
    votes = _votes(y, 6)
    lm = np.tile([0.999, 0.001], (3000, 1))
    gold = np.where(np.arange(3000) < 400, y, -1)
    test = np.arange(2000, 3000)
    gold[test] = -1
    recipe = WeakLabelRecipe(metric="f1").fit(X[:2000], votes[:2000], lm[:2000], gold[:2000])
    assert recipe.config_["targets"] == "vote_shares"
    pred = recipe.predict(X[test], votes[test], lm[test])
    f1 = 2 * np.sum((pred == 1) & (y[test] == 1)) / max(np.sum(pred == 1) + np.sum(y[test] == 1), 1)
    assert f1 > 0.6  # the label model's F1 on class 1 is 0
    assert recipe.choice_ == "end_model" and "kept the end model" in recipe.reason_
    assert len(recipe.candidates_) == 8


def test_recipe_without_enough_gold_chooses_nothing_and_says_so():
    X, y = _task(600, 7, scale=2.0)
    votes = _votes(y, 8)
    shares = vote_shares(votes, 2)
    lm = np.where(np.isnan(shares), 0.5, shares)
    recipe = WeakLabelRecipe(min_gold=30).fit(X, votes, lm, np.where(np.arange(600) < 5, y, -1))
    assert recipe.combiner_ is None and recipe.choice_ == "end_model"
    assert "only 5 validation item(s)" in recipe.reason_
    assert len(recipe.candidates_) == 1
    covered = (votes >= 0).any(axis=1)
    # the floor: the majority vote of the covered items (the features separate the classes better than the votes)
    assert _acc(y[covered], recipe.predict_proba(X, votes, lm)[covered]) >= _acc(y[covered], lm[covered]) - 0.02


def test_recipe_gives_the_votes_densely_to_an_estimator_that_refuses_sparse_input():
    """Dense X plus the vote indicators stays dense, so a booster (which refuses sparse input) is tried with votes."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = _task(400, 11)
    votes = _votes(y, 12)
    shares = vote_shares(votes, 2)
    lm = np.where(np.isnan(shares), 0.5, shares)
    booster = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    recipe = WeakLabelRecipe(estimator=booster).fit(X, votes, lm, np.where(np.arange(400) < 80, y, -1))
    with_votes = [c for c in recipe.candidates_ if c["features"] == "X+votes"]
    assert len(with_votes) == 4 and all(0.0 <= c["score"] <= 1.0 for c in with_votes)
    assert recipe.end_model_proba(X, votes).shape == (400, 2)
