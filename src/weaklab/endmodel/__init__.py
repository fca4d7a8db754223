"""End models trained on soft, noisy labels.

Importing this package does not import torch: :class:`TorchClassifier` and
the network builders import it when used, and :mod:`weaklab.endmodel.losses`
(the torch loss functions) imports it when imported.
"""

from .calibration import TemperatureScaling, VectorScaling
from .combine import CombinedPredictor, bootstrap_gain
from .correction import CorrectionLog, relabel_from_predictions
from .grouped_calibration import GroupedCalibration, TopLabelIsotonic
from .imprecise import CandidateLabels, CoarseLabels, ComplementaryLabels, LabelProportions
from .multilabel import MultiLabelSoftClassifier, MultiLabelTorchClassifier
from .networks import make_cnn, make_mlp
from .noise_rates import (
    anchor_noise_rate,
    class_noise_rates,
    prior_matched_forget_rates,
    uniform_noise_explains,
    uniform_noise_prior,
)
from .partitioned import PartitionedTextClassifier
from .prior import class_prior_from_gold, match_class_prior
from .recipe import WeakLabelRecipe, vote_features, vote_shares
from .schedules import class_adaptive_thresholds
from .selection import (
    confidence_weights,
    dynamic_class_thresholds,
    estimate_noise_rate,
    fit_gmm_1d,
    gmm_class_thresholds,
    prototype_clean_proba,
)
from .soft_label import SoftLabelClassifier
from .torch_model import LOSS_NAMES, TorchClassifier
from .transition import estimate_transition_matrix

__all__ = [
    "SoftLabelClassifier",
    "PartitionedTextClassifier",
    "TorchClassifier",
    "LOSS_NAMES",
    "make_mlp",
    "make_cnn",
    "TemperatureScaling",
    "VectorScaling",
    "estimate_transition_matrix",
    "class_adaptive_thresholds",
    "LabelProportions",
    "CandidateLabels",
    "ComplementaryLabels",
    "CoarseLabels",
    "MultiLabelTorchClassifier",
    "MultiLabelSoftClassifier",
    # issue 15: the default recipe, its combination with the label model, calibration per part
    "WeakLabelRecipe",
    "CombinedPredictor",
    "GroupedCalibration",
    "TopLabelIsotonic",
    "match_class_prior",
    "class_prior_from_gold",
    "bootstrap_gain",
    "vote_features",
    "vote_shares",
    # issue 15: noisy-label training from the founding papers
    "CorrectionLog",
    "relabel_from_predictions",
    "confidence_weights",
    "dynamic_class_thresholds",
    "estimate_noise_rate",
    "class_noise_rates",
    "anchor_noise_rate",
    "uniform_noise_prior",
    "prior_matched_forget_rates",
    "uniform_noise_explains",
    "fit_gmm_1d",
    "gmm_class_thresholds",
    "prototype_clean_proba",
]
