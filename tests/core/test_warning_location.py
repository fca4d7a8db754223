"""weaklab's warnings point at the caller's line, not at a line of weaklab's source, whatever the call depth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from weaklab import ABSTAIN, LabelMatrix, labeling_function
from weaklab.errors import ConvergenceWarning
from weaklab.labeling import apply_lfs
from weaklab.models import DawidSkene


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def test_a_models_convergence_warning_names_the_line_that_called_fit():
    """Dawid-Skene stopped by max_iter warns at this file's line of ``fit``."""
    rng = np.random.default_rng(0)
    L = LabelMatrix(rng.integers(-1, 2, size=(200, 5)), n_classes=2)
    caught = [w for w in _caught(lambda: DawidSkene(max_iter=1).fit(L)) if w.category is ConvergenceWarning]
    assert caught and all(w.filename == __file__ for w in caught), [(w.filename, w.lineno) for w in caught]


def test_labeling_function_faults_warning_names_the_line_that_applied_them():
    """Votes lost to a raising LF (on_error='abstain') are reported at the caller's apply_lfs line."""

    @labeling_function()
    def breaks(x):
        if x["text"] == "b":
            raise KeyError("boom")
        return ABSTAIN

    data = pd.DataFrame({"text": ["a", "b", "c"]})
    caught = [w for w in _caught(lambda: apply_lfs([breaks], data, on_error="abstain", progress=False))
              if "labeling-function faults" in str(w.message)]
    assert len(caught) == 1 and caught[0].filename == __file__


def test_auto_label_models_selection_warning_names_the_line_that_called_fit():
    """AutoLabelModel's no-gold warnings (several calls deep in model selection) point at the caller's fit line."""
    from weaklab.models import AutoLabelModel
    from weaklab.synthetic import make_lf_matrix

    for seed in range(6):
        L = make_lf_matrix(600, 8, 2, random_state=seed).L
        caught = [w for w in _caught(lambda L=L: AutoLabelModel(random_state=0).fit(L))
                  if str(w.message).startswith("AutoLabelModel")]
        if caught:
            assert all(w.filename == __file__ for w in caught), [(w.filename, w.lineno) for w in caught]
            return
    raise AssertionError("no seed made AutoLabelModel warn; pick another matrix")
