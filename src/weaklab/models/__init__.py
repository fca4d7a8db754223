"""Label models: combine conflicting votes into calibrated soft labels."""

from ._base import ConfusionLabelModel, LabelModel
from .majority import MajorityVote

__all__ = ["LabelModel", "ConfusionLabelModel", "MajorityVote"]
