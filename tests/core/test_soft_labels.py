"""Behaviour of SoftLabels and tie-breaking."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import SoftLabels, ValidationError, break_ties


def test_confidence_entropy_and_hard_labels():
    """confidence is the row max, entropy is in nats, hard is the argmax."""
    s = SoftLabels([[0.2, 0.8], [1.0, 0.0]])
    assert np.allclose(s.confidence, [0.8, 1.0])
    assert np.allclose(s.entropy, [-(0.2 * np.log(0.2) + 0.8 * np.log(0.8)), 0.0])
    assert s.hard().tolist() == [1, 0]


def test_tie_break_policies():
    """Ties abstain, follow the prior, or are broken reproducibly at random."""
    proba = np.full((200, 3), 1 / 3)
    assert set(break_ties(proba, "abstain")) == {-1}
    assert set(break_ties(proba, "prior", prior=np.array([0.2, 0.5, 0.3]))) == {1}
    first = break_ties(proba, "random", random_state=7)
    assert np.array_equal(first, break_ties(proba, "random", random_state=7))
    assert set(first) == {0, 1, 2}


def test_partial_ties_only_choose_among_tied_classes():
    """A random tie-break never picks a class that is not tied for the maximum."""
    proba = np.tile([0.4, 0.4, 0.2], (500, 1))
    assert set(break_ties(proba, "random", random_state=0)) == {0, 1}


@pytest.mark.parametrize(
    ("proba", "message"),
    [
        ([[0.5, 0.6]], "rows that sum to 1"),
        ([[np.nan, 1.0]], "NaN"),
        ([0.5, 0.5], "2-d array"),
        ([[1.5, -0.5]], "probabilities in [0, 1]"),
    ],
)
def test_bad_probabilities_are_rejected(proba, message):
    """Rows that are not distributions raise ValidationError with the reason."""
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SoftLabels(proba)


def test_soft_labels_are_immutable():
    """The probabilities are read-only."""
    s = SoftLabels([[0.5, 0.5]])
    with pytest.raises(ValueError):
        s.proba[0, 0] = 1.0
