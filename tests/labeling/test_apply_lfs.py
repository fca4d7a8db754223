"""apply_lfs: matrices, reports, faults, process pools and input validation."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LabelMatrix, LFExecutionError, MissingDependencyError, ValidationError
from weaklab.labeling import (
    ApplyReport,
    LabelingFunction,
    apply_lfs,
    keyword_lf,
    labeling_function,
    regex_lf,
)

SPAM, HAM = 1, 0


@labeling_function()
def lf_link(x):
    return SPAM if "http" in x.text else ABSTAIN


@labeling_function(vectorized=True)
def lf_link_vec(df):
    return np.where(df["text"].str.contains("http", regex=False), SPAM, ABSTAIN)


@labeling_function()
def lf_short(x):
    return HAM if len(x.text.split()) < 3 else ABSTAIN


@labeling_function()
def lf_fails_on_boom(x):
    if "boom" in x.text:
        raise KeyError("boom!")
    return HAM


def texts(n=40):
    words = ["http://a.b", "song", "boom", "love it", "check out", "great video"]
    return pd.DataFrame({"text": [" ".join(words[(i * k) % 6] for k in range(1, 1 + i % 4)) or "x"
                                  for i in range(n)]},
                        index=pd.Index([f"c{i}" for i in range(n)], name="comment_id"))


def test_matrix_metadata_and_report():
    """The matrix carries names, fingerprints and item ids; the report's coverage matches the votes."""
    df = texts()
    lfs = [lf_link, lf_short, keyword_lf("song", HAM)]
    L, report = apply_lfs(lfs, df, progress=False)
    assert isinstance(L, LabelMatrix) and isinstance(report, ApplyReport)
    assert L.shape == (len(df), 3) and L.to_dense().dtype == np.int8
    assert L.source_names == ("lf_link", "lf_short", "keyword_song")
    assert L.source_versions == tuple(lf.fingerprint for lf in lfs)
    assert list(L.item_ids) == list(df.index)
    assert report.coverage == pytest.approx(tuple((L.to_dense() != ABSTAIN).mean(axis=0)))
    assert report.n_items == len(df) and report.engine == "local" and report.n_jobs == 1
    frame = report.to_frame()
    assert list(frame.index) == list(L.source_names)
    assert {"seconds", "coverage", "n_faults", "items_per_second"} <= set(frame.columns)
    json.dumps(report.to_dict())


def test_row_wise_and_vectorized_lfs_agree_and_batch_size_does_not_matter():
    """A row-wise and a vectorized LF with one rule agree, and any batch size gives the same matrix."""
    df = texts(53)
    reference, _ = apply_lfs([lf_link, lf_link_vec, lf_short], df, progress=False)
    dense = reference.to_dense()
    np.testing.assert_array_equal(dense[:, 0], dense[:, 1])
    for batch_size in (1, 7, 52):
        L, _ = apply_lfs([lf_link, lf_link_vec, lf_short], df, progress=False, batch_size=batch_size)
        assert L.equals(reference)


def test_inputs_as_records_and_columns_and_item_id_column():
    """A list of dicts and a dict of columns give the DataFrame's votes; item_id picks the id column."""
    df = texts(10).reset_index()
    from_df, _ = apply_lfs([lf_link, lf_short], df, item_id="comment_id", progress=False)
    from_records, _ = apply_lfs([lf_link, lf_short], df.to_dict("records"), item_id="comment_id",
                                progress=False)
    from_columns, _ = apply_lfs([lf_link, lf_short], df.to_dict("list"), item_id="comment_id",
                                progress=False)
    assert from_df.equals(from_records) and from_df.equals(from_columns)
    assert list(from_df.item_ids) == list(df["comment_id"])
    duplicated = pd.concat([df, df.iloc[:1]])
    L, _ = apply_lfs([lf_link], duplicated, progress=False)
    assert L.item_ids is None  # index not unique -> no ids
    with pytest.raises(ValidationError, match=r"item_id.*duplicate"):
        apply_lfs([lf_link], duplicated, item_id="comment_id", progress=False)
    with pytest.raises(ValidationError, match="item_id"):
        apply_lfs([lf_link], df, item_id="nope", progress=False)


def test_n_classes_inferred_given_and_named():
    """n_classes is max vote + 1 (at least 2) unless given; class_names fix it too."""
    df = texts(12)
    seven = LabelingFunction("seven", lambda d: np.full(len(d), 6), vectorized=True)
    L, _ = apply_lfs([seven], df, progress=False)
    assert L.n_classes == 7
    L, _ = apply_lfs([lf_short], df, progress=False)
    assert L.n_classes == 2
    L, _ = apply_lfs([lf_short], df, n_classes=4, progress=False)
    assert L.n_classes == 4
    L, _ = apply_lfs([lf_short, lf_link], df, class_names=["ham", "spam"], progress=False)
    assert L.class_names == ("ham", "spam")
    with pytest.raises(LFExecutionError, match=r"seven.*-1\.\.2"):
        apply_lfs([seven], df, n_classes=3, progress=False)


