"""Features: text inputs, TF-IDF, sentence embeddings from a local model (cached by text hash) and image features.

Heavy dependencies (``sentence-transformers``, torch) are imported only when an
embedding model is loaded; install them with ``pip install 'weaklab[embed]'``.
"""

from .cache import EmbeddingCache, text_hashes
from .cnn import CNNEmbedder
from .embeddings import (
    DEFAULT_MODEL_PACKAGE,
    default_model_path,
    embed_texts,
    embedding_model_id,
    load_embedding_model,
)
from .image import PIXEL_STATISTICS, ImageFeaturizer, as_image_batch, pixel_statistics
from .image_field import default_image_field
from .relation import entity_marked_texts, has_entity_spans
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
    "as_image_batch",
    "pixel_statistics",
    "PIXEL_STATISTICS",
    "ImageFeaturizer",
    "default_image_field",
    "CNNEmbedder",
    "entity_marked_texts",
    "has_entity_spans",
]
