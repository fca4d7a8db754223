"""Features: text inputs, TF-IDF and sentence embeddings from a local model (cached by text hash).

Heavy dependencies (``sentence-transformers``, torch) are imported only when an
embedding model is loaded; install them with ``pip install 'weaklab[embed]'``.
"""

from .cache import EmbeddingCache, text_hashes
from .embeddings import (
    DEFAULT_MODEL_PACKAGE,
    default_model_path,
    embed_texts,
    embedding_model_id,
    load_embedding_model,
)
from .text import as_texts, tfidf_features, tfidf_vectorizer

__all__ = [
    "as_texts",
    "tfidf_vectorizer",
    "tfidf_features",
    "embed_texts",
    "load_embedding_model",
    "embedding_model_id",
    "default_model_path",
    "DEFAULT_MODEL_PACKAGE",
    "EmbeddingCache",
    "text_hashes",
]
