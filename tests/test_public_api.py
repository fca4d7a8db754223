"""The public surface of `weaklab` is small, pinned and importable."""

from __future__ import annotations

import subprocess
import sys

import weaklab

EXPECTED = {
    "ABSTAIN", "LabelMatrix", "SoftLabels", "break_ties", "fingerprint",
    "WeaklabError", "ValidationError", "NotFittedError", "LFExecutionError", "StoreError",
    "SchemaVersionError", "MissingDependencyError", "__version__",
    "WeakLabelDataset", "load_wrench", "load_crowd", "load_zheng", "load_youtube_spam", "read_table",
    "LabelingFunction", "labeling_function", "preprocessor", "keyword_lf", "regex_lf", "lookup_lf",
    "threshold_lf", "model_lf", "apply_lfs", "ApplyReport", "lf_summary",
    "MajorityVote", "WeightedMajorityVote", "DawidSkene", "OneCoinDawidSkene", "MatrixCompletion",
    "Triplet", "GLAD", "MACE", "Wawa", "AutoLabelModel", "HyperLabelModel", "learn_dependencies",
    "SoftLabelClassifier", "TorchClassifier", "TemperatureScaling", "Store",
    "embedding_lf", "expected_calibration_error", "reliability_curve", "slicing_function", "slice_report",
    "inject_noise", "find_label_issues", "rank_label_issues", "correct_labels", "LabelCleaner", "ActiveLoop",
    # images as items (issue 13)
    "ImageItems", "load_image_folder", "load_image_table", "load_image_arrays", "seed_lf", "image_model_lf",
    # multi-label tasks (issue 16)
    "MultiLabelMatrix", "MultiLabelSoftLabels", "OneVsRestLabelModel", "MultiLabelDawidSkene",
    # partitioned votes and soft labels on Dask (issue 14)
    "PartitionedLabelMatrix", "PartitionedSoftLabels",
    # saving a model's state to files (JSON + .npz, no pickle)
    "save_state", "load_state",
}


def test_all_is_pinned():
    """weaklab.__all__ lists exactly the documented public names."""
    assert set(weaklab.__all__) == EXPECTED
    assert len(weaklab.__all__) == len(EXPECTED)


def test_every_public_name_resolves():
    """Every name in __all__ is an attribute of the package."""
    for name in weaklab.__all__:
        assert getattr(weaklab, name) is not None, name


def test_error_hierarchy():
    """All errors derive from WeaklabError; input errors are also ValueErrors."""
    assert issubclass(weaklab.ValidationError, ValueError)
    for name in ("ValidationError", "NotFittedError", "LFExecutionError", "StoreError",
                 "SchemaVersionError", "MissingDependencyError"):
        assert issubclass(getattr(weaklab, name), weaklab.WeaklabError)
    assert issubclass(weaklab.SchemaVersionError, weaklab.StoreError)


def test_unknown_attribute_raises_attribute_error():
    """A misspelt name raises AttributeError naming it."""
    try:
        weaklab.DawidSkeen  # noqa: B018
    except AttributeError as err:
        assert "DawidSkeen" in str(err)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_star_import_works_in_a_fresh_interpreter():
    """`from weaklab import *` imports every public name."""
    code = "from weaklab import *; print(DawidSkene.__name__, apply_lfs.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["DawidSkene", "apply_lfs"]
