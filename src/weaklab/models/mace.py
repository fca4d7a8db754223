"""MACE: Multi-Annotator Competence Estimation (Hovy et al., NAACL 2013).

Model. Item ``i`` has a true class ``y_i ~ pi`` (uniform in the paper,
learned here by default).
When worker ``j`` labels it, the worker *knows* the answer with probability
``theta_j`` (the competence) and then votes ``y_i``; otherwise it *spams*
and votes ``v`` with probability ``xi_j[v]`` whatever the truth. Hence

    P(vote v | y = c) = theta_j * 1[v = c] + (1 - theta_j) * xi_j[v],

a confusion matrix per worker: MACE is a :class:`ConfusionLabelModel`.

Fitting is EM (E-step: posterior over ``y`` and over "knowing"; M-step:
fractional counts), either with additive smoothing (``method="em"``) or
with the paper's variational Bayes under a ``Beta(alpha, beta)`` prior on
``theta_j`` and a symmetric ``Dirichlet(smoothing)`` prior on ``xi_j``
(``method="vb"``). Both steps are sparse products with the one-hot votes
``(n_units, m * k)``: every per-vote quantity depends only on (worker,
vote), so it is a table of ``m * k`` rows. Several starts (majority vote,
then random); the one with the best marginal log-likelihood wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma

from .._core import LabelMatrix
from .._core.constants import TINY
from .._core.validation import Checker, check_random_state, check_seed, instance_of, interval, optional, options
from ._base import StateShapes
from ._em import EMLabelModel, EMResult, clamp_to_gold, normalise_log_columns, run_em
from ._votes import VoteData, prepare_votes

__all__ = ["MACE"]


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
class _Design:
    """Fit data: one-hot votes of the units and the weighted vote counts.

    Attributes
    ----------
    X : scipy.sparse CSR array of shape (n_units, m * k)
        ``X[u, j * k + v] = 1`` when source j voted v on unit u.
    unit_weight : ndarray of shape (n_units,)
        Items per unit; ``weighted`` is False when they are all 1.
    counts : ndarray of shape (m, k)
        Weighted number of votes of each source for each class.
    """

    X: Any
    unit_weight: np.ndarray
    weighted: bool
    counts: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes ``k``."""
        return int(self.counts.shape[1])


# --------------------------------------------------------------------------- pure steps
def vote_log_table(params: MaceParams) -> np.ndarray:
    """``T[c, j * k + v] = log P(source j votes v | y = c)``, shape ``(k, m * k)``.

    ``P(v | c) = know_j * 1[v = c] + spam_j * xi_j[v]`` (sub-normalised under VB).
    """
    m, k = params.strategy.shape
    spam = (params.spam[:, None] * params.strategy).ravel()
    table = np.repeat(spam[None, :], k, axis=0)
    table[np.tile(np.arange(k), m), np.arange(m * k)] += np.repeat(params.know, k)
    return np.log(np.maximum(table, TINY))


def knows_if_right(params: MaceParams) -> np.ndarray:
    """``P(source j knew | it voted v and v is the truth)``, shape ``(m, k)``."""
    know = params.know[:, None]
    return know / np.maximum(know + params.spam[:, None] * params.strategy, TINY)


def e_step(design: _Design, params: MaceParams, log_prior: np.ndarray) -> tuple[np.ndarray, float]:
    """Posterior over classes of every unit and the weighted marginal log-likelihood.

    Returns
    -------
    posterior : ndarray of shape (k, n_units)
        Class-major (fast per-class reductions).
    log_likelihood : float
        ``sum_u weight_u * log P(votes of u)`` under ``params``.
    """
    table = vote_log_table(params)
    logits = np.empty((table.shape[0], design.X.shape[0]))
    for c in range(table.shape[0]):
        logits[c] = design.X @ table[c]
    logits += log_prior[:, None]
    log_lik = float(np.sum(design.unit_weight * normalise_log_columns(logits)))  # not BLAS (thread stalls)
    return logits, log_lik


