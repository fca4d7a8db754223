"""weaklab: turn cheap, weak, noisy sources of labels into trustworthy training data and models.

The names below are the public surface. The errors and ``ABSTAIN`` load
eagerly; everything else (the core containers too) loads on first use, so
``import weaklab`` (and the ``weaklab`` command's start-up) stays fast: it
does not even import numpy, and never pulls in torch, web frameworks or dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._core.constants import ABSTAIN
from .errors import (
    LFExecutionError,
    MissingDependencyError,
    NotFittedError,
    SchemaVersionError,
    StoreError,
    ValidationError,
    WeaklabError,
)

if TYPE_CHECKING:  # the real names for type checkers; at run time they load on first use
    from ._core import (
        LabelMatrix,
        MultiLabelMatrix,
        MultiLabelSoftLabels,
        PartitionedLabelMatrix,
        PartitionedSoftLabels,
        SoftLabels,
        break_ties,
        fingerprint,
        load_state,
        save_state,
    )

__version__ = "0.1.0"

#: The core containers and helpers (model state files too), loaded from ``_core`` on first use (they import numpy).
_CORE = ("LabelMatrix", "SoftLabels", "MultiLabelMatrix", "MultiLabelSoftLabels", "PartitionedLabelMatrix",
         "PartitionedSoftLabels", "break_ties", "fingerprint", "save_state", "load_state")

_LAZY: dict[str, str] = {
    # data
    "WeakLabelDataset": "data",
    "load_wrench": "data",
    "load_crowd": "data",
    "load_zheng": "data",
    "load_youtube_spam": "data",
    "read_table": "data",
    "ImageItems": "data",
    "load_image_folder": "data",
    "load_image_table": "data",
    "load_image_arrays": "data",
    # labeling
    "LabelingFunction": "labeling",
    "labeling_function": "labeling",
    "preprocessor": "labeling",
    "keyword_lf": "labeling",
    "regex_lf": "labeling",
    "lookup_lf": "labeling",
    "threshold_lf": "labeling",
    "model_lf": "labeling",
    "apply_lfs": "labeling",
    "ApplyReport": "labeling",
    "lf_summary": "labeling",
    "embedding_lf": "labeling",
    "seed_lf": "labeling",
    "image_model_lf": "labeling",
    # label models
    "MajorityVote": "models",
    "WeightedMajorityVote": "models",
    "DawidSkene": "models",
    "OneCoinDawidSkene": "models",
    "MatrixCompletion": "models",
    "Triplet": "models",
    "GLAD": "models",
    "MACE": "models",
    "Wawa": "models",
    "AutoLabelModel": "models",
    "HyperLabelModel": "models",
    "learn_dependencies": "models",
    "OneVsRestLabelModel": "models",
    "MultiLabelDawidSkene": "models",
    # end models
    "SoftLabelClassifier": "endmodel",
    "TorchClassifier": "endmodel",
    "TemperatureScaling": "endmodel",
    # evaluation
    "expected_calibration_error": "evaluation",
    "reliability_curve": "evaluation",
    "slicing_function": "evaluation",
    "slice_report": "evaluation",
    "inject_noise": "evaluation",
    # label errors and human effort
    "find_label_issues": "cleaning",
    "rank_label_issues": "cleaning",
    "correct_labels": "cleaning",
    "LabelCleaner": "cleaning",
    "ActiveLoop": "active",
    # lineage store (imports duckdb when first used)
    "Store": "store",
}

_SUBMODULES = (
    "data", "labeling", "models", "endmodel", "evaluation", "features", "synthetic", "testing", "store",
    "cleaning", "active", "pipeline",
)

__all__ = [
    "ABSTAIN",
    "LabelMatrix",
    "SoftLabels",
    "MultiLabelMatrix",
    "MultiLabelSoftLabels",
    "PartitionedLabelMatrix",
    "PartitionedSoftLabels",
    "break_ties",
    "fingerprint",
    "save_state",
    "load_state",
    "WeaklabError",
    "ValidationError",
    "NotFittedError",
    "LFExecutionError",
    "StoreError",
    "SchemaVersionError",
    "MissingDependencyError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY or name in _CORE:
        value = getattr(importlib.import_module(f".{_LAZY.get(name, '_core')}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'weaklab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
