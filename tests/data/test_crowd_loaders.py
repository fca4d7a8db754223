"""Tests of the crowd loaders (long format, Zheng et al. 2017, Dawid & Skene 1979, CIFAR-10N)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import ValidationError
from weaklab.data import (
    load_cifar10n,
    load_crowd,
    load_dawid_skene_1979,
    load_zheng,
    load_zheng_numeric,
)

ZHENG = "crowd_zheng2017"


def expected_mv_accuracy(L, gold: np.ndarray) -> float:
    """Majority-vote accuracy on gold items, a tie between t classes counting 1/t (random tie-break)."""
    counts = L.class_counts()
    top = counts == counts.max(axis=1, keepdims=True)
    known = np.flatnonzero(gold >= 0)
    return float(np.mean(top[known, gold[known]] / top[known].sum(axis=1)))


@pytest.mark.realdata
def test_zheng_product_counts_and_majority_vote(dataset):
    """d_jn-product loads 24,945 answers on 8,315 items by 176 workers; majority vote scores 89.66 %."""
    ds = load_zheng(dataset(ZHENG) / "d_jn-product")
    assert ds.L.nnz == 24_945
    assert ds.L.shape == (8_315, 176)
    assert ds.L.is_sparse
    assert ds.has_gold.sum() == 8_315
    assert round(100 * expected_mv_accuracy(ds.L, ds.gold), 2) == 89.66


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "shape", "n_gold", "k", "mv"),
    [("d_sentiment", (1_000, 85), 1_000, 2, 93.35), ("s4_Relevance", (20_232, 766 + 202), 4_460, 4, 54.11)],
)
def test_zheng_other_sets(dataset, name, shape, n_gold, k, mv):
    """The other categorical Zheng sets give the README's counts and majority-vote accuracy.

    s4_Relevance has 1,570 repeated (item, worker) answers; the default ``duplicates="split"``
    keeps all 98,453 answers as votes (202 extra ``worker#n`` sources).
    """
    ds = load_zheng(dataset(ZHENG) / name)
    answers = pd.read_csv(dataset(ZHENG) / name / "answer.csv")
    assert ds.L.nnz == len(answers)
    assert ds.L.shape == shape and ds.n_classes == k
    assert ds.has_gold.sum() == n_gold
    assert round(100 * expected_mv_accuracy(ds.L, ds.gold), 2) == mv


@pytest.mark.realdata
def test_zheng_gold_aligned_to_rows(dataset):
    """Gold is aligned to the matrix rows by item id, -1 exactly where truth.csv has no entry."""
    folder = dataset(ZHENG) / "s4_Relevance"
    ds = load_zheng(folder)
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    ids = ds.L.item_ids
    np.testing.assert_array_equal(ds.items["id"].to_numpy(), ids)
    known = pd.Index(ids).isin(truth.index)
    np.testing.assert_array_equal(ds.gold[known], truth.reindex(ids[known]).to_numpy())
    assert (ds.gold[~known] == -1).all()


@pytest.mark.realdata
def test_zheng_duplicates_error_policy(dataset):
    """With duplicates="error" the repeated answers of s4_Relevance raise a ValidationError."""
    with pytest.raises(ValidationError, match="duplicates"):
        load_zheng(dataset(ZHENG) / "s4_Relevance", duplicates="error")


@pytest.mark.realdata
def test_zheng_numeric_set(dataset):
    """f201_Emotion_FULL is refused as a classification set and loads numerically with MAE 12.02."""
    folder = dataset(ZHENG) / "f201_Emotion_FULL"
    with pytest.raises(ValidationError, match="load_zheng_numeric"):
        load_zheng(folder)
    table = load_zheng_numeric(folder)
    assert list(table.columns) == ["item", "worker", "answer", "truth"]
    assert len(table) == 7_000 and table["item"].nunique() == 700 and table["worker"].nunique() == 38
    per_item = table.groupby("item")[["answer", "truth"]].mean()
    assert round(float((per_item["answer"] - per_item["truth"]).abs().mean()), 2) == 12.02


@pytest.mark.realdata
def test_dawid_skene_1979(dataset):
    """The 1979 data gives 45 patients x 7 sources with observer 1's repeats split into 1, 1#2, 1#3."""
    ds = load_dawid_skene_1979(dataset("crowd_dawid_skene_1979"))
    assert ds.L.shape == (45, 7)
    assert ds.L.source_names == ("1", "1#2", "1#3", "2", "3", "4", "5")
    assert ds.class_names == ("1", "2", "3", "4")
    assert ds.L.nnz == 315
    assert not ds.has_gold.any()
    raw = pd.read_csv(dataset("crowd_dawid_skene_1979") / "data.csv", sep=";")
    first = raw[raw.patient == 1]
    np.testing.assert_array_equal(np.asarray(ds.L)[0], first.response.to_numpy() - 1)


@pytest.mark.realdata
def test_cifar10n(dataset):
    """CIFAR-10N gives a 50,000 x 3 matrix whose disagreement with clean labels is 17.2/18.1/17.6 %."""
    ds = load_cifar10n(dataset("cifar10n"))
    assert ds.L.shape == (50_000, 3) and ds.n_classes == 10
    assert ds.L.source_names == ("random_label1", "random_label2", "random_label3")
    assert ds.class_names[0] == "airplane" and ds.class_names[9] == "truck"
    disagreement = (np.asarray(ds.L) != ds.gold[:, None]).mean(axis=0)
    np.testing.assert_array_equal(np.round(100 * disagreement, 1), [17.2, 18.1, 17.6])
    assert list(ds.items.columns) == ["id", "aggre_label", "worse_label"]
    assert ds.L.nnz == 150_000


# ------------------------------------------------------------------ long format (no shared data)


ANSWERS = pd.DataFrame({"task": ["a", "a", "b", "c", "c", "c"],
                        "who": ["w1", "w2", "w1", "w1", "w2", "w3"],
                        "y": [0, 1, 1, 2, 2, 0]})


def test_load_crowd_from_frame():
    """Long-format answers become one row per item and one source per worker."""
    L = load_crowd(ANSWERS, item="task", worker="who", label="y")
    assert L.shape == (3, 3) and L.n_classes == 3
    assert L.source_names == ("w1", "w2", "w3")
    np.testing.assert_array_equal(L.item_ids, ["a", "b", "c"])
    np.testing.assert_array_equal(np.asarray(L), [[0, 1, -1], [1, -1, -1], [2, 2, 0]])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_load_crowd_from_file_equals_frame(tmp_path, suffix):
    """Reading the same answers from CSV or Parquet gives the same matrix as from the DataFrame."""
    path = tmp_path / f"answers{suffix}"
    ANSWERS.to_csv(path, index=False) if suffix == ".csv" else ANSWERS.to_parquet(path)
    from_file = load_crowd(path, item="task", worker="who", label="y", sparse=True)
    from_frame = load_crowd(ANSWERS, item="task", worker="who", label="y", sparse=False)
    assert from_file.is_sparse and not from_frame.is_sparse
    assert from_file.equals(from_frame)


def test_load_crowd_class_names_and_options(tmp_path):
    """Answers given as class names map to their positions; read_kwargs reach the CSV reader."""
    frame = ANSWERS.assign(y=ANSWERS.y.map({0: "neg", 1: "neu", 2: "pos"}))
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False, sep=";")
    L = load_crowd(path, item="task", worker="who", label="y", class_names=["neg", "neu", "pos"],
                   read_kwargs={"sep": ";"})
    assert L.class_names == ("neg", "neu", "pos")
    np.testing.assert_array_equal(np.asarray(L)[2], [2, 2, 0])


