"""The Examples sections of weaklab.sequence run as doctests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import weaklab.sequence as seq

MODULES = sorted(m.name for m in pkgutil.iter_modules(seq.__path__, prefix="weaklab.sequence."))


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    """Every example in the module's docstrings gives the output it shows."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
