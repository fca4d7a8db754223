"""Labeling functions, templates and appliers: turn rules into a LabelMatrix."""

from ._batch import LFFault, Row
from .analysis import (
    gold_columns,
    gold_vote_counts,
    label_conflict,
    label_coverage,
    label_overlap,
    lf_conflicts,
    lf_coverages,
    lf_empirical_accuracies,
    lf_overlaps,
    lf_polarities,
    lf_summary,
)
from .apply import ApplyReport, apply_lfs
from .defaults import source_defaults
from .generate import GeneratedLF, GeneratedLFs, generate_lfs
from .image import image_model_lf, seed_lf
from .lf import LabelingFunction, labeling_function
from .preprocess import Preprocessor, preprocessor
from .templates import embedding_lf, keyword_lf, lookup_lf, model_lf, regex_lf, threshold_lf
from .text_field import default_text_field

__all__ = [
    "LabelingFunction",
    "labeling_function",
    "Preprocessor",
    "preprocessor",
    "Row",
    "keyword_lf",
    "regex_lf",
    "lookup_lf",
    "threshold_lf",
    "model_lf",
    "embedding_lf",
    "seed_lf",
    "image_model_lf",
    "generate_lfs",
    "GeneratedLF",
    "GeneratedLFs",
    "default_text_field",
    "source_defaults",
    "apply_lfs",
    "ApplyReport",
    "LFFault",
    "label_coverage",
    "label_overlap",
    "label_conflict",
    "lf_polarities",
    "lf_coverages",
    "lf_overlaps",
    "lf_conflicts",
    "lf_empirical_accuracies",
    "lf_summary",
    "gold_vote_counts",
    "gold_columns",
]
