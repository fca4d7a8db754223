"""Core containers and helpers shared by every layer of weaklab."""

from .constants import ABSTAIN
from .hashing import fingerprint, function_source
from .inputs import as_label_matrix
from .label_matrix import LabelMatrix, vote_dtype
from .patterns import VotePatterns, vote_patterns
from .soft_labels import SoftLabels
from .state import check_state, load_state, save_state, to_jsonable
from .ties import TIE_BREAK_POLICIES, break_ties

__all__ = [
    "ABSTAIN",
    "LabelMatrix",
    "SoftLabels",
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
