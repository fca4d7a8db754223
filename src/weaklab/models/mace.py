"""MACE: Multi-Annotator Competence Estimation (Hovy et al., NAACL 2013).

Model. Item ``i`` has a true class ``y_i ~ pi`` (uniform in the paper,
learned here by default).
When worker ``j`` labels it, the worker *knows* the answer with probability
``theta_j`` (the competence) and then votes ``y_i``; otherwise it *spams*
and votes ``v`` with probability ``xi_j[v]`` whatever the truth. Hence

    P(vote v | y = c) = theta_j * 1[v = c] + (1 - theta_j) * xi_j[v],

a confusion matrix per worker: MACE is a :class:`ConfusionLabelModel`.

Fitting is EM over the votes (E-step: posterior over ``y`` and over
"knowing"; M-step: fractional counts), either with additive smoothing
(``method="em"``) or with the paper's variational Bayes under a
``Beta(alpha, beta)`` prior on ``theta_j`` and a symmetric
``Dirichlet(smoothing)`` prior on ``xi_j`` (``method="vb"``). Several
restarts; the one with the best marginal log-likelihood wins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma

from .._core import LabelMatrix
from .._core.validation import Checker, check_random_state, instance_of, interval, options
from ._base import ConfusionLabelModel
from ._votes import VoteData, prepare_votes
from .glad import normalise_log_rows

__all__ = ["MACE"]

_TINY = 1e-300


@dataclass(frozen=True)
class MaceParams:
    """Worker parameters: weight of *knowing*, weight of *spamming*, spam distribution.

    For EM ``know + spam = 1``; for VB they are the sub-normalised
    ``exp(E[log theta])`` and ``exp(E[log(1 - theta)])``.

    Attributes
    ----------
    know, spam : ndarray of shape (m,)
    strategy : ndarray of shape (m, k)
    """

    know: np.ndarray
    spam: np.ndarray
    strategy: np.ndarray


@dataclass(frozen=True)
class _Votes:
    """Per-vote arrays: unit, source, class, ``unit * k + class``, ``source * k + class``, weight."""

    rows: np.ndarray
    cols: np.ndarray
    labels: np.ndarray
    flat: np.ndarray
    source_flat: np.ndarray
    weight: np.ndarray
    unit_weight: np.ndarray
    n_units: int
    n_sources: int
    n_classes: int


# --------------------------------------------------------------------------- pure steps
def e_step(votes: _Votes, params: MaceParams, log_prior: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Posterior over classes, P(knowing | vote correct class), and the log-likelihood.

    Returns
    -------
    posterior : ndarray of shape (n_units, k)
    knows_if_right : ndarray of shape (nnz,)
        Probability that the worker knew, given that its vote is the true class.
    log_likelihood : float
        ``sum_u weight_u * log P(votes of u)`` under ``params``.
    """
    k, n = votes.n_classes, votes.n_units
    spam_v = params.spam[votes.cols] * params.strategy.ravel()[votes.source_flat]
    right_v = params.know[votes.cols] + spam_v
    off = np.log(np.maximum(spam_v, _TINY))
    on = np.log(np.maximum(right_v, _TINY))
    logits = np.bincount(votes.flat, on - off, minlength=n * k).reshape(n, k)
    logits += np.bincount(votes.rows, off, minlength=n)[:, None]
    logits += log_prior[None, :]
    log_lik = float(votes.unit_weight @ normalise_log_rows(logits))
    knows = params.know[votes.cols] / np.maximum(right_v, _TINY)
    return logits, knows, log_lik


