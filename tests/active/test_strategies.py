"""Scoring strategies pick the analytically expected item on small constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import LabelMatrix, ValidationError
from weaklab.active import (
    entropy,
    least_confidence,
    margin,
    model_disagreement,
    random_scores,
    uncertainty,
    vote_entropy,
)

# Three rows on which the three uncertainty measures disagree about the top item.
P3 = np.array([
    [0.50, 0.49, 0.01],  # smallest gap between the top two classes -> margin
    [0.40, 0.35, 0.25],  # smallest largest probability -> least confidence
    [0.42, 0.29, 0.29],  # most even spread -> entropy
])


def test_least_confidence_picks_smallest_top_probability():
    """Least confidence ranks first the row whose largest probability is smallest."""
    assert int(np.argmax(least_confidence(P3))) == 1


def test_margin_picks_smallest_gap():
    """Margin ranks first the row whose top two classes are closest."""
    assert int(np.argmax(margin(P3))) == 0
    np.testing.assert_allclose(margin(P3), [0.99, 0.95, 0.87])


def test_entropy_picks_most_even_row():
    """Entropy ranks first the row whose distribution is most even."""
    assert int(np.argmax(entropy(P3))) == 2


def test_uncertainty_bounds_on_extreme_rows():
    """Every uncertainty measure is 0 on a one-hot row and 1 on a uniform row."""
    rows = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    for measure in ("entropy", "margin", "least_confidence"):
        np.testing.assert_allclose(uncertainty(rows, measure=measure), [0.0, 1.0], atol=1e-12)


def test_uncertainty_rejects_rows_not_summing_to_one():
    """Probabilities whose rows do not sum to 1 raise a ValidationError naming proba."""
    with pytest.raises(ValidationError, match=r"^proba: expected rows that sum to 1"):
        entropy([[0.5, 0.6]])


def test_vote_entropy_ranks_a_split_vote_first():
    """Source disagreement is highest where the votes split evenly and 0 where they agree."""
    L = LabelMatrix([[0, 0, 1, -1], [0, 1, -1, -1], [0, 0, 0, -1], [1, -1, -1, -1], [-1, -1, -1, -1]],
                    n_classes=2)
    scores = vote_entropy(L)
    h = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3)) / np.log(2)
    np.testing.assert_allclose(scores, [h, 1.0, 0.0, 0.0, 0.0])
    assert int(np.argmax(scores)) == 1


def test_vote_entropy_few_votes_policy():
    """Items with fewer than 2 votes score 0 under few_votes='low' and 1 under 'high'."""
    L = np.array([[0, 0], [1, -1], [-1, -1]])
    np.testing.assert_allclose(vote_entropy(L, n_classes=2, few_votes="low"), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(vote_entropy(L, n_classes=2, few_votes="high"), [0.0, 1.0, 1.0])
    with pytest.raises(ValidationError, match=r"^few_votes: expected one of"):
        vote_entropy(L, n_classes=2, few_votes="skip")


def test_model_disagreement_measures():
    """TV, JS and KL give their closed-form values and pick the item where the models disagree most."""
    p = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    q = np.array([[0.9, 0.1], [0.0, 1.0], [0.9, 0.1]])
    tv = model_disagreement(p, q, measure="tv")
    np.testing.assert_allclose(tv, [0.4, 1.0, 0.0])
    js = model_disagreement(p, q, measure="js")
    assert js[1] == pytest.approx(1.0) and js[2] == pytest.approx(0.0) and 0 < js[0] < 1
    kl = model_disagreement(p, q, measure="kl")  # KL(label_proba || proba)
    assert kl[0] == pytest.approx(0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5))
    assert int(np.argmax(tv)) == int(np.argmax(js)) == int(np.argmax(kl)) == 1


def test_model_disagreement_rejects_mismatched_rows():
    """Soft labels with a different number of rows raise a ValidationError naming label_proba."""
    with pytest.raises(ValidationError, match=r"^label_proba: expected 2 rows"):
        model_disagreement([[0.5, 0.5], [1.0, 0.0]], [[0.5, 0.5]])


def test_random_scores_are_seeded():
    """Random scores repeat under the same seed and differ under another."""
    a, b = random_scores(50, random_state=1), random_scores(50, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, random_scores(50, random_state=2))
    assert a.shape == (50,) and np.all((a >= 0) & (a < 1))