def test_many_classes_use_int16():
    """Votes beyond 127 classes are stored as int16."""
    big = LabelingFunction("big", lambda d: np.arange(len(d)) * 20, vectorized=True)
    L, _ = apply_lfs([big], texts(12), progress=False)
    assert L.n_classes == 221 and L.to_dense().dtype == np.int16


# ------------------------------------------------------------------------ faults


def test_raising_lf_names_lf_item_and_row_and_keeps_the_cause():
    """A raising LF stops the run with LFExecutionError naming LF, item id and row, caused by the original."""
    df = texts()
    row = int(np.flatnonzero(df["text"].str.contains("boom"))[0])
    with pytest.raises(LFExecutionError) as info:
        apply_lfs([lf_link, lf_fails_on_boom], df, progress=False)
    err = info.value
    assert err.lf_name == "lf_fails_on_boom" and err.item_id == df.index[row] and err.row == row
    assert isinstance(err.__cause__, KeyError) and err.original is err.__cause__
    assert "lf_fails_on_boom" in str(err) and repr(df.index[row]) in str(err)


def test_on_error_abstain_counts_and_records_faults():
    """With on_error="abstain" failing votes become -1, and each fault is counted and recorded."""
    df = texts()
    booms = df["text"].str.contains("boom").to_numpy()
    with pytest.warns(RuntimeWarning, match=f"{booms.sum()} vote"):
        L, report = apply_lfs([lf_link, lf_fails_on_boom], df, on_error="abstain", progress=False)
    np.testing.assert_array_equal(L.to_dense()[:, 1], np.where(booms, ABSTAIN, HAM))
    assert report.n_faults == (0, int(booms.sum())) and report.n_faults_total == booms.sum()
    assert [f.item_id for f in report.faults] == list(df.index[booms])
    assert all(f.lf_name == "lf_fails_on_boom" and "KeyError" in f.error for f in report.faults)
    assert [f.row for f in report.faults] == list(np.flatnonzero(booms))


@pytest.mark.parametrize(
    ("output", "match"),
    [
        (lambda d: np.full(len(d), -2), "vote -2"),
        (lambda d: np.full(len(d), 40_000), "vote 40000"),
        (lambda d: np.zeros(len(d) + 1, dtype=int), "shape"),
        (lambda d: np.zeros(len(d)), "dtype float64"),
        (lambda d: np.zeros(len(d), dtype=bool), "dtype bool"),
        (lambda d: np.array(["1"] * len(d)), "class name '1'.*class names need the class list"),
        (lambda d: 1, "int array"),
        (lambda d: [1.0] * len(d), "1.0 of type float"),
        (lambda d: [True] * len(d), "True of type bool"),
        (lambda d: [1] * (len(d) - 1), "votes for"),
    ],
)
def test_invalid_vectorized_outputs_are_execution_errors(output, match):
    """Out-of-range votes, wrong lengths, floats, bools, strings and scalars raise LFExecutionError."""
    lf = LabelingFunction("bad", output, vectorized=True)
    with pytest.raises(LFExecutionError, match=match):
        apply_lfs([lf], texts(5), progress=False)


@pytest.mark.parametrize("value", [1.0, "spam", None, True, -3, 2**70])
def test_invalid_row_wise_outputs_are_execution_errors(value):
    """A row-wise LF returning a non-int or out-of-range value raises LFExecutionError; abstain counts it."""
    lf = LabelingFunction("bad", lambda x, v=value: v if "song" in x.text else ABSTAIN)
    df = texts()
    with pytest.raises(LFExecutionError, match="'bad'"):
        apply_lfs([lf], df, progress=False)
    with pytest.warns(RuntimeWarning):
        L, report = apply_lfs([lf], df, on_error="abstain", progress=False)
    assert report.n_faults == (int(df["text"].str.contains("song").sum()),)
    np.testing.assert_array_equal(L.to_dense(), ABSTAIN)


# ------------------------------------------------------------------ process pool


def test_process_pool_gives_the_same_matrix_and_faults():
    """n_jobs=2 gives the n_jobs=1 matrix and fault records, for row-wise and vectorized LFs together."""
    df = texts(300)
    lfs = [lf_link, lf_short, lf_link_vec, lf_fails_on_boom, regex_lf(r"check\s+out", SPAM)]
    with pytest.warns(RuntimeWarning):
        serial, r1 = apply_lfs(lfs, df, on_error="abstain", batch_size=70, progress=False)
    with pytest.warns(RuntimeWarning):
        pooled, r2 = apply_lfs(lfs, df, on_error="abstain", batch_size=70, n_jobs=2, progress=False)
    assert pooled.equals(serial)
    assert r1.faults == r2.faults and r1.n_faults == r2.n_faults and r2.n_jobs == 2


def test_process_pool_raises_with_the_original_cause():
    """A fault inside a worker process surfaces as LFExecutionError with item id and original cause."""
    df = texts(120)
    with pytest.raises(LFExecutionError) as info:
        apply_lfs([lf_fails_on_boom], df, n_jobs=2, batch_size=50, progress=False)
    assert info.value.lf_name == "lf_fails_on_boom" and info.value.item_id in set(df.index)
    assert isinstance(info.value.__cause__, KeyError)


