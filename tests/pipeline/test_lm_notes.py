"""The warnings a label model's fit raised are kept with the run and raised again to the caller as Python would have
shown them: once per place under the default filter, every time under "always"."""

from __future__ import annotations

import re
import warnings

import pytest

from weaklab.pipeline.lm_notes import fit_noting_warnings


def _fit_warning_five_times():
    for _ in range(5):
        warnings.warn("the same warning", UserWarning, stacklevel=1)
    return "model"


@pytest.mark.parametrize(("action", "shown"), [("default", 1), ("always", 5)])
def test_a_repeated_warning_reaches_the_caller_as_often_as_without_the_wrapper(action, shown):
    """A fit warning five times at one line: the caller's filter decides how often it is shown (the default shows it
    once, as a plain call would; it was shown five times), and the run keeps its text once."""
    with warnings.catch_warnings(record=True) as plain:
        warnings.simplefilter(action)
        _fit_warning_five_times()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter(action)
        model, texts = fit_noting_warnings(_fit_warning_five_times)
    assert (model, texts) == ("model", ["the same warning"])
    assert len(caught) == len(plain) == shown


def _fit_warning_once():
    warnings.warn("close call", UserWarning, stacklevel=1)  # raised in this module
    return "model"


@pytest.mark.parametrize("by", ["name", "path"])
def test_a_filter_by_module_matches_the_re_raised_warning_as_it_matches_the_fit_s_own(by):
    """filterwarnings("ignore", module=<this test module's name>) hides the fit's warning when re-raised as it hides
    it without the wrapper (the re-raised one was named by its file's path: shown), and a filter by that path hides
    neither (it hid the re-raised one only)."""
    module = __name__ if by == "name" else __file__.removesuffix(".py")
    shown = []
    for call in (_fit_warning_once, lambda: fit_noting_warnings(_fit_warning_once)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", module=re.escape(module))
            call()
        shown.append(len(caught))
    assert shown == ([0, 0] if by == "name" else [1, 1])
