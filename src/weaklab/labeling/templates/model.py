"""``model_lf``: a fitted classifier as a labeling function."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..._core.constants import ABSTAIN
from ..._core.validation import check_float, check_int, fail
from .._batch import Batch
from ..lf import LabelingFunction
from ._base import TemplateLF, check_name

__all__ = ["model_lf"]



class _ModelLF(TemplateLF):
    def __init__(self, name: str, params: dict[str, Any], estimator: Any,
                 featurizer: Callable[[pd.DataFrame], Any], class_ids: np.ndarray) -> None:
        super().__init__(name, "model_lf", params, None)
        self._estimator = estimator
        self._featurizer = featurizer
        self._class_ids = class_ids

    def _compute(self, batch: Batch) -> np.ndarray:
        n = len(batch)
        features = self._featurizer(batch.frame.copy(deep=False))
        proba = np.asarray(self._estimator.predict_proba(features), dtype=np.float64)
        if proba.shape != (n, self._class_ids.size):
            raise ValueError(
                f"predict_proba returned shape {proba.shape}, expected ({n}, {self._class_ids.size})"
            )
        top = proba.argmax(axis=1)  # ties: the first of the tied classes
        confident = proba[np.arange(n), top] >= self.params["threshold"]
        return np.where(confident, self._class_ids[top], ABSTAIN).astype(np.int64)


def model_lf(
    estimator: Any,
    *,
    featurizer: Callable[[pd.DataFrame], Any],
    threshold: float = 0.5,
    name: str | None = None,
    classes: Mapping[Any, int] | Iterable[int] | None = None,
) -> LabelingFunction:
    """Vote the class a fitted classifier is confident about.

    Parameters
    ----------
    estimator : fitted estimator
        Anything with ``predict_proba`` and ``classes_`` (scikit-learn style).
    featurizer : callable
        ``featurizer(df) -> X`` turning a batch DataFrame into the estimator's
        input, e.g. ``lambda df: vectorizer.transform(df["text"])``.
    threshold : float, default=0.5
        Vote the most probable class only when its probability is
        ``>= threshold``; abstain otherwise. Ties go to the first class.
    name : str, optional
        Defaults to ``"model_<EstimatorClass>"``.
    classes : dict or sequence of int, optional
        Class id for each of ``estimator.classes_`` (a dict keyed by them, or
        a sequence in their order; ``-1`` makes that class abstain). Required
        unless ``classes_`` are already class ids ``0..k-1``.

    Notes
    -----
    The fingerprint hashes the estimator's class, parameters and fitted
    arrays (not a pickle), the featurizer's code and closure, the threshold
    and the class mapping.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from weaklab import apply_lfs, model_lf
    >>> seed = pd.DataFrame({"text": ["free money", "win money now", "nice song", "love this song"],
    ...                      "label": [1, 1, 0, 0]})
    >>> vectorizer = CountVectorizer().fit(seed["text"])
    >>> classifier = LogisticRegression(C=10).fit(vectorizer.transform(seed["text"]), seed["label"])
    >>> lf = model_lf(classifier, featurizer=lambda df: vectorizer.transform(df["text"]), threshold=0.7,
    ...               name="seed_model")
    >>> data = pd.DataFrame({"text": ["money money", "song", "hello"]})
    >>> apply_lfs([lf], data, progress=False)[0].to_dense().ravel().tolist()
    [1, 0, -1]
    """
    if not callable(getattr(estimator, "predict_proba", None)) or not hasattr(estimator, "classes_"):
        raise fail("estimator", "a fitted estimator with predict_proba and classes_", estimator)
    if not callable(featurizer):
        raise fail("featurizer", "a callable featurizer(df) -> X", featurizer)
    threshold = check_float("threshold", threshold, low=0.0, high=1.0)
    class_ids = _class_ids(np.asarray(estimator.classes_), classes)
    params = {"estimator": estimator, "featurizer": featurizer, "threshold": threshold,
              "class_ids": tuple(int(c) for c in class_ids)}
    default = f"model_{type(estimator).__name__}"
    return _ModelLF(check_name(name, default), params, estimator, featurizer, class_ids)


def _class_ids(estimator_classes: np.ndarray, classes: Any) -> np.ndarray:
    if classes is None:
        if estimator_classes.dtype.kind not in "iu" or (estimator_classes < 0).any():
            raise fail("classes", "a mapping from estimator.classes_ to class ids "
                       "(the estimator's classes are not class ids)",
                       got_text=str(estimator_classes.tolist()))
        return estimator_classes.astype(np.int64)
    if isinstance(classes, Mapping):
        absent = [c for c in estimator_classes.tolist() if c not in classes]
        if absent:
            raise fail("classes", "a class id for every one of estimator.classes_",
                       got_text=f"no entry for {absent[0]!r}")
        ids = [classes[c] for c in estimator_classes.tolist()]
    else:
        ids = list(classes)
        if len(ids) != estimator_classes.size:
            raise fail("classes", f"{estimator_classes.size} class ids (one per estimator class)",
                       got_text=f"{len(ids)}")
    return np.array([check_int("classes", c, low=-1) for c in ids], dtype=np.int64)
