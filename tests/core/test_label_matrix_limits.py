"""Votes beyond the documented class limit and ragged vote lists are refused with a weaklab error."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import LabelMatrix, ValidationError
from weaklab._core.constants import MAX_CLASSES


@pytest.mark.parametrize("vote", [MAX_CLASSES, 40_000, 2**31])
def test_inferred_class_count_above_the_limit_is_refused(vote):
    """A vote >= 32,767 with inferred n_classes is an error naming the limit, never a wrapped int16."""
    with pytest.raises(ValidationError, match=r"votes.*32767"):
        LabelMatrix(np.array([[vote, -1], [1, 0]]))


def test_largest_allowed_vote_is_kept_exactly():
    """The largest class id under the limit survives storage unchanged."""
    L = LabelMatrix(np.array([[MAX_CLASSES - 1, -1], [1, 0]]))
    assert L.n_classes == MAX_CLASSES
    assert int(L.to_dense()[0, 0]) == MAX_CLASSES - 1


def test_sparse_votes_above_the_limit_are_refused():
    """from_coo checks the same limit."""
    with pytest.raises(ValidationError, match="32767"):
        LabelMatrix.from_coo([0, 1], [0, 0], [40_000, 1], n_items=2, n_sources=1)


def test_ragged_vote_lists_are_a_validation_error():
    """Rows of different lengths name the parameter instead of raising numpy's ValueError text."""
    with pytest.raises(ValidationError, match=r"votes: expected .*same number"):
        LabelMatrix([[1, 0], [1]])