def expected_counts(
    design: _Design, posterior: np.ndarray, params: MaceParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected number of *known* votes, all votes, and *spam* votes per class.

    A vote ``v`` of source ``j`` was known with probability
    ``P(y = v | votes) * knows_if_right[j, v]``, else it was spam.

    Parameters
    ----------
    posterior : ndarray of shape (k, n_units)

    Returns
    -------
    known : ndarray of shape (m,)
    total : ndarray of shape (m,)
    spam : ndarray of shape (m, k)
    """
    m, k = design.counts.shape
    right = np.empty((m, k))  # [j, v] = sum of P(y = v) over the units where j voted v
    XT = design.X.T
    for c in range(k):
        mass = posterior[c] * design.unit_weight if design.weighted else posterior[c]
        right[:, c] = (XT @ mass)[c::k]
    known = right * knows_if_right(params)
    return known.sum(axis=1), design.counts.sum(axis=1), design.counts - known


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
class MACE(EMLabelModel):
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
        sources does not change the fit). See ``screen_iter`` for how the
        kept run is chosen.
    max_iter : int, default=200
        Maximum EM iterations of the kept run. (50 stopped the kept run
        before ``tol`` on the Zheng et al. product and sentiment crowds and
        on WRENCH TREC, which converge in 60-86 iterations, so ordinary
        data warned of non-convergence.)
    tol : float, default=1e-5
        A run stops when its log-likelihood per item changes by less than
        ``tol``.
    screen_iter : int or None, default=10
        Every start first runs ``screen_iter`` iterations; the start with
        the largest marginal log-likelihood then continues up to
        ``max_iter``. ``None`` runs every start to ``max_iter`` and keeps the
        best (the original MACE, ``n_restarts`` times the cost). On the
        Zheng et al. sets the majority-vote start wins or ties, so screening
        keeps the quality at a fraction of the time on crowd-scale data.
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
    loss_history_ : ndarray of shape (n_iter_,)
        Negative log-likelihood per item at each E-step of the kept run.
    n_iter_ : int
        E-steps of the kept run, ``len(loss_history_)``.
    converged_ : bool
        False when ``max_iter`` stopped the kept run (then a
        :class:`~weaklab.errors.ConvergenceWarning` was emitted).

    Examples
    --------
    >>> from weaklab import MACE, MajorityVote
    >>> from weaklab.synthetic import make_crowd
    >>> crowd = make_crowd(300, 15, 5, spammer_fraction=0.4, random_state=0)
    >>> mace = MACE(random_state=0).fit(crowd.L)
    >>> mace_acc = float((mace.predict(crowd.L) == crowd.y).mean())
    >>> mv_acc = float((MajorityVote().fit(crowd.L).predict(crowd.L, random_state=0) == crowd.y).mean())
    >>> mace_acc > mv_acc  # MACE finds the spammers (40 % of the workers here)
    True
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "method": options("vb", "em"),
        "alpha": interval(float, 0.0, None, low_open=True),
        "beta": interval(float, 0.0, None, low_open=True),
        "smoothing": interval(float, 0.0, None, low_open=True),
        "n_restarts": interval(int, 1, None),
        "max_iter": interval(int, 1, None),
        "tol": interval(float, 0.0, None),
        "screen_iter": optional(interval(int, 1, None)),
        "learn_class_balance": instance_of(bool, text="True or False"),
        "random_state": check_seed,
    }
    _state_arrays: ClassVar[tuple[str, ...]] = (*EMLabelModel._state_arrays, "competence_", "spam_strategy_")
    _state_shapes: ClassVar[StateShapes] = {"competence_": ("m",), "spam_strategy_": ("m", "k")}
    _state_attrs: ClassVar[tuple[str, ...]] = (*EMLabelModel._state_attrs, "log_likelihood_")

    def __init__(
        self,
        *,
        method: str = "vb",
        alpha: float = 0.5,
        beta: float = 0.5,
        smoothing: float = 0.1,
        n_restarts: int = 10,
        max_iter: int = 200,
        tol: float = 1e-5,
        screen_iter: int | None = 10,
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
        self.screen_iter = screen_iter
        self.learn_class_balance = learn_class_balance
        self.random_state = random_state

    @property
    def spam_probability_(self) -> np.ndarray:
        """``1 - competence_``: probability that each worker spams, shape ``(m,)``."""
        self._check_fitted()
        return 1.0 - self.competence_

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        data = prepare_votes(L, keys=gold)
        design = _make_design(data)
        k = L.n_classes
        prior = np.full(k, 1.0 / k) if class_balance is None else class_balance
        learn_prior = class_balance is None and self.learn_class_balance
        seed = int(check_random_state(self.random_state).integers(0, 2**63 - 1))
        keys = source_keys(L.source_names)
        starts = [_majority_start(design, data.class_counts(), data.keys, self._m_step)]
        starts += [_random_start(keys, seed, r, k) for r in range(1, self.n_restarts)]
        screen = self.max_iter if self.screen_iter is None else min(self.screen_iter, self.max_iter)
        exhaustive = screen == self.max_iter or len(starts) == 1
        budget = self.max_iter if exhaustive else screen
        steps = _Steps(design, data.keys, prior, learn_prior, self._m_step)
        runs = [run_em((start, prior), steps.expect, steps.maximise, max_iter=budget, tol=self.tol)
                for start in starts]
        scores = [self._finish(steps, run)[0] for run in runs]
        best = runs[int(np.argmax(scores))]
        if not exhaustive:
            best = run_em(best.params, steps.expect, steps.maximise, max_iter=self.max_iter - budget, tol=self.tol,
                          previous=best)
        log_lik, params = self._finish(steps, best)
        self.competence_ = params.know
        self.spam_strategy_ = params.strategy
        self.confusion_ = _confusion(params)
        self.class_balance_ = steps.prior(best.stats)
        self.log_likelihood_ = log_lik
        self._record_em(best)

    def _m_step(self, known: np.ndarray, total: np.ndarray, spam: np.ndarray) -> MaceParams:
        if self.method == "em":
            return m_step_em(known, total, spam, self.smoothing)
        return m_step_vb(known, total, spam, self.alpha, self.beta, self.smoothing)

    def _finish(self, steps: _Steps, run: EMResult[_State, _Stats]) -> tuple[float, MaceParams]:
        """Point estimates from a run's last E-step and their marginal log-likelihood per item."""
        counts, _ = run.stats
        if self.method == "em":
            point = m_step_em(*counts, self.smoothing)
        else:
            point = posterior_means(*counts, self.alpha, self.beta, self.smoothing)
        _, log_lik = e_step(steps.design, point, np.log(np.maximum(steps.prior(run.stats), TINY)))
        return log_lik / steps.n_total, point


_State = tuple[MaceParams, np.ndarray]
"""What an E-step needs: worker parameters and the class prior."""
_Stats = tuple[tuple[np.ndarray, np.ndarray, np.ndarray], "np.ndarray | None"]
"""What an E-step gives: expected (known, total, spam) counts, and the class mass when the prior is learned."""


@dataclass(frozen=True)
class _Steps:
    """The E- and M-step of one MACE fit, in the form :func:`run_em` takes."""

    design: _Design
    keys: np.ndarray | None
    start_prior: np.ndarray
    learn_prior: bool  # the mean posterior, add-one smoothed; else start_prior throughout
    m_step: Callable[[np.ndarray, np.ndarray, np.ndarray], MaceParams]

    @property
    def n_total(self) -> float:
        """Number of items (the units' total weight)."""
        return float(self.design.unit_weight.sum())

    def expect(self, state: _State) -> tuple[_Stats, float]:
        """E-step (gold units clamped): expected counts, class mass, and the negative log-likelihood per item."""
        params, prior = state
        post, log_lik = e_step(self.design, params, np.log(np.maximum(prior, TINY)))
        post = clamp_to_gold(post, self.keys)
        mass = _class_mass(post, self.design) if self.learn_prior else None
        return (expected_counts(self.design, post, params), mass), -log_lik / self.n_total

    def maximise(self, state: _State, stats: _Stats) -> _State:
        """M-step: worker parameters and prior from the expected counts."""
        return self.m_step(*stats[0]), self.prior(stats)

    def prior(self, stats: _Stats) -> np.ndarray:
        """The fixed prior, or the one learned from an E-step's class mass."""
        mass = stats[1]
        return self.start_prior if mass is None else (mass + 1.0) / (self.n_total + self.design.n_classes)


def _class_mass(post: np.ndarray, design: _Design) -> np.ndarray:
    """Weighted posterior mass of every class, shape ``(k,)``."""
    return (post * design.unit_weight[None, :] if design.weighted else post).sum(axis=1)


def _make_design(data: VoteData) -> _Design:
    X = data.one_hot
    weights = data.weights
    weighted = not np.all(weights == 1.0)
    counts = np.asarray(X.T @ weights) if weighted else np.asarray(X.sum(axis=0)).ravel()
    return _Design(X, weights, weighted, counts.reshape(data.n_sources, data.n_classes))


def _majority_start(design: _Design, class_counts: np.ndarray, keys: np.ndarray | None,
                    m_step: Any) -> MaceParams:
    """Parameters from one M-step on majority-vote soft labels (a vote for the truth = known)."""
    k = design.n_classes
    totals = class_counts.sum(axis=1, keepdims=True)
    shares = np.divide(class_counts, totals, out=np.full_like(class_counts, 1.0 / k), where=totals > 0)
    post = clamp_to_gold(np.ascontiguousarray(shares.T), keys)
    m = design.counts.shape[0]
    always = MaceParams(np.ones(m), np.zeros(m), np.full((m, k), 1.0 / k))
    return m_step(*expected_counts(design, post, always))


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
