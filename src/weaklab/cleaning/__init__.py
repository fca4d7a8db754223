"""Label cleaning: find wrong labels, estimate the noise, correct what is safe to correct.

Pure functions over numpy arrays (validated once, vectorised inside):

* :func:`out_of_fold_proba`: predicted probabilities from models that never
  saw the item's label (the input of everything else);
* confident learning: :func:`confident_joint`, :func:`estimate_joint`,
  :func:`estimate_noise_matrix`, :func:`estimate_class_prior`,
  :func:`self_confidence_thresholds`;
* :func:`find_label_issues` (a boolean mask; :func:`detect_label_issues`
  returns it as :class:`LabelIssues` with the method ``"auto"`` picked and why), :func:`label_quality_scores`
  (per-item scores) and :func:`rank_label_issues` (positions, worst first);
  :func:`top_label_issues`, the worst ``n`` of partitioned data (Dask);
* :func:`small_loss_clean_proba`: P(clean) from training losses, per class;
* weak labels: :func:`find_weak_label_errors` (is the weak label wrong, which
  sources voted for it) with :func:`source_precision` and :func:`expected_f1_cut`;
* multi-annotator data: :func:`consensus_labels`, :func:`consensus_quality`,
  :func:`annotator_quality`;
* :func:`correct_labels` with its :class:`CorrectionLog`, and the
  scikit-learn estimator :class:`LabelCleaner`.

Given labels may be hard ``(n,)`` class ids or soft ``(n, k)`` labels from a
label model; see each function for how soft labels are used.
"""

from .cleaner import CLEANER_ACTIONS, LabelCleaner
from .confident import (
    confident_joint,
    estimate_class_prior,
    estimate_joint,
    estimate_noise_matrix,
    self_confidence_thresholds,
)
from .correction import CORRECTION_MODES, CorrectionLog, correct_labels
from .detect import LabelIssues, detect_label_issues
from .filter import ISSUE_METHODS, find_label_issues
from .multiannotator import annotator_quality, consensus_labels, consensus_quality
from .oof import out_of_fold_proba
from .partitioned import top_label_issues
from .scores import QUALITY_SCORES, label_quality_scores, rank_label_issues
from .small_loss import MIXTURES, small_loss_clean_proba
from .weak import WeakLabelErrors, expected_f1_cut, find_weak_label_errors, source_precision

__all__ = [
    "top_label_issues",
    "out_of_fold_proba",
    "confident_joint",
    "estimate_joint",
    "estimate_noise_matrix",
    "estimate_class_prior",
    "self_confidence_thresholds",
    "find_label_issues",
    "detect_label_issues",
    "LabelIssues",
    "label_quality_scores",
    "rank_label_issues",
    "small_loss_clean_proba",
    "find_weak_label_errors",
    "WeakLabelErrors",
    "source_precision",
    "expected_f1_cut",
    "consensus_labels",
    "consensus_quality",
    "annotator_quality",
    "correct_labels",
    "CorrectionLog",
    "LabelCleaner",
    "ISSUE_METHODS",
    "QUALITY_SCORES",
    "CORRECTION_MODES",
    "CLEANER_ACTIONS",
    "MIXTURES",
]
