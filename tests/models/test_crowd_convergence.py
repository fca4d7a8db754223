"""Ordinary crowd data fits without non-convergence warnings (issue 10, part 3)."""

from __future__ import annotations

import warnings

import pytest

from weaklab.data import load_zheng
from weaklab.errors import ConvergenceWarning
from weaklab.models import MACE


@pytest.mark.parametrize("name", ["d_jn-product", "d_sentiment"])
def test_mace_converges_on_the_zheng_crowds_with_its_defaults(dataset, name):
    """MACE with default parameters reaches its tolerance on real crowd answers, without a warning."""
    L = load_zheng(dataset("crowd_zheng2017") / name).L
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MACE(random_state=0).fit(L)
    assert model.converged_
