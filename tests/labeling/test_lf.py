"""LabelingFunction, @labeling_function, @preprocessor and fingerprints."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LFExecutionError, ValidationError
from weaklab.labeling import (
    LabelingFunction,
    Preprocessor,
    apply_lfs,
    keyword_lf,
    labeling_function,
    preprocessor,
)

SPAM, HAM = 1, 0


@labeling_function
def lf_bare(x):
    return SPAM if "http" in x.text else ABSTAIN


@labeling_function(name="short", resources={"limit": 3})
def lf_short(x, limit):
    return HAM if len(x.text.split()) < limit else ABSTAIN


@labeling_function(vectorized=True)
def lf_vec_http(df):
    return np.where(df["text"].str.contains("http", regex=False), SPAM, ABSTAIN)


def frame():
    return pd.DataFrame({"text": ["see http://x", "nice song", "I love this song a lot"]})


def test_decorator_bare_and_with_arguments():
    """The decorator works bare and with arguments, keeping names and resources."""
    assert isinstance(lf_bare, LabelingFunction) and lf_bare.name == "lf_bare"
    assert lf_short.name == "short" and lf_short.resources == {"limit": 3}
    assert lf_vec_http.vectorized and not lf_bare.vectorized


def test_call_on_one_row_accepts_mappings_series_and_objects():
    """Calling an LF on one item gives the same vote for a dict, a Series and an object."""
    row = {"text": "visit http://spam"}
    for x in (row, pd.Series(row), SimpleNamespace(**row)):
        assert lf_bare(x) == SPAM
        assert lf_vec_http(x) == SPAM
    assert lf_short({"text": "so good"}) == HAM


def test_row_wise_and_vectorized_forms_agree_on_batches():
    """The same rule written row-wise and vectorized gives identical batch votes."""
    df = frame()
    np.testing.assert_array_equal(lf_bare.batch_votes(df), lf_vec_http.batch_votes(df))


def test_call_rejects_invalid_votes():
    """A direct call that returns a bool, float, empty name, None or a huge int raises LFExecutionError."""
    for bad in (True, 1.0, "", None, 10**6):
        lf = LabelingFunction("bad", lambda x, v=bad: v)
        with pytest.raises(LFExecutionError, match="bad"):
            lf({"text": "a"})


def test_a_direct_call_returns_the_class_name_a_row_wise_lf_votes():
    """Names become ids only where a class list is known (apply_lfs with class_names)."""
    assert LabelingFunction("named", lambda x: "spam")({"text": "a"}) == "spam"


def test_constructor_validates_arguments():
    """Bad names, functions, resources, preprocessors and fields raise ValidationError."""
    with pytest.raises(ValidationError, match="name"):
        LabelingFunction("", lambda x: 0)
    with pytest.raises(ValidationError, match="function"):
        LabelingFunction("a", 3)
    with pytest.raises(ValidationError, match="resources"):
        LabelingFunction("a", lambda x: 0, resources=[1])
    with pytest.raises(ValidationError, match="pre"):
        LabelingFunction("a", lambda x: 0, pre=[lambda x: x])
    with pytest.raises(ValidationError, match="fields"):
        LabelingFunction("a", lambda x: 0, fields=[1])
    row_pre = Preprocessor("p", lambda x: x)
    with pytest.raises(ValidationError, match="vectorized preprocessors"):
        LabelingFunction("a", lambda df: df, vectorized=True, pre=[row_pre])
    vec_pre = Preprocessor("v", lambda df: df, vectorized=True)
    with pytest.raises(ValidationError, match="before row-wise"):
        LabelingFunction("a", lambda x: 0, pre=[row_pre, vec_pre])


# ------------------------------------------------------------------ preprocessors

CALLS = {"n": 0}


@preprocessor
def add_words(x):
    CALLS["n"] += 1
    x.words = x.text.split()
    return x


@preprocessor(vectorized=True)
def add_n_words(df):
    df["n_words"] = df["text"].str.split().str.len()
    return df


@labeling_function(pre=[add_words])
def lf_many_words(x):
    return HAM if len(x.words) > 3 else ABSTAIN


@labeling_function(pre=[add_words])
def lf_few_words(x):
    return SPAM if len(x.words) <= 2 else ABSTAIN


@labeling_function(vectorized=True, pre=[add_n_words])
def lf_vec_many_words(df):
    return np.where(df["n_words"] > 3, HAM, ABSTAIN)


@labeling_function(pre=[add_n_words, add_words])
def lf_mixed_chain(x):
    return HAM if x.n_words == len(x.words) and x.n_words > 3 else ABSTAIN


def test_preprocessors_are_memoised_per_batch_and_do_not_leak():
    """Two LFs sharing a preprocessor run it once per row, and LFs without it see no new field."""
    CALLS["n"] = 0

    @labeling_function()
    def lf_no_words(x):
        return SPAM if "words" in x else ABSTAIN

    df = frame()
    L, _ = apply_lfs([lf_many_words, lf_few_words, lf_no_words], df, progress=False)
    assert CALLS["n"] == len(df)
    np.testing.assert_array_equal(L.to_dense()[:, 2], ABSTAIN)
    assert "words" not in df.columns


def test_vectorized_and_mixed_preprocessor_chains_agree_with_row_wise():
    """Vectorized, row-wise and mixed preprocessing chains give the same votes and leave the data intact."""
    df = frame()
    L, _ = apply_lfs([lf_many_words, lf_vec_many_words, lf_mixed_chain], df, progress=False)
    dense = L.to_dense()
    np.testing.assert_array_equal(dense[:, 0], dense[:, 1])
    np.testing.assert_array_equal(dense[:, 0], dense[:, 2])
    assert list(df.columns) == ["text"]


def test_preprocessor_returning_none_is_a_fault():
    """A row-wise preprocessor returning None makes LFExecutionError name the LF and the preprocessor."""
    broken = Preprocessor("broken", lambda x: None)
    lf = LabelingFunction("uses_broken", lambda x: 0, pre=[broken])
    with pytest.raises(LFExecutionError, match=r"uses_broken.*broken") as info:
        apply_lfs([lf], frame(), progress=False)
    assert info.value.lf_name == "uses_broken" and info.value.row == 0


def test_failing_vectorized_preprocessor_faults_the_whole_batch():
    """A vectorized preprocessor that raises makes every vote of its LFs a fault under abstain."""
    boom = Preprocessor("boom", lambda df: 1 / 0, vectorized=True)
    lf = LabelingFunction("vec", lambda df: np.zeros(len(df), int), vectorized=True, pre=[boom])
    with pytest.warns(RuntimeWarning, match="faults"):
        L, report = apply_lfs([lf, lf_bare], frame(), on_error="abstain", progress=False)
    assert report.n_faults == (3, 0)
    assert "ZeroDivisionError" in report.faults[0].error
    np.testing.assert_array_equal(L.to_dense()[:, 0], ABSTAIN)


# -------------------------------------------------------------------- fingerprints


def _make_keyword_rule(word):
    def rule(x):
        return SPAM if word in x.text else ABSTAIN

    return rule


def test_fingerprint_changes_with_code_parameters_and_resources():
    """Fingerprints differ when code, closure values, resources or template parameters differ."""
    a = LabelingFunction("a", _make_keyword_rule("free"))
    b = LabelingFunction("a", _make_keyword_rule("win"))
    assert a.fingerprint != b.fingerprint
    r1 = LabelingFunction("r", lf_short.function, resources={"limit": 3})
    r2 = LabelingFunction("r", lf_short.function, resources={"limit": 4})
    assert r1.fingerprint != r2.fingerprint
    renamed = LabelingFunction("other_name", lf_short.function, resources={"limit": 3})
    assert r1.fingerprint == renamed.fingerprint
    assert lf_bare.fingerprint != lf_vec_http.fingerprint
    k1, k2 = keyword_lf(["free"], SPAM), keyword_lf(["free"], HAM)
    assert k1.fingerprint != k2.fingerprint
    assert k1.fingerprint == keyword_lf(["free"], SPAM, name="renamed").fingerprint
    assert keyword_lf("free", 1, whole_word=False).fingerprint != k1.fingerprint


def test_fingerprint_covers_resource_contents():
    """Resources that are sets, DataFrames or arrays change the fingerprint when their contents change."""
    base = lf_short.function
    variants = [
        {"limit": {"a", "b"}}, {"limit": {"a", "c"}},
        {"limit": pd.DataFrame({"k": [1, 2]})}, {"limit": pd.DataFrame({"k": [1, 3]})},
        {"limit": np.arange(3)}, {"limit": np.arange(4)},
    ]
    prints = [LabelingFunction("r", base, resources=r).fingerprint for r in variants]
    assert len(set(prints)) == len(prints)


def test_fingerprint_is_identical_across_processes(tmp_path):
    """A fresh interpreter computes the same fingerprints for LFs defined in a module."""
    source = textwrap.dedent(
        """
        import numpy as np
        from weaklab.labeling import labeling_function, keyword_lf, regex_lf, preprocessor

        @preprocessor
        def lower(x):
            x.text = x.text.lower()
            return x

        @labeling_function(resources={"kb": {"spam", "eggs"}}, pre=[lower])
        def lf_kb(x, kb):
            return 1 if x.text in kb else -1

        LFS = [lf_kb, keyword_lf(["free", "win"], 1), regex_lf(r"check .* out", 1)]
        """
    )
    (tmp_path / "fingerprint_module.py").write_text(source)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import fingerprint_module as m; "
        "print(','.join(lf.fingerprint for lf in m.LFS))"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                       text=True, check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip()
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] and len(runs[0].split(",")) == 3


def test_pickling_keeps_module_level_lfs_and_templates_intact():
    """Module-level decorated LFs unpickle to the same object; templates to an equal-voting copy."""
    import pickle

    assert pickle.loads(pickle.dumps(lf_short)) is lf_short
    template = keyword_lf(["free", "win"], SPAM)
    copy = pickle.loads(pickle.dumps(template))
    df = pd.DataFrame({"text": ["free stuff", "winner", "you win"]})
    np.testing.assert_array_equal(copy.batch_votes(df), template.batch_votes(df))
    assert copy.fingerprint == template.fingerprint and copy.name == template.name
