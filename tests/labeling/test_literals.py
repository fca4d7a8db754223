"""The shared literal pass: every row holding a literal is found, by either search strategy."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weaklab import ABSTAIN
from weaklab.labeling import apply_lfs, keyword_lf, labeling_function, regex_lf
from weaklab.labeling._literals import LiteralIndex, literal_rows

# Short, overlapping literals ("aba" inside "ababa", "ba" across rows), non-ASCII and control characters.
ALPHABET = list("aaabbb \n\x01\x02é\u212a\U0001f600")
LITERALS = ["a", "ab", "ba", "aba", "bab", "b b", "é", "\u212a", "\U0001f600a", "\x01", "a\nb"]
rows_of_text = st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(ALPHABET), max_size=9)),
                        min_size=1, max_size=30)


def _column(values, start=0):
    array = pa.array(values, type=pa.large_string())
    return array.slice(start) if start else array


@pytest.fixture(params=["per-literal", "one-pass"])
def strategy(request, monkeypatch):
    """Force either search strategy (the cost model would pick one by the text's byte frequencies)."""
    monkeypatch.setattr("weaklab.labeling._literals._one_pass_pays", lambda data, lits: request.param == "one-pass")
    return request.param


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(rows_of_text, st.lists(st.sampled_from(LITERALS), min_size=1, max_size=5), st.integers(0, 3))
def test_every_row_with_a_literal_is_found(strategy, values, literals, start):
    array = _column(values, start=min(start, len(values) - 1))
    shown = array.to_pylist()
    found = literal_rows(array, literals)
    for lit in set(literals):
        truth = np.array([v is not None and lit in v for v in shown])
        assert not np.any(truth & ~found[lit]), (lit, shown)


def test_occurrences_hidden_by_an_earlier_match_are_found(strategy):
    """A match running into the next row, or overlapping another literal, must not hide an occurrence."""
    found = literal_rows(_column(["ab", "aba", "x"]), ["aba"])  # "ababa": the first match eats row 1's "a"
    np.testing.assert_array_equal(found["aba"], [True, True, False])
    found = literal_rows(_column(["xabay", "ba"]), ["aba", "ba"])  # "ba" inside the match "aba"
    assert found["ba"][0] and found["ba"][1]
    found = literal_rows(_column(["a", "bab", "b"]), ["ab", "bab"])
    assert found["bab"][1] and found["ab"][1]


def test_mostly_exact_on_plain_text(strategy):
    """Rows are marked only where a literal (or one it can hide behind) occurs."""
    values = ["free money", "freedom", "nothing", "", None, "cash", "money free"]
    found = literal_rows(_column(values), ["free", "money", "zzz"])
    np.testing.assert_array_equal(found["free"], [1, 1, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(found["money"], [1, 0, 0, 0, 0, 0, 1])
    assert not found["zzz"].any()


def test_marker_byte_in_text_falls_back(monkeypatch):
    """When every marker byte occurs in the text, the literals are searched one by one."""
    monkeypatch.setattr("weaklab.labeling._literals._one_pass_pays", lambda data, lits: True)
    monkeypatch.setattr("weaklab.labeling._literals._MARKERS", (1,))
    values = ["\x01ab", "ba", "x"]
    found = literal_rows(_column(values), ["ab", "ba"])
    np.testing.assert_array_equal(found["ab"], [1, 0, 0])
    np.testing.assert_array_equal(found["ba"], [0, 1, 0])


def test_index_answers_new_literals_later():
    index = LiteralIndex(_column(["spam here", "ham"]), wanted={"spam"})
    np.testing.assert_array_equal(index.rows({"spam"}), [True, False])
    np.testing.assert_array_equal(index.rows({"ham", "spam"}), [True, True])


KEYWORDS = ["ab", "b", "a b", "é", "\u212a"]
PATTERNS = [r"a\s*b", r"(?:ba|ab)+", "b{2,}", r"\bab\b", "é", "(?i)k"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(alphabet=st.sampled_from(list("abAB \né\u212ak")), max_size=10), min_size=1, max_size=40))
def test_lfs_sharing_one_pass_equal_their_row_wise_definitions(strategy, values):
    """Several keyword and regex LFs applied together (one shared literal pass) vote as re.search does."""
    lfs = [keyword_lf([k], 1, name=f"kw{i}") for i, k in enumerate(KEYWORDS)]
    lfs += [regex_lf(p, 1, name=f"re{i}") for i, p in enumerate(PATTERNS)]
    L, _ = apply_lfs(lfs, pd.DataFrame({"text": values}), progress=False, batch_size=7)
    expected = []
    for k in KEYWORDS:
        rx = re.compile(rf"(?<!\w)(?:{re.escape(k.lower())})(?!\w)")
        expected.append([1 if rx.search(v.lower()) else ABSTAIN for v in values])
    for p in PATTERNS:
        rx = re.compile(p)
        expected.append([1 if rx.search(v) else ABSTAIN for v in values])
    np.testing.assert_array_equal(L.to_dense(), np.array(expected).T)


def test_row_wise_lf_sees_the_same_rows():
    """A plain row-wise LF next to templates is unaffected by the shared pass."""

    @labeling_function()
    def has_x(x):
        return 1 if "x" in x.text else ABSTAIN

    df = pd.DataFrame({"text": ["x ab", "ab", "b"]})
    L, _ = apply_lfs([has_x, keyword_lf("ab", 1)], df, progress=False)
    np.testing.assert_array_equal(L.to_dense(), [[1, 1], [-1, 1], [-1, -1]])
