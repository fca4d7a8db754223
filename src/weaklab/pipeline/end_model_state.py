"""The text end model of a project (TF-IDF + logistic regression) as a state: JSON and arrays, never pickle.

:func:`text_model_state` takes the fitted vectorizer and classifier of a
``train`` step apart into plain arrays (the vocabulary in column order, the
IDF weights, the coefficients, intercepts and classes) and says whether the
classifier also reads the sources' votes (:func:`~weaklab.endmodel.vote_features`).
:class:`TextEndModel` puts them back together and predicts on new texts with
exactly the probabilities the run recorded for its own items.
:class:`PartitionedEndModel` does the same for the out-of-core counterpart
a run on the Dask engine trains (:class:`~weaklab.endmodel.PartitionedTextClassifier`,
whose own ``to_state`` keeps the hashed feature columns it uses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .._core.validation import fail
from ..endmodel import PartitionedTextClassifier, vote_features

__all__ = ["STATE_VERSION", "PartitionedEndModel", "TextEndModel", "text_model_state", "text_vectorizer",
           "vectorizer_arrays", "vectorizer_from_arrays"]

#: Version of the state layout (bumped when its keys change).
STATE_VERSION = 1


def text_vectorizer(params: Mapping[str, Any]) -> TfidfVectorizer:
    """The TF-IDF vectorizer of the tfidf_logreg end model (word 1..``ngram_max``-grams, sublinear tf)."""
    return TfidfVectorizer(ngram_range=(1, int(params["ngram_max"])), min_df=params["min_df"], sublinear_tf=True)


def vectorizer_arrays(vectorizer: TfidfVectorizer) -> dict[str, np.ndarray]:
    """A fitted TF-IDF vectorizer as plain arrays: ``terms`` (by column) and ``idf``.

    Examples
    --------
    >>> vec = text_vectorizer({"ngram_max": 1, "min_df": 1}).fit(["song free", "free"])
    >>> vectorizer_arrays(vec)["terms"].tolist()
    ['free', 'song']
    """
    terms = np.empty(len(vectorizer.vocabulary_), dtype=object)
    for term, column in vectorizer.vocabulary_.items():
        terms[column] = term
    return {"terms": terms.astype(str), "idf": np.asarray(vectorizer.idf_, dtype=np.float64)}


def vectorizer_from_arrays(params: Mapping[str, Any], arrays: Mapping[str, Any]) -> TfidfVectorizer:
    """The fitted vectorizer back from :func:`vectorizer_arrays` and the end model's ``params``.

    Examples
    --------
    >>> vec = text_vectorizer({"ngram_max": 1, "min_df": 1}).fit(["song free", "free"])
    >>> again = vectorizer_from_arrays({"ngram_max": 1}, vectorizer_arrays(vec))
    >>> bool((again.transform(["free song"]) != vec.transform(["free song"])).nnz == 0)
    True
    """
    vectorizer = text_vectorizer({"ngram_max": 2, "min_df": 1, **params})
    vectorizer.vocabulary_ = {str(t): i for i, t in enumerate(arrays["terms"].tolist())}
    vectorizer.idf_ = np.asarray(arrays["idf"], dtype=np.float64)
    return vectorizer


def text_model_state(vectorizer: TfidfVectorizer, estimator: LogisticRegression, *, params: Mapping[str, Any],
                     features: str, n_classes: int, class_names: Sequence[str] | None,
                     source_names: Sequence[str], source_versions: Sequence[str]) -> dict[str, Any]:
    """The fitted end model as JSON-able keys plus ``"arrays"``.

    Parameters
    ----------
    vectorizer : TfidfVectorizer
        Fitted on the project's texts.
    estimator : LogisticRegression
        The fitted classifier (``SoftLabelClassifier.estimator_``).
    params : dict
        The end model's parameters (``ngram_max``, ``min_df``, ``C``, ``max_iter``).
    features : {"X", "X+votes"}
        Whether the classifier reads the TF-IDF features alone or with the votes.
    n_classes : int
    class_names : sequence of str, optional
    source_names, source_versions : sequence of str
        The sources whose votes ``"X+votes"`` reads (their versions must match on new data).

    Returns
    -------
    dict

    Examples
    --------
    >>> texts = pd.Series(["free money", "nice song", "free prize", "good song"])
    >>> vec = text_vectorizer({"ngram_max": 1, "min_df": 1})
    >>> clf = LogisticRegression().fit(vec.fit_transform(texts), [1, 0, 1, 0])
    >>> state = text_model_state(vec, clf, params={"ngram_max": 1, "min_df": 1}, features="X", n_classes=2,
    ...                          class_names=["ham", "spam"], source_names=[], source_versions=[])
    >>> model = TextEndModel.from_state(state)
    >>> model.predict_proba(pd.Series(["free stuff"]), None).argmax(axis=1).tolist()
    [1]
    """
    if features not in ("X", "X+votes"):
        raise fail("features", "'X' or 'X+votes'", features)
    return {
        "class": "tfidf_logreg", "version": STATE_VERSION, "params": dict(params), "features": features,
        "n_classes": int(n_classes), "class_names": None if class_names is None else [str(c) for c in class_names],
        "source_names": [str(s) for s in source_names], "source_versions": [str(v) for v in source_versions],
        "arrays": {**vectorizer_arrays(vectorizer),
                   "coef": np.asarray(estimator.coef_, dtype=np.float64),
                   "intercept": np.asarray(estimator.intercept_, dtype=np.float64),
                   "classes": np.asarray(estimator.classes_, dtype=np.int64)},
    }


@dataclass(frozen=True)
class TextEndModel:
    """A recorded tfidf_logreg end model, rebuilt from its state (see :func:`text_model_state`)."""

    state: dict[str, Any]
    vectorizer: TfidfVectorizer
    estimator: LogisticRegression

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TextEndModel:
        """Rebuild the vectorizer and the classifier from plain arrays."""
        if state.get("class") != "tfidf_logreg" or state.get("version") != STATE_VERSION:
            raise fail("state", f"a tfidf_logreg end-model state of version {STATE_VERSION}",
                       got_text=f"{state.get('class')!r} version {state.get('version')!r}")
        arrays = state["arrays"]
        vectorizer = vectorizer_from_arrays(state["params"], arrays)
        estimator = LogisticRegression()
        estimator.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
        estimator.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
        estimator.classes_ = np.asarray(arrays["classes"], dtype=np.int64)
        estimator.n_features_in_ = int(estimator.coef_.shape[1])
        return cls(dict(state), vectorizer, estimator)

    @property
    def reads_votes(self) -> bool:
        """Whether the classifier reads the sources' votes besides the texts."""
        return bool(self.state["features"] == "X+votes")

    def predict_proba(self, texts: pd.Series, votes: np.ndarray | None) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` of ``texts`` (and the votes on them, when it reads votes)."""
        X: Any = self.vectorizer.transform(texts.fillna("").astype(str))
        if self.reads_votes:
            if votes is None:
                raise fail("votes", "the sources' votes on the items (this end model reads them)", None)
            X = sp.hstack([sp.csr_matrix(X), vote_features(votes, int(self.state["n_classes"]))], format="csr")
        raw = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        out = np.zeros((raw.shape[0], int(self.state["n_classes"])))
        out[:, np.asarray(self.estimator.classes_, dtype=np.int64)] = raw
        return out


@dataclass(frozen=True)
class PartitionedEndModel:
    """A Dask run's end model rebuilt from its recorded state: it predicts texts in memory, no Dask needed.

    ``state`` is :meth:`PartitionedTextClassifier.to_state` plus what
    ``weaklab predict`` reads beside it (``n_classes``, ``class_names``,
    ``source_names``, ``source_versions`` and the calibrator, when fitted).

    Examples
    --------
    >>> import tempfile, dask.dataframe as dd
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> from weaklab.models import MajorityVote
    >>> texts = pd.Series(["free money now", "see you soon", "free prize", "lunch soon?"] * 5)
    >>> votes = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(np.array([[1], [0]] * 10))])
    >>> soft = MajorityVote().fit(votes).predict_proba(votes)
    >>> fitted = PartitionedTextClassifier(random_state=0).fit(dd.from_pandas(texts, npartitions=1), soft)
    >>> model = PartitionedEndModel.from_state({**fitted.to_state(), "n_classes": 2})
    >>> model.predict_proba(pd.Series(["free money"]), None).argmax(axis=1).tolist()
    [1]
    """

    state: dict[str, Any]
    model: PartitionedTextClassifier
    reads_votes = False  # the class attribute TextEndModel answers per state: this model reads the texts alone

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PartitionedEndModel:
        """Rebuild the classifier (a ValidationError names the state when it is another model's)."""
        return cls(dict(state), PartitionedTextClassifier.from_state(dict(state)))

    def predict_proba(self, texts: pd.Series, votes: np.ndarray | None) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` of ``texts`` (``votes`` is not read)."""
        return np.asarray(self.model.predict_proba(texts.fillna("").astype(str).tolist()), dtype=np.float64)
