"""The embedding template's former import path: it lives in :mod:`weaklab.labeling.templates.embedding`.

Re-exported here unchanged, so ``from weaklab.labeling.embedding import embedding_lf`` keeps working.
"""

from .templates.embedding import embedding_lf

__all__ = ["embedding_lf"]
