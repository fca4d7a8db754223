"""The network of :class:`~weaklab.models.HyperLabelModel`: a learned, unrolled EM in plain numpy.

The model keeps, for every source ``j`` and class ``c``, a vote weight
``W[j, c]`` (added to the logit of class ``c`` when ``j`` votes ``c``) and a
log abstention likelihood ``A[j, c] <= 0`` (added to the logit of class ``c``
when ``j`` abstains), plus a log prior ``b[c]``. An item's logits are::

    z_i = b + sum_{j abstains on i} A[j] + sum_{j votes v on i} W[j, v] e_v

Each of ``n_iter`` steps streams the votes once: it computes every item's
posterior, then each vote's *leave-one-out* posterior (the item's posterior
without that vote) and accumulates per ``(source, class)`` statistics:
agreement with the leave-one-out posterior, the posterior class mass of
the items a source votes on, vote counts, and how often a source's vote
for a class has company on its item (another vote for the same class, a
vote for another class): whether sources of one class fire together,
as independent sources do, or cover different items, as labeling
functions written for different sub-topics of a class do (then an
abstention says little about the class). Features derived from them
(:func:`source_features`, :func:`class_features`) go through a small
permutation-invariant network (an MLP per ``(source, class)`` pair with
mean pooling over classes and sources, :func:`network_step`) that outputs
the next ``W``, ``A`` and ``b``. Sources, items and classes are all treated
symmetrically, so any ``k``, any number of sources and any item order work.
The weights of the network were trained offline on synthetic label
matrices (``scripts/train_hyper_label_model.py``) and ship with the package
in ``hyper_label_model.npz`` (plain arrays, no pickle); nothing is trained
on the data the model is applied to.

The feature functions are shared with the training script, so training and
inference compute exactly the same inputs.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._core import LabelMatrix
from .._core.constants import EPS, TINY
from .._core.validation import fail
from ._votes import iter_one_hot_blocks

__all__ = [
    "WEIGHTS_FILE",
    "N_SOURCE_FEATURES",
    "N_CLASS_FEATURES",
    "GAIN_INPUTS",
    "HyperWeights",
    "PassStats",
    "load_weights",
    "initial_params",
    "vote_pass",
    "source_features",
    "source_hints",
    "class_features",
    "network_step",
    "shared_gate",
    "run_network",
    "item_logits",
    "posterior",
    "source_accuracy",
    "leaky_relu",
]

WEIGHTS_FILE = Path(__file__).with_name("hyper_label_model.npz")
N_SOURCE_FEATURES = 28
N_CLASS_FEATURES = 14
_SLOPE = 0.1  # leaky ReLU slope
_CLIP = 8.0  # log-odds features are clipped to [-_CLIP, _CLIP]
_CHUNK_VOTES = 1 << 20  # votes whose leave-one-out posteriors are held at once
_STREAM_ROWS = 1 << 14
_MAX_W = 700.0  # |vote weight| inside exp()
# Columns of the source features the network sees by default: all but the accuracy-like ones (precision and
# accuracy logits, previous weight, weight hint). The hint then enters only through
# ``W = softplus(g) * hint + d``, so among sources alike in everything else a more accurate one never gets a
# smaller weight. A weights file records the columns it was trained with (``s1.inputs``).
# The per-source company rates (24, 25) are accuracy-like too (an accurate source's votes have same-class company
# more often): the gain sees only their vote-weighted means per class (26, 27), the same for every source.
GAIN_INPUTS = np.array([c for c in range(N_SOURCE_FEATURES) if c not in (0, 6, 11, 15, 24, 25)])


@dataclass(frozen=True)
class HyperWeights:
    """The trained network: named arrays, the number of unrolled steps and a version hash."""

    arrays: dict[str, np.ndarray] = field(repr=False)
    n_iter: int
    version: str


@lru_cache(maxsize=4)
def _load(path: str) -> HyperWeights:
    raw = Path(path).read_bytes()
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: np.asarray(data[name], dtype=np.float64) for name in data.files}
    if "n_iter" not in arrays:
        raise fail("weights", "a HyperLabelModel weights file with an 'n_iter' array", got_text=path)
    n_iter = int(arrays.pop("n_iter")[0])
    return HyperWeights(arrays=arrays, n_iter=n_iter, version=hashlib.sha256(raw).hexdigest()[:16])


def load_weights(path: str | Path | None = None) -> HyperWeights:
    """The shipped weights (``path=None``) or those of another ``.npz`` file, cached."""
    target = Path(WEIGHTS_FILE if path is None else path)
    if not target.is_file():
        raise fail("weights", "an existing .npz weights file", got_text=str(target))
    return _load(str(target.resolve()))


def leaky_relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0.1 x)``."""
    return np.maximum(x, _SLOPE * x)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.clip(np.log(p) - np.log1p(-p), -_CLIP, _CLIP)


