"""Known-truth generators: label matrices, crowds, label noise and noisy image captions.

Every generator returns the truth it planted (true labels, each source's
accuracy, coverage and confusion, planted dependencies) so that label models,
dependency learning and noise estimation can be checked against it. The
generators are vectorised and work in row chunks, so a dense ``1e7 x 50``
binary matrix needs little memory beyond its own ``int8`` votes.

Conventions
-----------
* ``confusion[j, c, v]`` is the probability that source ``j`` votes ``v`` on an
  item of true class ``c`` *given that it votes* (rows sum to 1).
* A noise matrix is ``noise[true, given]``: row ``c`` is the distribution of
  the observed label of an item of true class ``c`` (rows sum to 1).
"""

from ._captions import (
    CAPTION_TEMPLATES,
    FASHION_MNIST_SYNONYMS,
    MNIST_SYNONYMS,
    NoisyCaptions,
    make_captions,
)
from ._common import SyntheticLabels
from ._crowd import make_crowd
from ._lf import make_lf_matrix
from ._matrix import make_label_matrix
from ._multilabel import SyntheticMultiLabels, make_multilabel_matrix
from ._noise import corrupt_labels, make_noise_matrix

__all__ = [
    "SyntheticLabels",
    "make_label_matrix",
    "make_lf_matrix",
    "make_multilabel_matrix",
    "SyntheticMultiLabels",
    "make_crowd",
    "make_noise_matrix",
    "corrupt_labels",
    "make_captions",
    "NoisyCaptions",
    "FASHION_MNIST_SYNONYMS",
    "MNIST_SYNONYMS",
    "CAPTION_TEMPLATES",
]