def test_load_crowd_bad_inputs(tmp_path):
    """Missing columns, files, formats and repeated answers raise ValidationError naming the culprit."""
    with pytest.raises(ValidationError, match=r"data: expected columns .*missing \['worker'\]"):
        load_crowd(ANSWERS.rename(columns={"who": "x"}), item="task", label="y")
    with pytest.raises(ValidationError, match=r"answers.csv"):
        load_crowd(tmp_path / "answers.csv")
    (tmp_path / "answers.json").write_text("[]")
    with pytest.raises(ValidationError, match=r"answers.json"):
        load_crowd(tmp_path / "answers.json")
    repeated = pd.concat([ANSWERS, ANSWERS.iloc[:1]])
    with pytest.raises(ValidationError, match="duplicates"):
        load_crowd(repeated, item="task", worker="who", label="y")
    with pytest.raises(ValidationError, match="data"):
        load_crowd([1, 2, 3])


def test_zheng_layout_bad_inputs(tmp_path):
    """A Zheng folder without answer.csv, or with too few columns, raises naming the file."""
    with pytest.raises(ValidationError, match=r"answer.csv"):
        load_zheng(tmp_path)
    (tmp_path / "answer.csv").write_text("question,worker\nq1,w1\n")
    with pytest.raises(ValidationError, match="at least 3 columns"):
        load_zheng(tmp_path)
    (tmp_path / "answer.csv").write_text("question,worker,answer\nq1,w1,0\nq2,w1,1\n")
    ds = load_zheng(tmp_path, truth=None)
    assert ds.L.shape == (2, 1) and not ds.has_gold.any()
    (tmp_path / "answer.csv").write_text("question,worker,answer\nq1,w1,0.5\n")
    with pytest.raises(ValidationError, match="class ids"):
        load_zheng(tmp_path, truth=None)


def test_dawid_skene_bad_response(tmp_path):
    """A response outside 1..4 in the Dawid-Skene file raises naming the column."""
    (tmp_path / "data.csv").write_text("patient;observer;response\n1;1;1\n1;2;7\n")
    with pytest.raises(ValidationError, match="response"):
        load_dawid_skene_1979(tmp_path)


def test_cifar10n_bad_file(tmp_path):
    """An npz without the CIFAR-10N arrays, or a broken file, raises naming the file."""
    path = tmp_path / "CIFAR-10_human.npz"
    np.savez(path, clean_label=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValidationError, match="missing"):
        load_cifar10n(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(ValidationError, match="npz"):
        load_cifar10n(tmp_path)