def expected_counts(
    votes: _Votes, posterior: np.ndarray, knows_if_right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected number of *known* votes, all votes, and *spam* votes per class.

    Returns
    -------
    known : ndarray of shape (m,)
    total : ndarray of shape (m,)
    spam : ndarray of shape (m, k)
    """
    m, k = votes.n_sources, votes.n_classes
    known_v = posterior.ravel()[votes.flat] * knows_if_right * votes.weight
    known = np.bincount(votes.cols, known_v, minlength=m)
    total = np.bincount(votes.cols, votes.weight, minlength=m)
    spam = np.bincount(votes.source_flat, votes.weight - known_v, minlength=m * k).reshape(m, k)
    return known, total, spam


def m_step_em(known: np.ndarray, total: np.ndarray, spam: np.ndarray, smoothing: float) -> MaceParams:
    """Point estimates from smoothed fractional counts."""
    theta = (known + smoothing) / (total + 2.0 * smoothing)
    strategy = _normalise_rows(spam + smoothing)
    return MaceParams(theta, 1.0 - theta, strategy)


def m_step_vb(known: np.ndarray, total: np.ndarray, spam: np.ndarray,
              alpha: float, beta: float, smoothing: float) -> MaceParams:
    """Variational weights ``exp(E[log .])`` under Beta/Dirichlet posteriors."""
    base = digamma(total + alpha + beta)
    know = np.exp(digamma(known + alpha) - base)
    spam_w = np.exp(digamma(np.maximum(total - known, 0.0) + beta) - base)
    counts = spam + smoothing
    strategy = np.exp(digamma(counts) - digamma(counts.sum(axis=1, keepdims=True)))
    return MaceParams(know, spam_w, strategy)


def posterior_means(known: np.ndarray, total: np.ndarray, spam: np.ndarray,
                    alpha: float, beta: float, smoothing: float) -> MaceParams:
    """Posterior means of ``theta`` and ``xi`` (the point estimates VB reports)."""
    theta = (known + alpha) / (total + alpha + beta)
    return MaceParams(theta, 1.0 - theta, _normalise_rows(spam + smoothing))


def _normalise_rows(counts: np.ndarray) -> np.ndarray:
    return counts / counts.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- estimator
class MACE(ConfusionLabelModel):
    """MACE label model: who knows and who spams (Hovy et al. 2013).

    Each worker ``j`` knows the answer with probability ``theta_j``
    (``competence_``) and otherwise spams, voting from its own distribution
    ``xi_j`` (``spam_strategy_``). This is the confusion matrix
    ``confusion_[j, c, v] = theta_j * 1[v = c] + (1 - theta_j) * xi_j[v]``,
    from which :meth:`predict_proba` computes posteriors on any matrix with
    the same sources.

    Parameters
    ----------
    method : {"vb", "em"}, default="vb"
        ``"vb"``: variational Bayes with a ``Beta(alpha, beta)`` prior on
        ``theta_j`` and a symmetric ``Dirichlet(smoothing)`` prior on
        ``xi_j``; the reported parameters are posterior means. ``"em"``:
        maximum likelihood with ``smoothing`` added to the fractional counts.
    alpha, beta : float, default=0.5, 0.5
        Beta prior on the competence (``"vb"`` only).
    smoothing : float, default=0.1
        Dirichlet concentration (``"vb"``) or additive smoothing (``"em"``)
        of the spam distributions; for ``"em"`` also added to the
        knowing/spamming counts.
    n_restarts : int, default=10
        Number of EM runs. The first starts from majority vote; the others
        from random ``theta ~ U(0, 1)`` and ``xi ~ Dirichlet(1)``, drawn per
        source from a hash of its name and the seed (so reordering the
        sources does not change the fit). The run with the largest marginal
        log-likelihood is kept.
    max_iter : int, default=50
        Maximum EM iterations per run.
    tol : float, default=1e-5
        A run stops when its log-likelihood per item changes by less than
        ``tol``.
    learn_class_balance : bool, default=True
        Estimate the class prior in the M-step (mean posterior, add-one
        smoothed). The paper fixes it uniform (``False``); on skewed data
        that lets MACE explain the majority class as "spam", e.g. 83.4 %
        instead of 93.6 % accuracy on D_Product. A given ``class_balance``
        is always kept fixed.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the random restarts (and the default seed of ``predict``).

    Attributes
    ----------
    competence_ : ndarray of shape (n_sources,)
        ``theta_j``, the probability that worker j knows the answer.
    spam_strategy_ : ndarray of shape (n_sources, k)
        ``xi_j``, the distribution of worker j's votes when it spams.
    confusion_ : ndarray of shape (n_sources, k, k)
    class_balance_ : ndarray of shape (k,)
        Given ``class_balance``, else learned (``learn_class_balance``), else
        uniform (the paper's model).
    log_likelihood_ : float
        Marginal log-likelihood per item of the kept run.
    loss_history_ : list of float
        Negative log-likelihood per item after each iteration of the kept run.
    n_iter_ : int
        Iterations of the kept run.
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "method": options("vb", "em"),
        "alpha": interval(float, 0.0, None, low_open=True),
        "beta": interval(float, 0.0, None, low_open=True),
        "smoothing": interval(float, 0.0, None, low_open=True),
        "n_restarts": interval(int, 1, None),
        "max_iter": interval(int, 1, None),
        "tol": interval(float, 0.0, None),
        "learn_class_balance": instance_of(bool, text="True or False"),
        "random_state": instance_of(int, np.random.Generator, type(None),
                                    text="None, an int or a numpy Generator"),
    }
    _state_arrays: ClassVar[tuple[str, ...]] = ("confusion_", "competence_", "spam_strategy_")
    _state_attrs: ClassVar[tuple[str, ...]] = ("log_likelihood_", "loss_history_", "n_iter_")

    def __init__(
        self,
        *,
        method: str = "vb",
        alpha: float = 0.5,
        beta: float = 0.5,
        smoothing: float = 0.1,
        n_restarts: int = 10,
        max_iter: int = 50,
        tol: float = 1e-5,
        learn_class_balance: bool = True,
        random_state: Any = None,
    ) -> None:
        self.method = method
        self.alpha = alpha
        self.beta = beta
        self.smoothing = smoothing
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.learn_class_balance = learn_class_balance
        self.random_state = random_state

    @property
    def spam_probability_(self) -> np.ndarray:
        """``1 - competence_``: probability that each worker spams, shape ``(m,)``."""
        self._check_fitted()
        return 1.0 - self.competence_

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        votes = _vote_arrays(prepare_votes(L, compress=False if gold is not None else None))
        k = L.n_classes
        prior = np.full(k, 1.0 / k) if class_balance is None else class_balance
        learn_prior = class_balance is None and self.learn_class_balance
        clamp = _Clamp(gold)
        seed = int(check_random_state(self.random_state).integers(0, 2**63 - 1))
        keys = source_keys(L.source_names)
        runs = []
        for restart in range(self.n_restarts):
            start = (_majority_start(votes, clamp, self._m_step) if restart == 0
                     else _random_start(keys, seed, restart, k))
            runs.append(self._run(votes, start, prior, learn_prior, clamp))
        best = max(runs, key=lambda run: run.log_likelihood)
        self.competence_ = best.params.know
        self.spam_strategy_ = best.params.strategy
        self.confusion_ = _confusion(best.params)
        self.class_balance_ = best.prior
        self.log_likelihood_ = best.log_likelihood
        self.loss_history_ = best.history
        self.n_iter_ = len(best.history)

    def _m_step(self, known: np.ndarray, total: np.ndarray, spam: np.ndarray) -> MaceParams:
        if self.method == "em":
            return m_step_em(known, total, spam, self.smoothing)
        return m_step_vb(known, total, spam, self.alpha, self.beta, self.smoothing)

    def _point(self, known: np.ndarray, total: np.ndarray, spam: np.ndarray) -> MaceParams:
        if self.method == "em":
            return m_step_em(known, total, spam, self.smoothing)
        return posterior_means(known, total, spam, self.alpha, self.beta, self.smoothing)

    def _run(
        self, votes: _Votes, params: MaceParams, prior: np.ndarray, learn_prior: bool, clamp: _Clamp
    ) -> _Run:
        """One EM run from ``params``; the result holds the point estimates."""
        n_total = float(votes.unit_weight.sum())
        history: list[float] = []
        for _ in range(self.max_iter):
            post, knows, log_lik = e_step(votes, params, np.log(np.maximum(prior, _TINY)))
            post = clamp(post)
            counts = expected_counts(votes, post, knows)
            params = self._m_step(*counts)
            if learn_prior:
                prior = (votes.unit_weight @ post + 1.0) / (n_total + votes.n_classes)
            history.append(-log_lik / n_total)
            if len(history) > 1 and abs(history[-2] - history[-1]) <= self.tol:
                break
        point = self._point(*counts)
        _, _, log_lik = e_step(votes, point, np.log(np.maximum(prior, _TINY)))
        return _Run(log_lik / n_total, point, prior, history)


@dataclass(frozen=True)
class _Run:
    log_likelihood: float
    params: MaceParams
    prior: np.ndarray
    history: list[float]


class _Clamp:
    """Replace the posterior of gold items by their one-hot label."""

    def __init__(self, gold: np.ndarray | None) -> None:
        self.gold = gold
        self.known = None if gold is None else np.flatnonzero(gold >= 0)

    def __call__(self, post: np.ndarray) -> np.ndarray:
        if self.gold is None or self.known is None or not self.known.size:
            return post
        post[self.known] = 0.0
        post[self.known, self.gold[self.known]] = 1.0
        return post


def _vote_arrays(data: VoteData) -> _Votes:
    k = data.n_classes
    return _Votes(data.rows, data.cols, data.labels, data.rows * k + data.labels, data.cols * k + data.labels,
                  data.weights[data.rows], data.weights, data.n_units, data.n_sources, k)


def _majority_start(votes: _Votes, clamp: _Clamp, m_step: Any) -> MaceParams:
    """Parameters from one M-step on majority-vote soft labels (votes right = known)."""
    k, n = votes.n_classes, votes.n_units
    counts = np.bincount(votes.flat, minlength=n * k).reshape(n, k).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    post = np.divide(counts, totals, out=np.full_like(counts, 1.0 / k), where=totals > 0)
    return m_step(*expected_counts(votes, clamp(post), np.ones(votes.rows.shape[0])))


def _random_start(keys: np.ndarray, seed: int, restart: int, n_classes: int) -> MaceParams:
    """``theta ~ U(0, 1)``, ``xi ~ Dirichlet(1)`` per source, drawn from the source's own key."""
    u = source_uniforms(keys, seed, restart, 1 + n_classes)
    spam_draws = -np.log(u[:, 1:])  # exponentials, normalised below: a Dirichlet(1) sample
    theta = u[:, 0]
    return MaceParams(theta, 1.0 - theta, _normalise_rows(spam_draws))


def source_keys(names: tuple[str, ...] | list[str]) -> np.ndarray:
    """A 64-bit key per source name (stable across runs and platforms)."""
    digests = [hashlib.blake2b(str(name).encode(), digest_size=8).digest() for name in names]
    return np.array([int.from_bytes(d, "little") for d in digests], dtype=np.uint64)


def source_uniforms(keys: np.ndarray, seed: int, stream: int, size: int) -> np.ndarray:
    """Uniforms in (0, 1), shape ``(m, size)``: a splitmix64 hash of (key, seed, stream, column).

    Each source's draws depend on its key only, so a random start does not
    change when the sources are reordered.
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    mul1, mul2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    with np.errstate(over="ignore"):
        base = np.uint64(seed) ^ (np.uint64(stream + 1) * golden)
        z = (keys[:, None] ^ base) + (np.arange(1, size + 1, dtype=np.uint64)[None, :] * golden)
        z = (z ^ (z >> np.uint64(30))) * mul1
        z = (z ^ (z >> np.uint64(27))) * mul2
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _confusion(params: MaceParams) -> np.ndarray:
    """``theta_j * I + (1 - theta_j) * 1 xi_j^T``, shape ``(m, k, k)``."""
    k = params.strategy.shape[1]
    confusion = (params.spam[:, None, None] * params.strategy[:, None, :]) * np.ones((1, k, 1))
    idx = np.arange(k)
    confusion[:, idx, idx] += params.know[:, None]
    return confusion
