"""Text inputs and TF-IDF features (thin helpers over scikit-learn)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from .._core.validation import check_int, fail

__all__ = ["as_texts", "tfidf_vectorizer", "tfidf_features"]


def as_texts(texts: Any, name: str = "texts") -> list[str]:
    """Check a sequence of strings (list, tuple, numpy array or pandas Series) and return it as a list.

    Parameters
    ----------
    texts : sequence of str
        A list, tuple, numpy array or pandas Series of strings.
    name : str, default="texts"
        The parameter name error messages use.

    Returns
    -------
    list of str
        The texts, in order.

    Raises
    ------
    ValidationError
        For a single string, a non-sequence, or an element that is not a
        string (e.g. a missing value), naming its position.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.features import as_texts
    >>> as_texts(pd.Series(["free money", "see you at 5"]))
    ['free money', 'see you at 5']
    >>> try:
    ...     as_texts(["ok", None])
    ... except ValueError as exc:
    ...     print(type(exc).__name__)
    ValidationError
    """
    if isinstance(texts, (str, bytes)) or not isinstance(texts, (Iterable, pd.Series, np.ndarray)):
        raise fail(name, "a sequence of strings", texts)
    items = texts.tolist() if isinstance(texts, (pd.Series, pd.Index, np.ndarray)) else list(texts)
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise fail(name, "only strings", got_text=f"{type(t).__name__} {t!r} at position {i}")
    return items


def tfidf_vectorizer(
    *,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int | float = 2,
    max_features: int | None = 50_000,
    sublinear_tf: bool = True,
    lowercase: bool = True,
    **params: Any,
) -> TfidfVectorizer:
    """An unfitted scikit-learn ``TfidfVectorizer`` with defaults suited to short texts.

    Parameters
    ----------
    ngram_range : tuple of int, default=(1, 2)
        Word uni- and bigrams.
    min_df : int or float, default=2
        Ignore terms in fewer documents (count) or a smaller share (float).
    max_features : int or None, default=50000
        Keep the most frequent terms.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.
    lowercase : bool, default=True
    **params
        Any other ``TfidfVectorizer`` parameter.

    Returns
    -------
    sklearn.feature_extraction.text.TfidfVectorizer

    Examples
    --------
    >>> from weaklab.features import tfidf_vectorizer
    >>> vectorizer = tfidf_vectorizer(min_df=1)
    >>> vectorizer.fit_transform(["free money now", "see you now"]).shape
    (2, 9)
    """
    if max_features is not None:
        check_int("max_features", max_features, low=1)
    return TfidfVectorizer(ngram_range=ngram_range, min_df=min_df, max_features=max_features,
                           sublinear_tf=sublinear_tf, lowercase=lowercase, **params)


def tfidf_features(fit_texts: Any, *other_texts: Any, **params: Any) -> list[Any]:
    """Fit TF-IDF on ``fit_texts`` and transform it and every other text sequence.

    Parameters
    ----------
    fit_texts : sequence of str
        Texts the vocabulary and IDF weights are learnt from (e.g. the
        training split; never the test split).
    *other_texts : sequence of str
        Further texts to transform with the fitted vectorizer.
    **params
        Passed to :func:`tfidf_vectorizer`.

    Returns
    -------
    list of scipy.sparse.csr_matrix
        ``[X_fit, X_other_1, ...]``, each of shape ``(n_texts, n_terms)``.

    Examples
    --------
    >>> from weaklab.features import tfidf_features
    >>> X_train, X_test = tfidf_features(["free money now", "see you now", "free tickets"], ["money for you"], min_df=1)
    >>> X_train.shape[0], X_test.shape[0], X_train.shape[1] == X_test.shape[1]
    (3, 1, True)
    """
    vec = tfidf_vectorizer(**params)
    out = [vec.fit_transform(as_texts(fit_texts, "fit_texts"))]
    out += [vec.transform(as_texts(t, f"other_texts[{i}]")) for i, t in enumerate(other_texts)]
    return out
