"""Tests of the WRENCH JSON loader on the shared benchmark folders and on bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab import LabelMatrix, ValidationError
from weaklab.data import WeakLabelDataset, load_wrench

# folder -> (n_sources, n_classes, {split: n_items}) from the data README table
DOCUMENTED = {
    "wrench_youtube": (10, 2, {"train": 1586, "valid": 120, "test": 250}),
    "wrench_sms": (73, 2, {"train": 4571, "valid": 500, "test": 500}),
    "wrench_trec": (68, 6, {"train": 5033, "valid": 500, "test": 500}),
    "ws_hausa_news": (5, 5, {"train": 2045, "valid": 290, "test": 582}),
}

# folder -> (majority-vote accuracy on covered test items, test coverage), README reference figures
REFERENCE_MV = {"wrench_youtube": (0.802, 0.928), "wrench_sms": (0.813, 0.396), "wrench_trec": (0.593, 0.962)}


def majority_vote_lowest_tie(votes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Majority vote over non-abstaining votes; ties go to the lowest class id (np.argmax)."""
    counts = np.stack([(votes == c).sum(axis=1) for c in range(k)], axis=1)
    return counts.argmax(axis=1), counts.sum(axis=1) > 0


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_counts(dataset, name):
    """Every split has the README's number of items, sources and classes, with gold for every item."""
    m, k, sizes = DOCUMENTED[name]
    splits = load_wrench(dataset(name), split=None)
    assert set(splits) == {"train", "valid", "test"}
    for split, ds in splits.items():
        assert isinstance(ds, WeakLabelDataset)
        assert ds.L.shape == (sizes[split], m)
        assert ds.n_classes == k and len(ds.class_names) == k
        assert len(ds.items) == len(ds.gold) == sizes[split]
        assert ds.has_gold.all()
        assert ds.split == split and ds.name == name


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(REFERENCE_MV))
def test_majority_vote_matches_reference(dataset, name):
    """Majority vote on the test split reproduces the README's accuracy and coverage to 3 decimals.

    The README's figures break ties towards the lowest class id (as ``np.argmax`` does).
    """
    ds = load_wrench(dataset(name), split="test")
    pred, covered = majority_vote_lowest_tie(np.asarray(ds.L), ds.n_classes)
    accuracy = np.mean(pred[covered] == ds.gold[covered])
    want_acc, want_cov = REFERENCE_MV[name]
    assert round(float(accuracy), 3) == want_acc
    assert round(float(covered.mean()), 3) == want_cov


@pytest.mark.realdata
def test_items_align_with_matrix(dataset):
    """Item ids, texts and class names line up with the raw JSON file, entry by entry."""
    folder = dataset("wrench_youtube")
    raw = json.loads((folder / "test.json").read_text(encoding="utf-8"))
    ds = load_wrench(folder, split="test")
    assert ds.class_names == ("HAM", "SPAM")
    assert ds.L.source_names == tuple(f"lf{j}" for j in range(10))
    np.testing.assert_array_equal(ds.items["id"].to_numpy(), [int(i) for i in raw])
    np.testing.assert_array_equal(ds.L.item_ids, ds.items["id"].to_numpy())
    assert list(ds.items["text"]) == [e["data"]["text"] for e in raw.values()]
    np.testing.assert_array_equal(np.asarray(ds.L), [e["weak_labels"] for e in raw.values()])
    np.testing.assert_array_equal(ds.gold, [e["label"] for e in raw.values()])


@pytest.mark.realdata
def test_trec_drop_labeled_gives_wrench_train(dataset):
    """Dropping trec's labeled_ids removes exactly the 68 appended gold items (ids 4965-5032)."""
    full = load_wrench(dataset("wrench_trec"))
    dropped = load_wrench(dataset("wrench_trec"), drop_labeled=True)
    assert full.items["is_labeled"].sum() == 68
    np.testing.assert_array_equal(full.items.loc[full.items["is_labeled"], "id"], np.arange(4965, 5033))
    assert dropped.L.shape == (4965, 68)
    assert not dropped.items["is_labeled"].any()
    np.testing.assert_array_equal(np.asarray(dropped.L), np.asarray(full.L)[:4965])


