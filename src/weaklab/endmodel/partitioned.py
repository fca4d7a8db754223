"""An end model trained on soft labels partition by partition, out of core, on the current Dask scheduler.

:class:`PartitionedTextClassifier` reads texts that stay in a Dask collection
and soft labels that stay in a :class:`~weaklab.PartitionedSoftLabels`:

1. *document frequencies*: each task hashes the words and word n-grams of
   one partition (:class:`~sklearn.feature_extraction.text.HashingVectorizer`,
   no vocabulary to gather) and counts the documents holding each feature; a
   tree of tasks sums the counts into the inverse document frequencies;
2. *out-of-core SGD*: each task calls ``partial_fit`` of a logistic-loss
   :class:`~sklearn.linear_model.SGDClassifier` on one partition's TF-IDF
   features. An item enters once per class, weighted by its soft label
   (times its sample weight), so the loss is the cross-entropy with the soft
   labels. With ``schedule="mix"`` (the default: *iterative parameter
   mixing*, McDonald, Hall & Mann 2010) every epoch runs one such task per
   partition **in parallel**, each starting from the same model, and a tree
   of tasks averages their weights, intercepts and step counters (weighted by
   the items each trained on) into the next epoch's model. With
   ``schedule="chain"`` the tasks run one after the other, each continuing
   the previous one's model (one worker at a time; the partitions in a
   seeded order per epoch). Only models (``k x n_features`` weights) move
   between tasks; the texts and labels never reach the client; the inverse
   document frequencies (and, to predict, the fitted model) are put in the
   graph once for all tasks (:func:`~weaklab._core.dask_ops.share`), so the
   graph does not grow by a copy of them per partition. Each
   partition's features are computed once and kept on its worker for every
   epoch (``cache_features=True``) or computed again by each task;
3. *predict*: a task per partition writes the class probabilities beside the
   soft labels, in their layout (:meth:`predict_partitions`).

The fit is deterministic given ``random_state`` and the partitions: the
seeds of every task are drawn on the client, and the averages are summed in
partition order whatever the worker that ran each task.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.dask_ops import import_dask, keep_on_workers, share, tree_reduce
from .._core.dataset_io import write_frame
from .._core.partitioned import ITEM_ID, PartitionedSoftLabels, proba_columns, soft_file
from .._core.state import check_state, state_params
from .._core.validation import check_choice, check_int, fail
from ._targets import check_fitted

__all__ = ["PartitionedTextClassifier"]


class PartitionedTextClassifier(BaseEstimator):
    """Hashed TF-IDF + logistic regression by SGD, trained on partitioned soft labels without gathering them.

    Parameters
    ----------
    n_features : int, default=2**18
        Hashed feature columns.
    ngram_max : int, default=2
        Word 1..``ngram_max``-grams.
    min_df : int or float, default=1
        Features in fewer documents (an int), or in a smaller share of the
        documents (a float in (0, 1)), are dropped.
    C : float, default=4.0
        Inverse regularisation strength, as in
        :class:`~sklearn.linear_model.LogisticRegression` (SGD's
        ``alpha = 1 / (C * n_train)``).
    n_epochs : int, default=5
        Passes over the partitions.
    schedule : {"mix", "chain"}, default="mix"
        ``"mix"``: per epoch, one ``partial_fit`` per partition in parallel
        from the same model, then the weighted average of the models
        (iterative parameter mixing). ``"chain"``: one task after the other,
        each continuing the previous model (uses one worker at a time).
    cache_features : bool, default=True
        Keep each partition's TF-IDF features on its worker for all epochs
        (about 12 bytes per stored n-gram); False computes them again in
        every task (less worker memory, more time).
    random_state : int, optional
        Seeds the partition order, the row order within a partition and SGD.

    Attributes
    ----------
    idf_ : ndarray of shape (n_features,)
        Inverse document frequencies (0 for dropped features).
    estimator_ : SGDClassifier
        The fitted linear model.
    n_train_ : float
        Items trained on (sum of the sample weights).
    n_classes_ : int

    Examples
    --------
    >>> import tempfile, numpy as np, dask.dataframe as dd, pandas as pd
    >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
    >>> from weaklab.models import MajorityVote
    >>> texts = pd.Series(["free money now", "see you soon", "free prize", "lunch soon?"] * 5)
    >>> votes = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [
    ...     LabelMatrix(np.array([[1], [0], [1], [0]] * 5)[:10]), LabelMatrix(np.array([[1], [0], [1], [0]] * 5)[10:])])
    >>> soft = MajorityVote().fit(votes).predict_proba(votes)
    >>> model = PartitionedTextClassifier(random_state=0).fit(dd.from_pandas(texts, npartitions=2), soft)
    >>> model.predict_proba(["free money", "see you"]).argmax(axis=1).tolist()
    [1, 0]
    """

    def __init__(self, *, n_features: int = 2**18, ngram_max: int = 2, min_df: int = 1, C: float = 4.0,
                 n_epochs: int = 5, schedule: str = "mix", cache_features: bool = True,
                 random_state: int | None = None) -> None:
        self.n_features = n_features
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.C = C
        self.n_epochs = n_epochs
        self.schedule = schedule
        self.cache_features = cache_features
        self.random_state = random_state

    def fit(self, X: Any, y: PartitionedSoftLabels, sample_weight: Any = None) -> PartitionedTextClassifier:
        """Learn from the texts ``X`` and soft labels ``y``, partition by partition (see the module docstring).

        Parameters
        ----------
        X : dask Series of str, or sequence of delayed/pandas Series
            One partition of texts per partition of ``y`` (same rows).
        y : PartitionedSoftLabels
        sample_weight : same kind as ``X``, optional
            Per item (0 leaves an item out), one array per partition. Delayed
            weights are computed once (kept on the workers of an active
            distributed Client) for the document counts and every epoch.

        Returns
        -------
        self
        """
        self._check_params()
        if not isinstance(y, PartitionedSoftLabels):
            raise fail("y", "a PartitionedSoftLabels", y)
        texts = _parts("X", X, y.n_partitions)
        weights = [None] * y.n_partitions if sample_weight is None else \
            keep_on_workers(_parts("sample_weight", sample_weight, y.n_partitions))
        dask = import_dask()
        vectorizer = self._vectorizer()
        counts = [dask.delayed(_document_counts)(vectorizer, t, w) for t, w in zip(texts, weights)]
        (df, n_docs), = dask.compute(tree_reduce(counts, _add_counts))
        if n_docs < 2:
            raise fail("sample_weight", "at least two items to train on", got_text=f"{n_docs:g}")
        idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        idf[df < (self.min_df * n_docs if isinstance(self.min_df, float) else self.min_df)] = 0.0
        sgd = SGDClassifier(loss="log_loss", alpha=1.0 / (float(self.C) * n_docs), random_state=self.random_state)
        shared = share(idf)  # one copy for every task (not one per task: the graph would grow with partitions)
        features = [dask.delayed(_features)(vectorizer, shared, t) for t in texts] if self.cache_features else None
        steps = _Steps(vectorizer, shared, texts, features, y, weights)
        orders, seeds = _epoch_seeds(self.random_state, int(self.n_epochs), y.n_partitions)
        model = steps.chain(sgd, orders, seeds) if self.schedule == "chain" else steps.mix(sgd, seeds)
        (self.estimator_,) = dask.compute(model)
        self.idf_, self.n_train_, self.n_classes_ = idf, float(n_docs), int(y.n_classes)
        return self

    def _check_params(self) -> None:
        check_int("n_features", self.n_features, low=2)
        check_int("ngram_max", self.ngram_max, low=1)
        if isinstance(self.min_df, float):
            if not 0 < self.min_df < 1:
                raise fail("min_df", "an integer >= 1 or a share in (0, 1)", self.min_df)
        else:
            check_int("min_df", self.min_df, low=1)
        check_int("n_epochs", self.n_epochs, low=1)
        check_choice("schedule", self.schedule, ("mix", "chain"))
        if not isinstance(self.cache_features, (bool, np.bool_)):
            raise fail("cache_features", "True or False", self.cache_features)
        if not float(self.C) > 0:
            raise fail("C", "a positive number", self.C)

    def _vectorizer(self) -> HashingVectorizer:
        return HashingVectorizer(n_features=int(self.n_features), ngram_range=(1, int(self.ngram_max)),
                                 alternate_sign=False, norm=None)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of texts held in memory, shape ``(n, k)``."""
        check_fitted(self, "estimator_")
        return _proba(self.estimator_, _features(self._vectorizer(), self.idf_, pd.Series(list(X))),
                      self.n_classes_)

    def to_state(self) -> dict[str, Any]:
        """JSON-able parameters plus arrays (no pickle); see :meth:`from_state`.

        Only the feature columns with an IDF weight (those of the training
        items; the others are zero in every text's features) are kept: their
        indices, IDF weights and coefficients. So a text's L2 norm, and its
        probabilities, are the fitted model's exactly.
        """
        check_fitted(self, "estimator_")
        coef = np.asarray(self.estimator_.coef_, dtype=np.float64)
        used = np.flatnonzero((np.asarray(self.idf_) != 0) | np.any(coef != 0, axis=0))
        arrays = {"features": used.astype(np.int64), "idf": np.asarray(self.idf_, dtype=np.float64)[used],
                  "coef": coef[:, used], "intercept": np.asarray(self.estimator_.intercept_, dtype=np.float64),
                  "classes": np.asarray(self.estimator_.classes_, dtype=np.int64)}
        return {"schema_version": STATE_SCHEMA_VERSION, "class": "PartitionedTextClassifier",
                "module": "weaklab.endmodel", "params": state_params(self.get_params()),
                "attributes": {"n_train_": float(self.n_train_), "n_classes_": int(self.n_classes_)},
                "arrays": arrays}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PartitionedTextClassifier:
        """Rebuild a fitted model from :meth:`to_state` output (it predicts texts in memory, no Dask needed).

        Examples
        --------
        >>> import tempfile, numpy as np, dask.dataframe as dd, pandas as pd
        >>> from weaklab import LabelMatrix, PartitionedLabelMatrix
        >>> from weaklab.models import MajorityVote
        >>> texts = pd.Series(["free money now", "see you soon", "free prize", "lunch soon?"] * 5)
        >>> votes = PartitionedLabelMatrix.write(tempfile.mkdtemp(), [LabelMatrix(np.array([[1], [0]] * 10))])
        >>> soft = MajorityVote().fit(votes).predict_proba(votes)
        >>> model = PartitionedTextClassifier(random_state=0).fit(dd.from_pandas(texts, npartitions=1), soft)
        >>> twin = PartitionedTextClassifier.from_state(model.to_state())
        >>> bool(np.allclose(twin.predict_proba(["free money", "see you"]), model.predict_proba(["free money",
        ...                                                                                       "see you"])))
        True
        """
        check_state(state, "PartitionedTextClassifier")
        model = cls(**state["params"])
        arrays, n = state["arrays"], int(state["params"]["n_features"])
        features = np.asarray(arrays["features"], dtype=np.int64)
        idf = np.zeros(n)
        idf[features] = np.asarray(arrays["idf"], dtype=np.float64)
        coef = np.zeros((np.asarray(arrays["coef"]).shape[0], n))
        coef[:, features] = np.asarray(arrays["coef"], dtype=np.float64)
        estimator = SGDClassifier(loss="log_loss")
        estimator.coef_, estimator.intercept_ = coef, np.asarray(arrays["intercept"], dtype=np.float64)
        estimator.classes_ = np.asarray(arrays["classes"], dtype=np.int64)
        estimator.n_features_in_ = n
        model.estimator_, model.idf_ = estimator, idf
        attributes = state["attributes"]
        model.n_train_, model.n_classes_ = float(attributes["n_train_"]), int(attributes["n_classes_"])
        return model

    def predict_partitions(self, X: Any, like: PartitionedSoftLabels, output: str) -> PartitionedSoftLabels:
        """Write the class probabilities of every partition of texts ``X`` to ``output``, in ``like``'s layout.

        Parameters
        ----------
        X : dask Series of str, or sequence of delayed/pandas Series
            One partition of texts per partition of ``like``.
        like : PartitionedSoftLabels
            Soft labels of the same items: their ids and partitions are kept.
        output : str
            Folder or fsspec URL; its ``_weaklab.json`` is written last.

        Returns
        -------
        PartitionedSoftLabels
            Produced by ``"PartitionedTextClassifier"``.
        """
        check_fitted(self, "estimator_")
        texts = _parts("X", X, like.n_partitions)
        dask = import_dask()
        vectorizer, k = self._vectorizer(), self.n_classes_
        idf, estimator = share(self.idf_), share(self.estimator_)  # once for all tasks, not once per task
        tasks = [dask.delayed(_write_partition)(vectorizer, idf, estimator, k, texts[i], like, i, str(output))
                 for i in range(like.n_partitions)]
        rows = dask.compute(*tasks)
        out = PartitionedSoftLabels(str(output), k, tuple(soft_file(i) for i in range(like.n_partitions)),
                                    tuple(rows), like.class_names, "PartitionedTextClassifier", like.votes_root,
                                    like.storage_options)
        out.save_metadata()
        return out


