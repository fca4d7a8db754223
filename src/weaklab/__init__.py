"""weaklab: turn cheap, weak, noisy sources of labels into trustworthy training data and models."""

from ._core import ABSTAIN, LabelMatrix, SoftLabels, break_ties, fingerprint
from .errors import (
    LFExecutionError,
    MissingDependencyError,
    NotFittedError,
    SchemaVersionError,
    StoreError,
    ValidationError,
    WeaklabError,
)

__version__ = "0.1.0"

__all__ = [
    "ABSTAIN",
    "LabelMatrix",
    "SoftLabels",
    "break_ties",
    "fingerprint",
    "WeaklabError",
    "ValidationError",
    "NotFittedError",
    "LFExecutionError",
    "StoreError",
    "SchemaVersionError",
    "MissingDependencyError",
    "__version__",
]
