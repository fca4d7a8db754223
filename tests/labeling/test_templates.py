"""Templates: keyword_lf, regex_lf, lookup_lf, threshold_lf, model_lf."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weaklab import ABSTAIN, ValidationError
from weaklab.labeling import (
    apply_lfs,
    keyword_lf,
    labeling_function,
    lookup_lf,
    model_lf,
    regex_lf,
    threshold_lf,
)

SPAM, HAM = 1, 0
# Characters that stress the exact-semantics machinery: case folding (Kelvin sign, long s, dotless i,
# dotted I, final sigma), non-ASCII word characters, a BOM, emoji, control and separator characters.
ALPHABET = list("abcAKsS _-!\n\x1c\x0b19\u00e9\u212a\u017f\u0131\u0130\ufeff\U0001f600\u03a3\u03c2.")
texts = st.lists(st.text(alphabet=st.sampled_from(ALPHABET), max_size=14), min_size=1, max_size=25)


def votes(lf, values):
    return lf.batch_votes(pd.DataFrame({"text": values}))


# -------------------------------------------------------------------- keyword_lf


def test_keyword_lf_case_and_whole_words():
    """keyword_lf ignores case and matches whole words by default; options switch both off."""
    df = pd.DataFrame({"text": ["FREE stuff", "freedom", "get it free!", "Free", None, ""]})
    np.testing.assert_array_equal(keyword_lf("free", SPAM).batch_votes(df), [1, -1, 1, 1, -1, -1])
    np.testing.assert_array_equal(keyword_lf("free", SPAM, case_sensitive=True).batch_votes(df),
                                  [-1, -1, 1, -1, -1, -1])
    np.testing.assert_array_equal(keyword_lf("free", SPAM, whole_word=False).batch_votes(df),
                                  [1, 1, 1, 1, -1, -1])


def test_keyword_lf_phrases_and_punctuation():
    """Phrases and keywords with punctuation match as whole words, not inside other words."""
    lf = keyword_lf(["check out", "c++"], SPAM)
    got = votes(lf, ["pls CHECK OUT my page", "checkout", "I code c++ daily", "c++11", "abc++"])
    np.testing.assert_array_equal(got, [1, -1, 1, -1, -1])  # "c++11": a word character follows


KEYWORDS = ["ab", "s", "K", "\u0131", "\u00e91", "a b", "\u017fa", "\u03c3", "-!"]


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(texts, st.lists(st.sampled_from(KEYWORDS), min_size=1, max_size=3), st.booleans(), st.booleans())
def test_keyword_lf_equals_its_row_wise_definition(values, keywords, case_sensitive, whole_word):
    """Vectorized keyword_lf votes equal the documented row-wise re.search on (lower-cased) text."""
    lf = keyword_lf(keywords, SPAM, case_sensitive=case_sensitive, whole_word=whole_word)
    compared = keywords if case_sensitive else [k.lower() for k in keywords]
    body = "|".join(re.escape(k) for k in compared)
    pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)" if whole_word else body)

    @labeling_function()
    def row_wise(x):
        text = x.text if case_sensitive else x.text.lower()
        return SPAM if pattern.search(text) else ABSTAIN

    df = pd.DataFrame({"text": values})
    np.testing.assert_array_equal(lf.batch_votes(df), row_wise.batch_votes(df))


# ---------------------------------------------------------------------- regex_lf

ATOMS = ["abc", "sAb", "a", "K", "\u212a", "\u017f", "s", "\u0131", "\u00e9", "\u03a3", " ", "\n", ".",
         r"\w", r"\W", r"\d", r"\s", r"\S", "[a-c]", "[^ab]", r"[\w\-]", r"\b", r"\B", "^", "$", r"\A", r"\Z"]
patterns = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        inner.map(lambda s: f"(?:{s})*"),
        inner.map(lambda s: f"(?:{s}){{1,3}}?"),
        inner.map(lambda s: rf"(?<!\w){s}"),
        inner.map(lambda s: rf"{s}(?!\w)"),
        inner.map(lambda s: f"(?i:{s})"),
    ),
    max_leaves=6,
)
FLAGS = [0, re.IGNORECASE, re.MULTILINE, re.DOTALL, re.IGNORECASE | re.MULTILINE, re.ASCII]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(patterns, st.sampled_from(FLAGS), texts)
def test_regex_lf_equals_re_search(pattern, flags, values):
    """regex_lf votes equal re.search on every row, for random patterns, flags and Unicode text."""
    try:
        compiled = re.compile(pattern, flags)
    except re.error:
        return
    expected = [SPAM if compiled.search(v) else ABSTAIN for v in values]
    np.testing.assert_array_equal(votes(regex_lf(pattern, SPAM, flags=flags), values), expected)


def test_regex_lf_flags_and_compiled_patterns():
    """Flags and compiled patterns behave as in re.search; invalid patterns are ValidationErrors."""
    values = ["Check this OUT", "check\nout", "nothing"]
    np.testing.assert_array_equal(votes(regex_lf(r"check.*out", SPAM), values), [-1, -1, -1])
    np.testing.assert_array_equal(votes(regex_lf(r"check.*out", SPAM, flags=re.I), values), [1, -1, -1])
    np.testing.assert_array_equal(votes(regex_lf(re.compile(r"check.*out", re.I | re.S), SPAM), values),
                                  [1, 1, -1])
    np.testing.assert_array_equal(votes(regex_lf(r"^out", SPAM, flags=re.M), values), [-1, 1, -1])
    np.testing.assert_array_equal(votes(regex_lf(r"(\w)\1", SPAM), ["aab", "abc", "éé"]), [1, -1, 1])
    with pytest.raises(ValidationError, match="pattern"):
        regex_lf("(unclosed", SPAM)
    with pytest.raises(ValidationError, match="label"):
        regex_lf("a", -1)
    with pytest.raises(ValidationError, match="flags"):
        regex_lf("a", SPAM, flags="i")


def test_text_templates_reject_non_text_columns():
    """A keyword or regex LF over a column of numbers raises a ValidationError naming LF and column."""
    df = pd.DataFrame({"text": [1, 2]})
    with pytest.raises(ValidationError, match=r"kw.*'text'"):
        apply_lfs([keyword_lf("a", SPAM, name="kw")], df, progress=False)


def test_missing_field_lists_available_columns():
    """A template reading an absent column raises ValidationError naming the LF, the field and the columns."""
    df = pd.DataFrame({"body": ["a"], "author": ["b"]})
    with pytest.raises(ValidationError, match=r"'my_kw'.*'text'.*'body', 'author'"):
        apply_lfs([keyword_lf("a", SPAM, name="my_kw")], df, progress=False)


# --------------------------------------------------------------------- lookup_lf


def test_lookup_lf_kinds_of_knowledge_base():
    """A dict, a set with a label and a DataFrame of keys and labels give the same votes."""
    df = pd.DataFrame({"author": ["ann", "bob", None, "cid", "Ann"]})
    by_dict = lookup_lf({"ann": SPAM, "bob": HAM}, field="author", name="a")
    kb = pd.DataFrame({"key": ["ann", "bob"], "label": [SPAM, HAM]})
    by_frame = lookup_lf(kb, field="author", name="b")
    expected = [1, 0, -1, -1, -1]
    np.testing.assert_array_equal(by_dict.batch_votes(df), expected)
    np.testing.assert_array_equal(by_frame.batch_votes(df), expected)
    by_set = lookup_lf({"ann", "cid"}, field="author", label=SPAM)
    np.testing.assert_array_equal(by_set.batch_votes(df), [1, -1, -1, 1, -1])
    keys_only = lookup_lf(pd.DataFrame({"key": ["cid"]}), field="author", label=HAM)
    np.testing.assert_array_equal(keys_only.batch_votes(df), [-1, -1, -1, 0, -1])


def test_lookup_lf_normalize_and_numeric_keys():
    """normalize applies to keys and values; numeric columns look up numeric keys; NaN abstains."""
    df = pd.DataFrame({"author": [" ANN ", "ann", "Bob"], "uid": [7.0, np.nan, 3.0]})
    lf = lookup_lf({"Ann": SPAM}, field="author", normalize="lower_strip")
    np.testing.assert_array_equal(lf.batch_votes(df), [1, 1, -1])
    custom = lookup_lf({"ANN": SPAM}, field="author", normalize=lambda v: v.strip().upper())
    np.testing.assert_array_equal(custom.batch_votes(df), [1, 1, -1])
    np.testing.assert_array_equal(lookup_lf({7: HAM}, field="uid").batch_votes(df), [0, -1, -1])


def test_lookup_lf_validation():
    """Ambiguous or malformed knowledge bases raise ValidationError naming the parameter."""
    with pytest.raises(ValidationError, match="label"):
        lookup_lf({"a", "b"}, field="x")
    with pytest.raises(ValidationError, match="label"):
        lookup_lf({"a": 1}, field="x", label=1)
    with pytest.raises(ValidationError, match="one label per key"):
        lookup_lf(pd.DataFrame({"key": ["a", "a"], "label": [0, 1]}), field="x")
    with pytest.raises(ValidationError, match="after normalize"):
        lookup_lf({"A": 0, "a": 1}, field="x", normalize="lower")
    with pytest.raises(ValidationError, match="normalize"):
        lookup_lf({"a": 1}, field="x", normalize="upper")
    with pytest.raises(ValidationError, match="kb"):
        lookup_lf("abc", field="x", label=1)


# ------------------------------------------------------------------ threshold_lf


def test_threshold_lf_bounds_are_exclusive_and_nan_abstains():
    """threshold_lf votes strictly above/below/inside the band and abstains on missing values."""
    df = pd.DataFrame({"rating": [1.0, 2.0, 3.0, np.nan, 5.0], "n": pd.array([1, None, 3, 4, 5], "Int64")})
    above, below = threshold_lf("rating", above=2, label=1), threshold_lf("rating", below=2, label=0)
    np.testing.assert_array_equal(above.batch_votes(df), [-1, -1, 1, -1, 1])
    np.testing.assert_array_equal(below.batch_votes(df), [0, -1, -1, -1, -1])
    band = threshold_lf("rating", above=1, below=5, label=1)
    np.testing.assert_array_equal(band.batch_votes(df), [-1, 1, 1, -1, -1])
    np.testing.assert_array_equal(threshold_lf("n", above=3, label=1).batch_votes(df), [-1, -1, -1, 1, 1])


def test_threshold_lf_validation():
    """Missing thresholds, an empty band and a text column are ValidationErrors."""
    with pytest.raises(ValidationError, match="threshold"):
        threshold_lf("x", label=1)
    with pytest.raises(ValidationError, match="above"):
        threshold_lf("x", above=5, below=1, label=1)
    with pytest.raises(ValidationError, match="numbers"):
        threshold_lf("x", above=1, label=1).batch_votes(pd.DataFrame({"x": ["a", "b"]}))


# ---------------------------------------------------------------------- model_lf


def _fitted(labels, seed=0):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(-2, 1, (50, 1)), rng.normal(2, 1, (50, 1))]
    y = np.array([labels[0]] * 50 + [labels[1]] * 50)
    return LogisticRegression().fit(X, y)


def featurize(df):
    return df[["x"]].to_numpy()


def test_model_lf_threshold_and_class_mapping():
    """model_lf votes the argmax class only when its probability reaches the threshold, mapping classes."""
    df = pd.DataFrame({"x": np.linspace(-5, 5, 41)})
    est = _fitted([0, 1])
    proba = est.predict_proba(featurize(df))
    for threshold in (0.5, 0.9):
        expected = np.where(proba.max(axis=1) >= threshold, proba.argmax(axis=1), ABSTAIN)
        got = model_lf(est, featurizer=featurize, threshold=threshold).batch_votes(df)
        np.testing.assert_array_equal(got, expected)
    assert 0 < (expected == ABSTAIN).sum() < len(df) - 10  # threshold 0.9 abstains near the boundary only
    named = _fitted(["ham", "spam"])
    by_dict = model_lf(named, featurizer=featurize, classes={"ham": SPAM, "spam": HAM}, threshold=0.9)
    swapped = np.where(expected == ABSTAIN, ABSTAIN, 1 - expected)
    np.testing.assert_array_equal(by_dict.batch_votes(df), swapped)
    only_spam = model_lf(named, featurizer=featurize, classes=[-1, SPAM])
    np.testing.assert_array_equal(only_spam.batch_votes(df)[[0, -1]], [ABSTAIN, SPAM])
    with pytest.raises(ValidationError, match="classes"):
        model_lf(named, featurizer=featurize)


def test_model_lf_fingerprint_follows_the_fitted_state():
    """The fingerprint changes with the fitted coefficients and the threshold, not with the object."""
    a, b = _fitted([0, 1], seed=0), _fitted([0, 1], seed=1)
    same = _fitted([0, 1], seed=0)
    fp = model_lf(a, featurizer=featurize).fingerprint
    assert fp == model_lf(same, featurizer=featurize).fingerprint
    assert fp != model_lf(b, featurizer=featurize).fingerprint
    assert fp != model_lf(a, featurizer=featurize, threshold=0.7).fingerprint


def test_model_lf_rejects_unfitted_estimators():
    """An estimator without predict_proba/classes_ is a ValidationError."""
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValidationError, match="fitted estimator"):
        model_lf(LogisticRegression(), featurizer=featurize)
    with pytest.raises(ValidationError, match="threshold"):
        model_lf(_fitted([0, 1]), featurizer=featurize, threshold=1.5)


# ----------------------------------------------------------------- real data


def test_templates_reproduce_wrench_youtube_lf_votes(dataset):
    """Templates rebuild WRENCH YouTube's keyword, regex and length LFs vote for vote on all splits."""
    folder = dataset("wrench_youtube")

    @labeling_function(vectorized=True)
    def short_comment(df):
        return np.where(df["text"].str.split().str.len() < 5, HAM, ABSTAIN)

    lfs = [
        keyword_lf("my", SPAM, whole_word=False, name="keyword_my"),
        keyword_lf("subscribe", SPAM, whole_word=False, name="keyword_subscribe"),
        keyword_lf("http", SPAM, whole_word=False, name="keyword_link"),
        keyword_lf(["please", "plz"], SPAM, whole_word=False, name="keyword_please"),
        keyword_lf("song", HAM, whole_word=False, name="keyword_song"),
        regex_lf(r"check.*out", SPAM, flags=re.I, name="regex_check_out"),
        short_comment,
    ]
    for split in ("train", "valid", "test"):
        items = json.loads((folder / f"{split}.json").read_text())
        df = pd.DataFrame({"text": [v["data"]["text"] for v in items.values()]}, index=list(items))
        wrench = np.array([v["weak_labels"][:7] for v in items.values()])
        L, report = apply_lfs(lfs, df, progress=False)
        np.testing.assert_array_equal(L.to_dense(), wrench)
        assert list(L.item_ids) == list(items)
        assert report.coverage == pytest.approx(tuple((wrench != ABSTAIN).mean(axis=0)))


def test_default_text_field_context_sets_the_column_templates_read():
    """Inside default_text_field("headline") keyword_lf/regex_lf default to that column; outside, to "text"."""
    import inspect

    from weaklab.labeling import default_text_field

    frame = pd.DataFrame({"headline": ["win free money", "nice song"], "text": ["nice song", "win free money"]})
    with default_text_field("headline"):
        kw, rx = keyword_lf(["free"], 1), regex_lf(r"song", 0)
        explicit = keyword_lf(["free"], 1, field="text")
    outside = keyword_lf(["free"], 1)
    assert kw.params["field"] == rx.params["field"] == "headline"
    assert explicit.params["field"] == outside.params["field"] == "text"
    assert list(kw.batch_votes(frame)) == [1, -1] and list(rx.batch_votes(frame)) == [-1, 0]
    assert list(outside.batch_votes(frame)) == [-1, 1]
    assert kw.fingerprint != outside.fingerprint  # the column read is part of the LF's version
    assert inspect.signature(keyword_lf).parameters["field"].default == "text"  # DESIGN.md's signature
    with pytest.raises(ValidationError, match="field"):
        with default_text_field(""):
            pass