def _write_partition(vectorizer: HashingVectorizer, idf: np.ndarray, estimator: SGDClassifier, k: int, texts: Any,
                     like: PartitionedSoftLabels, i: int, output: str) -> int:
    """Write the probabilities of partition ``i`` with ``like``'s item ids (on a worker); its row count."""
    proba = _proba(estimator, _features(vectorizer, idf, texts), k)
    ids = like.read_frame(i)[ITEM_ID].to_numpy()
    if len(ids) != proba.shape[0]:
        raise fail("X", f"{len(ids)} texts in partition {i} (as like)", got_text=f"{proba.shape[0]}")
    write_frame(pd.DataFrame({ITEM_ID: ids, **dict(zip(proba_columns(k), proba.T))}), output, soft_file(i),
                like.storage_options)
    return int(proba.shape[0])


def _parts(name: str, X: Any, n: int) -> list[Any]:
    """One delayed (or in-memory) partition per soft-label partition."""
    parts = list(X.to_delayed()) if hasattr(X, "to_delayed") else list(X) if isinstance(X, Sequence) else None
    if parts is None or len(parts) != n:
        raise fail(name, f"{n} partitions (as y)", got_text="a value without partitions" if parts is None
                   else f"{len(parts)} partitions")
    return parts


def _features(vectorizer: HashingVectorizer, idf: np.ndarray, texts: Any) -> sp.csr_matrix:
    """Sublinear-tf TF-IDF rows, L2-normalised (no rows for an empty partition)."""
    texts = pd.Series(texts)
    if texts.empty:  # the vectorizer refuses no texts
        return sp.csr_matrix((0, idf.shape[0]), dtype=np.float64)
    X = sp.csr_matrix(vectorizer.transform(texts.fillna("").astype(str)), dtype=np.float64)
    X.data = 1.0 + np.log(X.data)
    X = X @ sp.diags(idf)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ X)


