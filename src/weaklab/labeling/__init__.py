"""Labeling functions, appliers and source analysis."""

from .analysis import (
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

__all__ = [
    "label_coverage",
    "label_overlap",
    "label_conflict",
    "lf_polarities",
    "lf_coverages",
    "lf_overlaps",
    "lf_conflicts",
    "lf_empirical_accuracies",
    "lf_summary",
]
