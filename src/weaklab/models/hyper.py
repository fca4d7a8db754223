"""HyperLabelModel: a pretrained, amortised label model (no per-data-set training).

The idea follows the *hyper label model* of Wu et al. (ICLR 2023): instead of
fitting a generative model to each new label matrix, a network trained
offline on many synthetic matrices with known truth maps a matrix to its
soft labels in one forward pass. weaklab's network is its own (see
:mod:`weaklab.models.hyper_net`): a learned, unrolled EM whose every step
is a permutation-invariant network over ``(source, class)`` statistics, so
it handles any number of items, sources and classes, and costs a few
passes over the votes.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._core import LabelMatrix
from .._core.constants import TINY
from .._core.validation import Checker, instance_of, optional
from ._base import LabelModel, StateShapes
from .hyper_net import load_weights, posterior, run_network

__all__ = ["HyperLabelModel"]

_MIN_LOG = -700.0  # log abstention terms are kept above this so exp() stays positive


class HyperLabelModel(LabelModel):
    """A label model pretrained on synthetic label matrices: labels a new matrix without training on it.

    ``fit`` runs the shipped network over the votes (a fixed number of
    unrolled steps, each one pass over the votes; nothing is optimised on
    ``L``) and keeps what it produced for the fitted sources: a weight per
    ``(source, class)`` vote, a per-class abstention rate per source and a
    class prior. :meth:`predict_proba` applies them to any matrix of the
    same sources, so the soft labels of the fitted items are exactly those
    of the network, and new items are labelled consistently.

    The network was trained on tasks with 2-10 classes, 3-1,000 sources,
    sparse one-class labeling functions (independent ones, and ones written
    for different sub-topics of a class, which rarely fire together) and
    dense multi-class crowds, class-dependent firing rates, imbalanced
    classes and correlated copies of sources
    (``scripts/train_hyper_label_model.py``, reproducible from its seed).
    Its weights ship inside the package as plain arrays (no pickle);
    ``weights_version_`` records which ones were used.

    Parameters
    ----------
    weights : str, optional
        Path of another weights file written by the training script. None
        (default) uses the shipped ``hyper_label_model.npz``.

    Attributes
    ----------
    vote_weight_ : ndarray of shape (n_sources, n_classes)
        Log-odds added to class ``c`` when a source votes ``c``.
    abstain_rate_ : ndarray of shape (n_sources, n_classes)
        ``P(source j abstains | class c)`` up to a per-source constant, in
        (0, 1]: an abstention multiplies the odds of class ``c`` by it.
        An item on which every source abstains gets
        ``class_balance_ * prod_j abstain_rate_[j]`` (normalised).
    class_balance_ : ndarray of shape (n_classes,)
        Class prior (``class_balance`` when given to ``fit``).
    source_accuracy_ : ndarray of shape (n_sources,)
        Estimated accuracy of each source: agreement of its votes with the
        posterior of the other sources on the same items (gold items count
        with their label).
    weights_version_ : str
        Hash of the weights file used (the weights are not in the state).
    n_iter_ : int
        Number of unrolled steps run.

    Notes
    -----
    With ``gold``, the gold items enter every step with their known class
    (they shape the source statistics and the class prior, in proportion to
    how many there are); nothing is fine-tuned.

    **Cost.** ``fit`` streams the votes ``n_iter_`` times in blocks of rows
    (dense input is never copied to coordinates whole); memory beyond the
    matrix is ``O(n k + m k^2)`` plus one block. Measured with
    ``scripts/measure_hyper_scale.py`` on a dense ``1,000,000 x 100``
    binary matrix (53.9 M votes) on the shared 2-core machine (load
    average about 17): ``fit`` 94 s, ``predict_proba`` 6 s, peak memory
    105 MiB above the 95 MiB matrix.

    **Limits.** Sources are treated as conditionally independent: near
    copies of one source count several times, as in majority vote.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab.models import HyperLabelModel
    >>> L = np.array([[0, 0, 1], [1, 1, 1], [-1, 1, 1], [0, -1, 0], [0, 0, -1]])
    >>> model = HyperLabelModel().fit(L, n_classes=2)
    >>> model.predict_proba(L).shape
    (5, 2)
    >>> model.predict(L).tolist()
    [0, 1, 1, 0, 0]
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "weights": optional(instance_of(str, text="None or a path (str)")),
    }
    _state_arrays: ClassVar[tuple[str, ...]] = ("vote_weight_", "abstain_rate_", "source_accuracy_")
    _state_attrs: ClassVar[tuple[str, ...]] = ("weights_version_", "n_iter_")
    _state_shapes: ClassVar[StateShapes] = {
        "vote_weight_": ("m", "k"), "abstain_rate_": ("m", "k"), "source_accuracy_": ("m",),
    }

    def __init__(self, weights: str | None = None) -> None:
        self.weights = weights

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        net = load_weights(self.weights)
        known = gold if gold is not None and (gold >= 0).any() else None
        W, A, b, accuracy = run_network(L, known, net, class_balance)
        self.vote_weight_ = W
        self.abstain_rate_ = np.exp(np.maximum(A, _MIN_LOG))
        prior = np.exp(b - b.max())
        self.class_balance_ = prior / prior.sum()
        self.source_accuracy_ = accuracy
        self.weights_version_ = net.version
        self.n_iter_ = net.n_iter

    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:
        log_prior = np.log(np.clip(self.class_balance_, TINY, None))
        return posterior(L, self.vote_weight_, np.log(self.abstain_rate_), log_prior)