def _weights(weights: Any, n: int) -> np.ndarray:
    return np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(n)


def _document_counts(vectorizer: HashingVectorizer, texts: Any, weights: Any) -> tuple[np.ndarray, float]:
    """Documents holding each feature, and documents, among the items of positive weight (on a worker)."""
    texts = pd.Series(texts)
    keep = _weights(weights, len(texts)) > 0
    if not keep.any():  # a partition with nothing to train on (the vectorizer refuses no texts)
        return np.zeros(vectorizer.n_features, dtype=np.int64), 0.0
    X = sp.csr_matrix(vectorizer.transform(texts[keep].fillna("").astype(str)))
    return np.bincount(X.indices, minlength=X.shape[1]).astype(np.int64), float(keep.sum())


def _add_counts(a: tuple[np.ndarray, float], b: tuple[np.ndarray, float]) -> tuple[np.ndarray, float]:
    return a[0] + b[0], a[1] + b[1]


def _epoch_seeds(random_state: int | None, n_epochs: int, n_parts: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Per epoch, a seeded order of the partitions and a row-order seed per partition ``(n_epochs, n_parts)``."""
    rng = np.random.default_rng(random_state)
    orders, seeds = [], np.zeros((n_epochs, n_parts), dtype=np.int64)
    for e in range(n_epochs):
        orders.append(rng.permutation(n_parts))
        for i in orders[-1]:
            seeds[e, i] = int(rng.integers(2**31))
    return orders, seeds


@dataclass(frozen=True)
class _Steps:
    """What each SGD task reads, and the two ways of chaining the tasks into a graph of delayed models."""

    vectorizer: HashingVectorizer
    idf: Any  # the shared inverse document frequencies (a graph key, see weaklab._core.dask_ops.share)
    texts: list[Any]
    features: list[Any] | None
    soft: PartitionedSoftLabels
    weights: list[Any]

    def step(self, func: Any, model: Any, i: int, seed: int) -> Any:
        """A delayed ``func`` (``partial_fit`` on partition ``i`` of a copy of ``model``)."""
        dask = import_dask()
        X = self.features[i] if self.features is not None else self.texts[i]
        return dask.delayed(func)(model, self.vectorizer, self.idf, X, self.features is not None, self.soft, i,
                                  self.weights[i], seed)

    def chain(self, model: Any, orders: list[np.ndarray], seeds: np.ndarray) -> Any:
        for e, order in enumerate(orders):
            for i in order:
                model = self.step(_sgd_step, model, int(i), int(seeds[e, i]))
        return model

    def mix(self, model: Any, seeds: np.ndarray) -> Any:
        dask = import_dask()
        for epoch_seeds in seeds:
            local = [self.step(_local_share, model, i, int(seed)) for i, seed in enumerate(epoch_seeds)]
            model = dask.delayed(_mixed)(model, tree_reduce(local, _add_shares))
        return model


def _fit_partition(model: SGDClassifier, vectorizer: HashingVectorizer, idf: np.ndarray, X: Any, cached: bool,
                   soft: PartitionedSoftLabels, i: int, weights: Any, seed: int) -> tuple[SGDClassifier, float]:
    """One ``partial_fit`` of a copy of ``model`` on partition ``i`` (on a worker), and the weight trained on.

    Each item enters once per class, weighted by its soft label times its
    weight, in a seeded order; ``X`` holds the partition's features when
    ``cached``, else its texts.
    """
    model = copy.deepcopy(model)
    proba = soft.read_partition(i).proba
    w = _weights(weights, proba.shape[0])
    X = X if cached else _features(vectorizer, idf, X)
    rows, classes = np.nonzero((proba > 0) & (w > 0)[:, None])
    if rows.size:
        order = np.random.default_rng(seed).permutation(rows.size)
        rows, classes = rows[order], classes[order]
        model.partial_fit(X[rows], classes, classes=np.arange(soft.n_classes),
                          sample_weight=proba[rows, classes] * w[rows])
    return model, float(np.sum(proba[rows, classes] * w[rows]))


def _sgd_step(*args: Any) -> SGDClassifier:
    """The model after :func:`_fit_partition` (the chain's task)."""
    return _fit_partition(*args)[0]


def _local_share(*args: Any) -> _Share:
    """The model after :func:`_fit_partition`, weighted by the weight it trained on (mixing's task)."""
    fitted, weight = _fit_partition(*args)
    if weight <= 0 or not hasattr(fitted, "coef_"):
        return _Share(0.0)
    template = None if hasattr(args[0], "coef_") else fitted  # the first epoch's: a fitted model to copy
    return _Share(weight, weight * fitted.coef_, weight * fitted.intercept_, weight * float(fitted.t_), template)


@dataclass(frozen=True)
class _Share:
    """Weighted sums of local models' parameters (one partition's, or several merged in partition order).

    ``template`` is a fitted local model of the first epoch (whose input model
    was not fitted yet), to copy the averages into; later epochs copy the
    previous average.
    """

    weight: float
    coef: np.ndarray | None = None
    intercept: np.ndarray | None = None
    t: float = 0.0
    template: SGDClassifier | None = None


def _add_shares(a: _Share, b: _Share) -> _Share:
    if a.coef is None or a.intercept is None:
        return b
    if b.coef is None or b.intercept is None:
        return a
    return _Share(a.weight + b.weight, a.coef + b.coef, a.intercept + b.intercept, a.t + b.t,
                  a.template if a.template is not None else b.template)


def _mixed(previous: SGDClassifier, total: _Share) -> SGDClassifier:
    """The weighted average of the local models (``previous`` when no partition had items to train on)."""
    if total.coef is None or total.intercept is None:
        return previous
    model = copy.deepcopy(total.template if total.template is not None else previous)
    model.coef_ = np.ascontiguousarray(total.coef / total.weight)
    model.intercept_ = np.ascontiguousarray(total.intercept / total.weight)
    model.t_ = total.t / total.weight
    return model


def _proba(estimator: SGDClassifier, X: Any, k: int) -> np.ndarray:
    """``(n, k)`` probabilities (columns for classes the model never saw are 0)."""
    out = np.zeros((X.shape[0], k))
    if X.shape[0]:  # scikit-learn refuses no rows
        out[:, np.asarray(estimator.classes_, dtype=np.int64)] = estimator.predict_proba(X)
    return out
