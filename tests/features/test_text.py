"""Text inputs and TF-IDF helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.features import as_texts, tfidf_features, tfidf_vectorizer


def test_as_texts_accepts_sequences_and_rejects_non_strings():
    """Lists, arrays and Series become lists; a missing value is reported with its position."""
    assert as_texts(pd.Series(["a", "b"])) == ["a", "b"]
    assert as_texts(np.array(["x"])) == ["x"]
    with pytest.raises(ValidationError, match="expected only strings, got NoneType None at position 1"):
        as_texts(["a", None])
    with pytest.raises(ValidationError, match="texts: expected a sequence of strings"):
        as_texts("just one string")


def test_tfidf_features_fit_on_the_first_texts_only():
    """The vocabulary comes from the fit texts; other texts are transformed into the same columns."""
    train = ["free money now", "free prize now", "hello friend", "hello there friend"]
    test = ["free friend", "unseen words only"]
    X_train, X_test = tfidf_features(train, test, min_df=1, ngram_range=(1, 1))
    assert X_train.shape[0] == 4 and X_test.shape == (2, X_train.shape[1])
    assert X_test[1].nnz == 0
    np.testing.assert_allclose(np.sqrt(X_train.multiply(X_train).sum(axis=1)).A.ravel(), 1.0)


def test_tfidf_vectorizer_defaults_and_overrides():
    """The helper sets short-text defaults and passes other parameters through."""
    vec = tfidf_vectorizer(stop_words="english")
    assert vec.ngram_range == (1, 2) and vec.sublinear_tf and vec.stop_words == "english"
    with pytest.raises(ValidationError, match="max_features"):
        tfidf_vectorizer(max_features=0)
