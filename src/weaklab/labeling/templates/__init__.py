"""Labeling-function templates: common rules, written once and run as column operations.

One module per template family, each returning a vectorized
:class:`~weaklab.labeling.LabelingFunction` whose fingerprint hashes the
template kind and its parameters:

* :mod:`.keyword`: ``keyword_lf``, ``regex_lf`` (text search);
* :mod:`.lookup`: ``lookup_lf`` (a knowledge base keyed by a column);
* :mod:`.threshold`: ``threshold_lf`` (a numeric column beyond a threshold);
* :mod:`.model`: ``model_lf`` (a fitted classifier's confident predictions);
* :mod:`.embedding`: ``embedding_lf`` (similarity to class descriptions);
* :mod:`._base`: the base class :class:`TemplateLF` and the shared helpers.

A new family goes in a new module here, and its builder into this
package's and :mod:`weaklab.labeling`'s ``__all__``.
"""

from .embedding import embedding_lf
from .keyword import keyword_lf, regex_lf
from .lookup import lookup_lf
from .model import model_lf
from .threshold import threshold_lf

__all__ = ["keyword_lf", "regex_lf", "lookup_lf", "threshold_lf", "model_lf", "embedding_lf"]
