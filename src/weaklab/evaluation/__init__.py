"""Evaluation: metrics with abstentions, calibration, slices and synthetic label noise.

Everything here is a pure function over numpy arrays (plus the
:class:`SlicingFunction` container): inputs are validated once and errors name
the parameter, what was expected and what arrived. Plotting needs matplotlib
(``pip install 'weaklab[plot]'``), imported only by :func:`plot_reliability`.

Argument order follows what a metric scores. Metrics of hard labels take
``(y_true, y_pred)``, as in scikit-learn: :func:`accuracy`, :func:`f1_score`,
:func:`precision_recall_f1`, :func:`confusion_matrix`, :func:`covered_scores`
and the multi-label :func:`micro_f1`, :func:`macro_f1`, :func:`label_f1_scores`,
:func:`hamming_loss`. Metrics of probabilities take ``(proba, y_true)``: the
predictions being judged come first, as in :func:`expected_calibration_error`,
:func:`maximum_calibration_error`, :func:`brier_score`,
:func:`negative_log_likelihood`, :func:`reliability_curve` and the multi-label
:func:`label_calibration_errors`. Every one of them accepts its arrays by
keyword (``expected_calibration_error(proba=P, y_true=y)``), which reads the
same whichever order you remember; arrays passed the wrong way round (labels
where probabilities belong) raise a :class:`~weaklab.ValidationError` that
says so.
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
