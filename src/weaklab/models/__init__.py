"""Label models: combine conflicting votes into calibrated soft labels."""

from ._base import ConfusionLabelModel, LabelModel
from .dawid_skene import DawidSkene, OneCoinDawidSkene
from .majority import MajorityVote
from .weighted import WeightedMajorityVote

__all__ = [
    "LabelModel",
    "ConfusionLabelModel",
    "MajorityVote",
    "DawidSkene",
    "OneCoinDawidSkene",
    "WeightedMajorityVote",
]
