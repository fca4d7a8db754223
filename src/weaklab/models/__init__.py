"""Label models: combine conflicting votes into calibrated soft labels."""

from ._base import ConfusionLabelModel, LabelModel
from .auto import AutoLabelModel
from .dawid_skene import DawidSkene, OneCoinDawidSkene
from .dependencies import Edge, learn_dependencies
from .glad import GLAD
from .hyper import HyperLabelModel
from .mace import MACE
from .majority import MajorityVote
from .matrix_completion import MatrixCompletion
from .multilabel import MultiLabelDawidSkene, MultiLabelModel, OneVsRestLabelModel
from .triplet import Triplet
from .wawa import Wawa
from .weighted import WeightedMajorityVote

__all__ = [
    "LabelModel",
    "ConfusionLabelModel",
    "MajorityVote",
    "DawidSkene",
    "OneCoinDawidSkene",
    "WeightedMajorityVote",
    "GLAD",
    "MACE",
    "Wawa",
    "MatrixCompletion",
    "AutoLabelModel",
    "HyperLabelModel",
    "Triplet",
    "MultiLabelModel",
    "OneVsRestLabelModel",
    "MultiLabelDawidSkene",
    "Edge",
    "learn_dependencies",
]
