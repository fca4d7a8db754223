"""End models trained on soft, noisy labels."""

from .soft_label import SoftLabelClassifier

__all__ = ["SoftLabelClassifier"]
