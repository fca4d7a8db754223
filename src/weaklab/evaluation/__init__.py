"""Evaluation: metrics with abstentions, calibration, slices and synthetic label noise.

Everything here is a pure function over numpy arrays (plus the
:class:`SlicingFunction` container): inputs are validated once and errors name
the parameter, what was expected and what arrived. Plotting needs matplotlib
(``pip install 'weaklab[plot]'``), imported only by :func:`plot_reliability`.
"""

from .calibration import (
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    plot_reliability,
    reliability_curve,
)
from .metrics import accuracy, confusion_matrix, coverage, covered_scores, f1_score, precision_recall_f1
from .multilabel import hamming_loss, label_calibration_errors, label_f1_scores, macro_f1, micro_f1
from .noise import NOISE_KINDS, inject_noise
from .slices import SLICE_METRICS, SlicingFunction, slice_report, slicing_function, wilson_interval

__all__ = [
    "accuracy",
    "f1_score",
    "precision_recall_f1",
    "confusion_matrix",
    "coverage",
    "covered_scores",
    "expected_calibration_error",
    "maximum_calibration_error",
    "brier_score",
    "negative_log_likelihood",
    "reliability_curve",
    "plot_reliability",
    "SlicingFunction",
    "slicing_function",
    "slice_report",
    "wilson_interval",
    "SLICE_METRICS",
    "micro_f1",
    "macro_f1",
    "label_f1_scores",
    "hamming_loss",
    "label_calibration_errors",
    "inject_noise",
    "NOISE_KINDS",
]