# -------------------------------------------------------------------- validation


def test_duplicate_names_and_bad_lf_lists_are_rejected():
    """Duplicate LF names, non-LF entries and empty lists raise ValidationError naming lfs."""
    with pytest.raises(ValidationError, match=r"unique names.*'keyword_free' 2 times"):
        apply_lfs([keyword_lf("free", 1), keyword_lf("free", 0)], texts(), progress=False)
    with pytest.raises(ValidationError, match="@labeling_function"):
        apply_lfs([lambda x: 1], texts(), progress=False)
    with pytest.raises(ValidationError, match="lfs"):
        apply_lfs([], texts(), progress=False)
    with pytest.raises(ValidationError, match="lfs"):
        apply_lfs(lf_link, texts(), progress=False)


def test_parameters_are_validated():
    """Bad engine, on_error, n_jobs, batch_size, progress, n_classes and data raise ValidationError."""
    df = texts()
    bad = [dict(engine="spark"), dict(on_error="ignore"), dict(n_jobs=0), dict(batch_size=0),
           dict(progress="yes"), dict(n_classes=1), dict(item_id=3)]
    for kwargs in bad:
        with pytest.raises(ValidationError, match=next(iter(kwargs))):
            apply_lfs([lf_link], df, **kwargs)
    with pytest.raises(ValidationError, match="data"):
        apply_lfs([lf_link], "not data")


def test_declared_fields_are_checked_before_running():
    """A row-wise LF that declares a missing field fails before running, listing the columns."""
    calls = []
    lf = LabelingFunction("needs_author", lambda x: calls.append(1) or 0, fields=["author"])
    with pytest.raises(ValidationError, match=r"'needs_author'.*'author'.*'text'"):
        apply_lfs([lf], texts(), progress=False)
    assert not calls


def test_progress_is_silent_when_not_interactive(capsys):
    """progress=True prints nothing in a non-interactive run."""
    apply_lfs([lf_link], texts(), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_dask_engine_without_dask_says_how_to_install(monkeypatch):
    """engine="dask" without dask installed raises MissingDependencyError with the extra's name."""
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(MissingDependencyError, match=r"weaklab\[dask\]"):
        apply_lfs([lf_link], texts(), engine="dask")


# --------------------------------------------------------------------- real data


def test_uci_youtube_comments_row_wise_vectorized_and_pooled(dataset):
    """On the UCI YouTube comments, row-wise, vectorized and pooled runs agree, with pandas' coverage."""
    folder = dataset("youtube_spam_collection_uci")
    df = pd.concat([pd.read_csv(p) for p in sorted(folder.glob("*.csv"))], ignore_index=True)
    df = df.rename(columns={"CONTENT": "text"})
    with pytest.raises(ValidationError, match="duplicate id"):  # the corpus repeats a few comment ids
        apply_lfs([lf_link], df, item_id="COMMENT_ID", progress=False)
    df = df.drop_duplicates("COMMENT_ID")

    @labeling_function()
    def lf_subscribe_rows(x):
        return SPAM if "subscribe" in x.text.lower() else ABSTAIN

    lfs = [lf_subscribe_rows, keyword_lf("subscribe", SPAM, whole_word=False), lf_link, lf_link_vec]
    L, report = apply_lfs(lfs, df, item_id="COMMENT_ID", progress=False)
    pooled, _ = apply_lfs(lfs, df, item_id="COMMENT_ID", n_jobs=2, batch_size=500, progress=False)
    assert pooled.equals(L) and L.n_items == len(df) > 1900
    dense = L.to_dense()
    np.testing.assert_array_equal(dense[:, 0], dense[:, 1])
    np.testing.assert_array_equal(dense[:, 2], dense[:, 3])
    expected = df["text"].str.lower().str.contains("subscribe", regex=False).mean()
    assert report.coverage[0] == pytest.approx(expected)
    spam = (df["CLASS"] == 1).to_numpy()
    assert (spam[dense[:, 2] == SPAM]).mean() > 0.9  # links are nearly always spam in this corpus


@pytest.mark.slow
def test_process_pool_without_fork_pickles_the_lfs(monkeypatch):
    """When fork is unsafe (other threads running) the pool spawns workers and still gives the same matrix."""
    import threading

    df = texts(60)
    serial, _ = apply_lfs([lf_link, lf_short], df, progress=False)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    pooled, _ = apply_lfs([lf_link, lf_short], df, n_jobs=2, batch_size=25, progress=False)
    assert pooled.equals(serial)


def test_user_lfs_reading_missing_columns_raise_validation_errors():
    """x.typo (row-wise) and df["typo"] (vectorized) raise ValidationError, even under abstain."""

    @labeling_function()
    def row_typo(x):
        return SPAM if x.txt else ABSTAIN

    @labeling_function(vectorized=True)
    def vec_typo(df):
        return np.where(df["txt"].str.len() > 3, SPAM, ABSTAIN)

    for lf in (row_typo, vec_typo):
        with pytest.raises(ValidationError, match=rf"'{lf.name}'.*'txt'.*'text'"):
            apply_lfs([lf], texts(), on_error="abstain", progress=False)
