"""On-disk cache of text embeddings keyed by text hash and model id (``.npy`` shards, no pickle)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .._core.validation import fail
from .text import as_texts

__all__ = ["EmbeddingCache", "text_hashes"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def text_hashes(texts: Any) -> np.ndarray:
    """Hex BLAKE2b-128 digests of the UTF-8 texts, shape ``(n,)`` and dtype ``<U32``.

    Parameters
    ----------
    texts : sequence of str
        The texts.

    Examples
    --------
    >>> from weaklab.features import text_hashes
    >>> hashes = text_hashes(["free money", "free money", "see you"])
    >>> hashes.dtype, hashes[0] == hashes[1], len(hashes[0])
    (dtype('<U32'), True, 32)
    """
    items = as_texts(texts)
    return np.array([hashlib.blake2b(t.encode("utf-8"), digest_size=16).hexdigest() for t in items],
                    dtype="<U32")


class EmbeddingCache:
    """Embeddings of texts by one model, stored under ``<cache_dir>/<model id>/``.

    Each :meth:`add` writes one shard (``keys-<id>.npy`` with the text hashes,
    ``vectors-<id>.npy`` with the float32 embeddings), atomically, so several
    processes can share a cache and a crash never leaves half a shard. The
    shards are read once when the cache is opened (and again by
    :meth:`reload`).

    Parameters
    ----------
    cache_dir : str or os.PathLike
        Root folder (created if missing).
    model_id : str
        Identifies the model; embeddings of different models never mix.

    Attributes
    ----------
    path : pathlib.Path
        The model's folder.
    dim : int or None
        Embedding width (None while empty).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from weaklab.features import EmbeddingCache, text_hashes
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), "my-model@1")
    >>> keys = text_hashes(["free money", "see you"])
    >>> cache.add(keys, np.ones((2, 4)))
    >>> found, vectors = cache.lookup(text_hashes(["see you", "new text"]))
    >>> found.tolist(), vectors.shape, cache.dim
    ([True, False], (2, 4), 4)
    """

    def __init__(self, cache_dir: str | os.PathLike[str], model_id: str) -> None:
        if not isinstance(cache_dir, (str, os.PathLike)):
            raise fail("cache_dir", "a folder path", cache_dir)
        if not isinstance(model_id, str) or not model_id:
            raise fail("model_id", "a non-empty string", model_id)
        self.model_id = model_id
        digest = hashlib.blake2b(model_id.encode(), digest_size=6).hexdigest()
        self.path = Path(cache_dir) / f"{_SAFE.sub('_', model_id)[-60:]}-{digest}"
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self.reload()

    @property
    def dim(self) -> int | None:
        """Embedding width, None while the cache is empty."""
        return int(self._vectors.shape[1]) if self._index else None

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and str(text_hashes([text])[0]) in self._index

    def reload(self) -> None:
        """Read every shard on disk (picks up shards other processes wrote)."""
        keys, vecs = [], []
        for key_file in sorted(self.path.glob("keys-*.npy")):
            vec_file = key_file.with_name(key_file.name.replace("keys-", "vectors-", 1))
            if not vec_file.exists():
                continue
            keys.append(np.load(key_file, allow_pickle=False))
            vecs.append(np.load(vec_file, allow_pickle=False))
        if not keys:
            return
        all_keys = np.concatenate(keys)
        self._vectors = np.concatenate(vecs).astype(np.float32, copy=False)
        self._index = {str(k): i for i, k in enumerate(all_keys.tolist())}

    def lookup(self, hashes: Any) -> tuple[np.ndarray, np.ndarray]:
        """Cached vectors of the given text hashes (see :func:`text_hashes`).

        Returns
        -------
        found : ndarray of shape (n,) and dtype bool
        vectors : ndarray of shape (n, dim) and dtype float32
            Rows of missing texts are zero.
        """
        keys = np.asarray(hashes).tolist()
        rows = np.array([self._index.get(str(k), -1) for k in keys], dtype=np.int64)
        found = rows >= 0
        out = np.zeros((len(keys), self._vectors.shape[1]), dtype=np.float32)
        out[found] = self._vectors[rows[found]]
        return found, out

    def add(self, hashes: Any, vectors: Any) -> None:
        """Store vectors for text hashes not cached yet (one new shard).

        Parameters
        ----------
        hashes : array-like of shape (n,)
            Text hashes from :func:`text_hashes`.
        vectors : array-like of shape (n, dim)
            Their embeddings (stored as float32).
        """
        keys = np.asarray(hashes, dtype="<U32")
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[0] != keys.shape[0]:
            raise fail("vectors", f"a 2-d array with {keys.shape[0]} rows", vecs)
        if self.dim is not None and vecs.shape[1] != self.dim:
            raise fail("vectors", f"{self.dim} columns (the cached width)", vecs)
        _, first = np.unique(keys, return_index=True)
        new = np.sort(first)[[str(k) not in self._index for k in keys[np.sort(first)].tolist()]]
        if new.size == 0:
            return
        self._write(keys[new], vecs[new])
        start = len(self._index)
        self._vectors = vecs[new].copy() if start == 0 else np.concatenate([self._vectors, vecs[new]])
        self._index.update({str(k): start + i for i, k in enumerate(keys[new].tolist())})

    def _write(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        shard = uuid.uuid4().hex[:16]
        for stem, arr in (("vectors", vecs), ("keys", keys)):  # keys last: a shard exists once they do
            fd, tmp = tempfile.mkstemp(dir=self.path, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
            os.replace(tmp, self.path / f"{stem}-{shard}.npy")
