"""Core containers and helpers shared by every layer of weaklab.

The names load on first use (``from weaklab._core import LabelMatrix`` works
as usual), so importing a light submodule such as ``constants`` does not pull
in numpy, pandas and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .constants import ABSTAIN

if TYPE_CHECKING:  # the real names for type checkers; at run time they load on first use
    from .hashing import fingerprint, function_source
    from .inputs import as_label_matrix
    from .label_matrix import LabelMatrix, vote_dtype
    from .multilabel import ABSENT, PRESENT, MultiLabelMatrix
    from .multilabel_proba import MultiLabelSoftLabels, check_label_proba
    from .partition_stats import PartitionStatistics
    from .partitioned import PartitionedLabelMatrix, PartitionedSoftLabels
    from .patterns import VotePatterns, vote_patterns
    from .soft_labels import SoftLabels
    from .state import check_state, load_state, save_state, to_jsonable
    from .ties import TIE_BREAK_POLICIES, break_ties

_LAZY: dict[str, str] = {
    "fingerprint": "hashing", "function_source": "hashing",
    "as_label_matrix": "inputs",
    "LabelMatrix": "label_matrix", "vote_dtype": "label_matrix",
    "VotePatterns": "patterns", "vote_patterns": "patterns",
    "SoftLabels": "soft_labels",
    "MultiLabelMatrix": "multilabel", "PRESENT": "multilabel", "ABSENT": "multilabel",
    "MultiLabelSoftLabels": "multilabel_proba", "check_label_proba": "multilabel_proba",
    "PartitionedLabelMatrix": "partitioned", "PartitionedSoftLabels": "partitioned",
    "PartitionStatistics": "partition_stats",
    "check_state": "state", "load_state": "state", "save_state": "state", "to_jsonable": "state",
    "TIE_BREAK_POLICIES": "ties", "break_ties": "ties",
}

__all__ = [
    "ABSTAIN",
    "LabelMatrix",
    "SoftLabels",
    "MultiLabelMatrix",
    "MultiLabelSoftLabels",
    "PRESENT",
    "ABSENT",
    "check_label_proba",
    "PartitionedLabelMatrix",
    "PartitionedSoftLabels",
    "PartitionStatistics",
    "VotePatterns",
    "vote_patterns",
    "vote_dtype",
    "as_label_matrix",
    "break_ties",
    "TIE_BREAK_POLICIES",
    "fingerprint",
    "function_source",
    "save_state",
    "load_state",
    "check_state",
    "to_jsonable",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'weaklab._core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