def initial_params(m: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W = 1, A = 0, b = 0``: the first pass sees (soft) majority vote."""
    return np.ones((m, k)), np.zeros((m, k)), np.zeros(k)


def _vote_table(W: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``T[j * k + v, c] = W[j, v] [c == v] - A[j, c]`` so that one-hot votes @ T gives the vote terms."""
    m, k = W.shape
    T = -np.repeat(A, k, axis=0).reshape(m, k, k)
    T[:, np.arange(k), np.arange(k)] += W
    return T.reshape(m * k, k)


def item_logits(X: sp.csr_array, W: np.ndarray, A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Logits ``(n, k)`` of the items whose one-hot votes are ``X`` (CSR ``(n, m * k)``)."""
    base = b + A.sum(axis=0)
    Z = np.asarray(X @ _vote_table(W, A))
    Z += base
    return Z


def _softmax(Z: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


@dataclass
class PassStats:
    """Sums over one pass through the votes (all arrays float64).

    ``count[j, c]`` votes of source j for class c; ``agree[j, c]`` the sum,
    over those votes, of the leave-one-out posterior of class c;
    ``mass[j, c]`` the sum of the leave-one-out posterior of class c over
    every vote of source j; ``class_mass[c]`` the sum of item posteriors;
    ``gold_count[c]`` gold items of class c; ``co_same[j, c]`` and
    ``co_other[j, c]`` the votes of source j for class c on items that
    another source also votes c on, and that another source votes another
    class on; ``n_items``, ``n_votes``, ``n_covered`` (items with a vote).
    """

    count: np.ndarray
    agree: np.ndarray
    mass: np.ndarray
    class_mass: np.ndarray
    gold_count: np.ndarray
    co_same: np.ndarray
    co_other: np.ndarray
    n_items: int
    n_votes: int
    n_covered: int


def _blocks(L: LabelMatrix) -> Iterator[tuple[int, sp.csr_array]]:
    """One-hot CSR blocks of rows holding at most about ``_CHUNK_VOTES`` votes each."""
    for start, X in iter_one_hot_blocks(L, _STREAM_ROWS):
        n = X.shape[0]
        if X.nnz <= _CHUNK_VOTES:
            yield start, X
            continue
        cuts = np.searchsorted(X.indptr, np.arange(0, X.nnz, _CHUNK_VOTES), side="right") - 1
        edges = np.unique(np.r_[cuts, n])
        for a, b in itertools.pairwise(edges):
            yield start + int(a), X[int(a):int(b)]


def _gold_onehot(gold: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((gold.size, k))
    known = gold >= 0
    out[np.flatnonzero(known), gold[known]] = 1.0
    return out


def vote_pass(L: LabelMatrix, W: np.ndarray, A: np.ndarray, b: np.ndarray,
              gold: np.ndarray | None, company: tuple[np.ndarray, np.ndarray] | None = None) -> PassStats:
    """Stream the votes once under parameters ``(W, A, b)`` and return the statistics of :class:`PassStats`.

    Gold items (``gold >= 0``) count with their known class instead of a posterior. ``company``:
    ``(co_same, co_other)`` of an earlier pass over the same votes (they do not depend on the
    parameters), reused instead of counted again.

    The leave-one-out posterior of a vote ``v`` with weight ``w`` on an item
    with posterior ``q`` differs from ``q`` in one logit, so it is
    ``q_c / D`` for ``c != v`` and ``q_v e^-w / D`` for ``c = v``, with
    ``D = 1 - q_v + q_v e^-w``: only ``D`` is per vote, and the per-source
    sums are one sparse product ``(votes / D)^T q`` plus a correction of the
    voted class (no ``(n_votes, k)`` array is built).
    """
    m, k = W.shape
    flat_w = W.ravel()
    votes_by_class = np.zeros((m * k, k))
    correction, count = np.zeros(m * k), np.zeros(m * k)
    co_same, co_other = np.zeros(m * k), np.zeros(m * k)
    counted = company is None
    class_mass = np.zeros(k)
    n_votes = n_covered = 0
    for start, X in _blocks(L):
        n_b = X.shape[0]
        Q = _softmax(item_logits(X, W, A, b))
        if gold is not None:
            g = gold[start:start + n_b]
            if (g >= 0).any():
                Q[g >= 0] = _gold_onehot(g[g >= 0], k)
        class_mass += Q.sum(axis=0)
        per_row = np.diff(X.indptr)
        idx = X.indices.astype(np.int64)
        q_v = Q.ravel()[np.repeat(np.arange(n_b) * k, per_row) + idx % k]
        shrink = np.exp(-np.clip(flat_w[idx], -_MAX_W, _MAX_W))
        inv_d = 1.0 / np.maximum(1.0 - q_v + q_v * shrink, TINY)
        scaled = sp.csr_array((inv_d, X.indices, X.indptr), shape=X.shape)
        votes_by_class += np.asarray(scaled.T @ Q)
        correction += np.bincount(idx, q_v * (shrink - 1.0) * inv_d, minlength=m * k)
        count += np.bincount(idx, minlength=m * k)
        if counted:
            same, other = _company(X, idx, per_row, k)
            co_same += np.bincount(idx, same, minlength=m * k)
            co_other += np.bincount(idx, other, minlength=m * k)
        n_votes += idx.size
        n_covered += int(np.count_nonzero(per_row))
    per_class = votes_by_class.reshape(m, k, k)
    per_class[:, np.arange(k), np.arange(k)] += correction.reshape(m, k)
    gold_count = np.zeros(k) if gold is None else np.bincount(gold[gold >= 0], minlength=k).astype(np.float64)
    return PassStats(count=count.reshape(m, k), agree=np.diagonal(per_class, axis1=1, axis2=2).copy(),
                     mass=per_class.sum(axis=1), class_mass=class_mass,
                     gold_count=gold_count, co_same=co_same.reshape(m, k) if company is None else company[0],
                     co_other=co_other.reshape(m, k) if company is None else company[1],
                     n_items=L.n_items, n_votes=n_votes, n_covered=n_covered)


def _company(X: sp.csr_array, idx: np.ndarray, per_row: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per vote of the block: 1.0 if another vote of its item is for the same class, and if one is for another."""
    key = np.repeat(np.arange(X.shape[0]) * k, per_row) + idx % k
    same = np.bincount(key, minlength=X.shape[0] * k)[key] - 1
    other = np.repeat(per_row, per_row) - 1 - same
    return (same > 0).astype(np.float64), (other > 0).astype(np.float64)


def _global_features(s: PassStats, m: int, k: int) -> np.ndarray:
    n = max(s.n_items, 1)
    density = max(s.n_votes, 1) / (n * m)
    return np.array([
        np.log(n) / 10.0,
        np.log(m) / 5.0,
        np.log(k) / 2.0,
        np.log(density) / 5.0,
        np.log1p(s.n_votes / n) / 3.0,
        s.n_covered / n,
        np.log1p(s.gold_count.sum()) / 4.0,
    ])


def source_accuracy(s: PassStats) -> np.ndarray:
    """Estimated accuracy of each source: agreement of its votes with the leave-one-out posteriors."""
    k = s.count.shape[1]
    return (s.agree.sum(axis=1) + 1.0 / k) / (s.count.sum(axis=1) + 1.0)


def source_hints(s: PassStats) -> np.ndarray:
    """Moment estimates the network refines, shape ``(m, k, 2)``.

    ``[..., 0]``: the log-likelihood ratio of class c against the rest given
    a vote for c, ``logit(precision) - logit(prior)`` (the one-coin
    Dawid-Skene weight when errors spread evenly); ``[..., 1]``:
    ``log P(source abstains | class c)`` from the posterior class mass of
    the items the source votes on (``<= 0``).
    """
    k = s.count.shape[1]
    prior = (s.class_mass + 1.0) / (s.n_items + k)
    prec_logit = _logit((s.agree + prior) / (s.count + 1.0))
    vote_rate = np.clip((s.mass + prior) / (s.class_mass + 1.0), 0.0, 1.0 - 1e-6)
    return np.stack([prec_logit - _logit(prior), np.maximum(np.log1p(-vote_rate), -_CLIP)], axis=2)


def source_features(s: PassStats, W: np.ndarray, A: np.ndarray, step: float) -> np.ndarray:
    """Features of every ``(source, class)`` pair, shape ``(m, k, N_SOURCE_FEATURES)``."""
    m, k = s.count.shape
    prior = (s.class_mass + 1.0) / (s.n_items + k)
    prec_logit = _logit((s.agree + prior) / (s.count + 1.0))
    rate = np.log((s.mass + prior) / (s.class_mass + 1.0))
    hints = source_hints(s)
    rel_rate = np.clip(rate - rate.mean(axis=1, keepdims=True), -_CLIP, _CLIP)
    n_src = s.count.sum(axis=1, keepdims=True)
    acc_logit = _logit(source_accuracy(s))[:, None]
    weight = s.count / np.maximum(s.count.sum(axis=0, keepdims=True), 1.0)
    ctx_prec = (weight * prec_logit).sum(axis=0, keepdims=True)
    per_pair = [
        prec_logit / 4.0,
        np.broadcast_to(_logit(prior) / 4.0, (m, k)),
        np.log1p(s.count) / 4.0,
        s.count / np.maximum(n_src, 1.0),
        rel_rate / 4.0,
        np.broadcast_to(np.clip(rate.mean(axis=1, keepdims=True), -_CLIP, _CLIP) / 4.0, (m, k)),
        np.broadcast_to(acc_logit / 4.0, (m, k)),
        np.broadcast_to(np.log1p(n_src) / 4.0, (m, k)),
        np.broadcast_to((s.count > 0).mean(axis=1, keepdims=True), (m, k)),
        np.full((m, k), 1.0 / k),
        np.broadcast_to(np.log1p(s.gold_count) / 4.0, (m, k)),
        np.clip(W, -_CLIP, _CLIP) / 4.0,
        A / 4.0,
        np.full((m, k), step),
        np.broadcast_to(ctx_prec / 4.0, (m, k)),
        hints[..., 0] / 4.0,
        hints[..., 1] / 4.0,
    ]
    glob = np.broadcast_to(_global_features(s, m, k), (m, k, 7))
    n_pair = np.maximum(s.count, 1.0)
    company = np.stack([s.co_same / n_pair, s.co_other / n_pair], axis=2)
    per_class = np.maximum(s.count.sum(axis=0), 1.0)
    pooled = np.stack([s.co_same.sum(axis=0) / per_class, s.co_other.sum(axis=0) / per_class], axis=1)
    return np.concatenate([np.stack(per_pair, axis=2), glob, company,
                           np.broadcast_to(pooled, (m, k, 2))], axis=2)


def class_features(s: PassStats, b: np.ndarray, step: float) -> np.ndarray:
    """Features of every class, shape ``(k, N_CLASS_FEATURES)``."""
    m, k = s.count.shape
    prior = (s.class_mass + 1.0) / (s.n_items + k)
    share = (s.count.sum(axis=0) + 1.0) / (s.n_votes + k)
    per_class = [
        _logit(prior) / 4.0,
        np.log(share * k) / 4.0,
        np.log1p(s.gold_count) / 4.0,
        np.full(k, 1.0 / k),
        np.clip(b - b.mean(), -_CLIP, _CLIP) / 4.0,
        np.full(k, step),
        (s.count > 0).mean(axis=0),
    ]
    glob = np.broadcast_to(_global_features(s, m, k), (k, 7))
    return np.concatenate([np.stack(per_class, axis=1), glob], axis=1)


def _dense(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[name + ".w"] + w[name + ".b"]


def shared_gate(w: dict[str, np.ndarray]) -> bool:
    """Whether the weights ``w`` were trained with one abstention gate per source (``gate.shared``)."""
    return "gate.shared" in w and bool(w["gate.shared"].ravel()[0] > 0)


def network_step(F: np.ndarray, G: np.ndarray, hints: np.ndarray,
                 w: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One learned update: features ``F (m, k, f)``, ``G (k, g)`` and ``hints (m, k, 2)`` to new ``(W, A, b)``.

    ``h = act(F[..., inputs] @ s1)`` (``inputs``: the columns recorded in the
    weights); ``h2 = act([h, mean_c h, mean_j h, mean h] @ s2)``;
    ``(g, a, d) = h2 @ s3``; ``W = softplus(g) * hints[0] + d`` and
    ``A = sigmoid(a) * hints[1]`` (the network scales and corrects moment
    estimates rather than inventing weights). Weights trained with one
    abstention gate per source (``gate.shared`` = 1 in the file) use the
    mean of ``a`` over the classes: every class's abstention estimate of a
    source is scaled by the same factor, so the network decides *how much*
    a source's abstentions say, never *which class* they point to (that
    stays the moment estimate's). The class head sees the class features
    and the source representation averaged over sources.
    """
    columns = w["s1.inputs"].astype(np.int64) if "s1.inputs" in w else np.arange(F.shape[2])
    h = leaky_relu(_dense(F[..., columns], w, "s1"))
    pooled = [h, np.broadcast_to(h.mean(axis=1, keepdims=True), h.shape),
              np.broadcast_to(h.mean(axis=0, keepdims=True), h.shape),
              np.broadcast_to(h.mean(axis=(0, 1), keepdims=True), h.shape)]
    h2 = leaky_relu(_dense(np.concatenate(pooled, axis=2), w, "s2"))
    out = _dense(h2, w, "s3")
    W = np.logaddexp(0.0, out[..., 0]) * hints[..., 0] + out[..., 2]
    gate = out[..., 1].mean(axis=1, keepdims=True) if shared_gate(w) else out[..., 1]
    A = hints[..., 1] / (1.0 + np.exp(-gate))
    hc = leaky_relu(_dense(np.concatenate([G, h2.mean(axis=0)], axis=1), w, "c1"))
    hc2 = np.concatenate([hc, np.broadcast_to(hc.mean(axis=0, keepdims=True), hc.shape)], axis=1)
    b = _dense(leaky_relu(_dense(hc2, w, "c2")), w, "c3")[:, 0]
    return W, A, b - b.mean()


def run_network(L: LabelMatrix, gold: np.ndarray | None, weights: HyperWeights,
                class_balance: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All unrolled steps on ``L``: the final ``(W, A, b)`` and each source's estimated accuracy.

    A given ``class_balance`` fixes the prior: ``b = log(class_balance)`` at every step.
    """
    W, A, b = initial_params(L.n_sources, L.n_classes)
    fixed = None if class_balance is None else np.log(np.clip(class_balance, TINY, None))
    if fixed is not None:
        b = fixed - fixed.mean()
    accuracy = np.full(L.n_sources, np.nan)
    company = None
    for t in range(weights.n_iter):
        stats = vote_pass(L, W, A, b, gold, company)
        company = (stats.co_same, stats.co_other)
        accuracy = source_accuracy(stats)
        step = t / max(weights.n_iter - 1, 1)
        W, A, b = network_step(source_features(stats, W, A, step), class_features(stats, b, step),
                               source_hints(stats), weights.arrays)
        if fixed is not None:
            b = fixed - fixed.mean()
    return W, A, b, accuracy


def posterior(L: LabelMatrix, W: np.ndarray, A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Item posteriors ``softmax(z)`` of every item of ``L``, shape ``(n, k)``, streamed in row blocks."""
    out = np.empty((L.n_items, L.n_classes))
    for start, X in _blocks(L):
        out[start:start + X.shape[0]] = _softmax(item_logits(X, W, A, b))
    return out