@pytest.mark.realdata
def test_labeled_ids_only_mark_train(dataset):
    """labeled_ids apply to the train split only; valid/test are never marked or dropped."""
    test = load_wrench(dataset("wrench_sms"), split="test", drop_labeled=True)
    assert len(test) == 500 and not test.items["is_labeled"].any()
    train = load_wrench(dataset("wrench_sms"), drop_labeled=True)
    assert len(train) == 4571 - 69


@pytest.mark.realdata
def test_custom_source_names(dataset):
    """Given source names replace lf0..lfN and must match the number of vote columns."""
    names = [f"rule_{j}" for j in range(10)]
    ds = load_wrench(dataset("wrench_youtube"), split="valid", source_names=names)
    assert ds.L.source_names == tuple(names)
    with pytest.raises(ValidationError, match="source_names"):
        load_wrench(dataset("wrench_youtube"), split="valid", source_names=names[:3])


# ---------------------------------------------------------------- bad inputs (no shared data needed)


def _write_folder(tmp_path, entries, labels=None):
    (tmp_path / "label.json").write_text(json.dumps(labels or {"0": "neg", "1": "pos"}))
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.json").write_text(json.dumps(entries))
    return tmp_path


GOOD = {"0": {"label": 1, "weak_labels": [1, -1], "data": {"text": "a"}},
        "1": {"label": 0, "weak_labels": [-1, 0], "data": {"text": "b"}}}


def test_small_folder_roundtrip(tmp_path):
    """A hand-written folder loads into a dense matrix with the given votes and gold."""
    ds = load_wrench(_write_folder(tmp_path, GOOD), split="train")
    assert isinstance(ds.L, LabelMatrix)
    np.testing.assert_array_equal(np.asarray(ds.L), [[1, -1], [-1, 0]])
    np.testing.assert_array_equal(ds.gold, [1, 0])
    assert list(ds.items.columns) == ["id", "text", "is_labeled"]
    assert ds.name == tmp_path.name


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda p: (p / "train.json").unlink(), "train.json"),
        (lambda p: (p / "label.json").unlink(), "label.json"),
        (lambda p: (p / "train.json").write_text("{not json"), "valid JSON"),
        (lambda p: (p / "train.json").write_text(json.dumps({"0": {"label": 1}})), "weak_labels"),
        (lambda p: (p / "train.json").write_text(json.dumps(
            {"0": {"label": 1, "weak_labels": [1, 0]}, "1": {"label": 0, "weak_labels": [1]}})), "'1'"),
        (lambda p: (p / "train.json").write_text(json.dumps({"0": {"label": 1, "weak_labels": [2, 0]}})),
         r"values in \[-1, 2\)"),
        (lambda p: (p / "train.json").write_text(json.dumps({"0": {"label": 5, "weak_labels": [1, 0]}})),
         "label"),
        (lambda p: (p / "label.json").write_text(json.dumps({"0": "a", "2": "b"})), "class ids 0..k-1"),
    ],
)
def test_bad_folder_raises_naming_the_file(tmp_path, mutate, match):
    """Missing files, bad JSON, missing fields, ragged votes and out-of-range values raise ValidationError."""
    folder = _write_folder(tmp_path, GOOD)
    mutate(folder)
    with pytest.raises(ValidationError, match=match):
        load_wrench(folder, split="train")


def test_bad_arguments(tmp_path):
    """A missing folder, an unknown split and a non-bool drop_labeled are rejected by name."""
    with pytest.raises(ValidationError, match="path: expected an existing folder"):
        load_wrench(tmp_path / "nope")
    folder = _write_folder(tmp_path, GOOD)
    with pytest.raises(ValidationError, match="split"):
        load_wrench(folder, split="dev")
    with pytest.raises(ValidationError, match="drop_labeled"):
        load_wrench(folder, drop_labeled="yes")
