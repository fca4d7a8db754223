"""Imprecise-label containers: frozen, validated at construction, errors name parameter/expected/arrived."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.endmodel import CandidateLabels, CoarseLabels, ComplementaryLabels, LabelProportions


def test_containers_are_frozen_with_read_only_arrays():
    """Fields cannot be reassigned and the stored arrays cannot be written."""
    lp = LabelProportions([0, 1], [[1.0, 0.0], [0.25, 0.75]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        lp.bag_ids = np.array([1, 0])  # type: ignore[misc]
    with pytest.raises(ValueError):
        lp.proportions[0, 0] = 0.5
    cl = CandidateLabels(np.array([[True, False], [True, True]]))
    with pytest.raises(ValueError):
        cl.mask[0, 1] = True


def test_containers_copy_their_input():
    """Changing the caller's array after construction does not change the container."""
    labels = np.array([0, 1, 2])
    comp = ComplementaryLabels(labels, n_classes=3)
    labels[0] = 2
    assert comp.labels.tolist() == [0, 1, 2]


def test_sizes():
    """The size properties read off the validated arrays."""
    coarse = CoarseLabels([0, 1, 2, 1], hierarchy=[0, 0, 1, 2, 2])
    assert (coarse.n_items, coarse.n_classes, coarse.n_coarse) == (4, 5, 3)
    lp = LabelProportions(np.array([0.0, 2.0, 1.0]), np.full((3, 4), 0.25))
    assert (lp.n_items, lp.n_bags, lp.n_classes) == (3, 3, 4)
    assert lp.bag_ids.dtype == np.int64


@pytest.mark.parametrize(
    ("build", "param", "fragment"),
    [
        (lambda: LabelProportions([0, 1], [[0.5, 0.6], [1.0, 0.0]]), "proportions", "sum to 1"),
        (lambda: LabelProportions([0, 1], [[-0.5, 1.5], [1.0, 0.0]]), "proportions", "non-negative"),
        (lambda: LabelProportions([0, 1], [1.0, 0.0]), "proportions", "2-d"),
        (lambda: LabelProportions([0, 2], [[1.0, 0.0], [0.0, 1.0]]), "bag_ids", "< 2"),
        (lambda: LabelProportions([0, 0], [[1.0, 0.0], [0.0, 1.0]]), "bag_ids", "bag 1 empty"),
        (lambda: LabelProportions([0.5, 1], [[1.0, 0.0], [0.0, 1.0]]), "bag_ids", "integers"),
        (lambda: CandidateLabels([[1, 0], [0, 1]]), "mask", "boolean"),
        (lambda: CandidateLabels([[True, False], [False, False]]), "mask", "row 1 with none"),
        (lambda: CandidateLabels([[True], [True]]), "mask", "k >= 2"),
        (lambda: ComplementaryLabels([0, 3], n_classes=3), "labels", "value 3"),
        (lambda: ComplementaryLabels([0, 1], n_classes=1), "n_classes", "got 1"),
        (lambda: ComplementaryLabels([], n_classes=2), "labels", "non-empty"),
        (lambda: CoarseLabels([0, 2], hierarchy=[0, 0, 1]), "labels", "value 2"),
        (lambda: CoarseLabels([0, 1], hierarchy=[0, 2, 2]), "hierarchy", "superclass 1"),
        (lambda: CoarseLabels([0], hierarchy=[0]), "hierarchy", "at least 2"),
    ],
)
def test_invalid_input_raises_naming_the_parameter(build, param, fragment):
    """Bad input raises ValidationError '<param>: expected ..., got ...' at construction."""
    with pytest.raises(ValidationError) as err:
        build()
    message = str(err.value)
    assert message.startswith(f"{param}: expected ")
    assert ", got " in message
    assert fragment in message
