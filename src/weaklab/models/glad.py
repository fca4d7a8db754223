"""GLAD: worker ability times item difficulty (Whitehill et al., NIPS 2009).

Model. Item ``i`` has a true class ``y_i ~ pi`` and an *easiness*
``beta_i = exp(b_i) > 0``; worker ``j`` has an *ability* ``alpha_j`` (any
real; negative means adversarial). Worker ``j`` answers item ``i`` correctly
with probability ``sigmoid(alpha_j * beta_i)``; a wrong answer is uniform over
the other ``k - 1`` classes. Priors: ``alpha_j ~ N(alpha_prior_mean,
alpha_prior_var)``, ``b_i ~ N(log_beta_prior_mean, log_beta_prior_var)``.

Fitting is EM on the MAP objective. The E-step is the posterior over ``y_i``;
the M-step takes Newton steps on the abilities and on the log-easiness (the
expected complete log-likelihood is separable in each block, so the steps
are exact per parameter and vectorised over the votes with ``bincount``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import expit

from .._core import LabelMatrix
from .._core.constants import TINY
from .._core.validation import Checker, check_seed, interval
from ._base import StateShapes
from ._em import EMLabelModel, EMResult, clamp_to_gold, normalise_log_columns, run_em
from ._posterior import one_coin_matrix
from ._votes import prepare_votes

__all__ = ["GLAD"]

_Params = tuple[np.ndarray, np.ndarray]
"""Worker abilities ``(m,)`` and the log-easiness of every unit ``(n_units,)``."""

_MAX_STEP = 1.0  # largest Newton step on one parameter (keeps early iterations stable)
_NEWTON_ROUNDS = 1  # alternating (ability, easiness) Newton rounds per M-step


@dataclass(frozen=True)
class _Votes:
    """Per-vote arrays of the fit: unit, source, flat ``class * n_units + unit``, weight (None = all 1)."""

    rows: np.ndarray
    cols: np.ndarray
    flat: np.ndarray
    weight: np.ndarray | None
    unit_weight: np.ndarray
    n_units: int
    n_sources: int
    n_classes: int


# --------------------------------------------------------------------------- pure steps
def vote_log_likelihoods(scores: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-probability of a vote being right, and of it being one given wrong class.

    Parameters
    ----------
    scores : ndarray of shape (nnz,)
        ``alpha_j * beta_i`` of every vote.
    n_classes : int

    Returns
    -------
    right, wrong : ndarray of shape (nnz,)
        ``log sigmoid(s)`` and ``log(1 - sigmoid(s)) - log(k - 1)``.
    """
    right = np.minimum(scores, 0.0)
    right -= np.log1p(np.exp(-np.abs(scores)))  # log sigmoid(s), stable and faster than logaddexp
    wrong = right - scores  # log sigmoid(-s)
    wrong -= np.log(n_classes - 1)
    return right, wrong


def e_step(votes: _Votes, scores: np.ndarray, log_prior: np.ndarray) -> tuple[np.ndarray, float]:
    """Posterior over classes of every unit and the weighted marginal log-likelihood.

    Returns
    -------
    posterior : ndarray of shape (k, n_units)
        Class-major, so that per-class reductions run over contiguous memory.
    log_likelihood : float
        ``sum_u weight_u * log P(votes of u)``.
    """
    k = votes.n_classes
    right, wrong = vote_log_likelihoods(scores, k)
    logits = np.bincount(votes.flat, right - wrong, minlength=votes.n_units * k).reshape(k, votes.n_units)
    logits += np.bincount(votes.rows, wrong, minlength=votes.n_units)[None, :]
    logits += log_prior[:, None]
    log_norm = normalise_log_columns(logits)
    return logits, float(np.sum(votes.unit_weight * log_norm))  # not BLAS: its threads stall small dots


def update_ability(
    alpha: np.ndarray, beta_v: np.ndarray, correct: np.ndarray, votes: _Votes, mean: float, var: float
) -> np.ndarray:
    """One Newton step on every worker ability (the block objective is concave).

    Parameters
    ----------
    alpha : ndarray of shape (m,)
    beta_v : ndarray of shape (nnz,)
        Easiness of the item of every vote.
    correct : ndarray of shape (nnz,)
        Posterior probability that each vote is correct.
    """
    p = expit(alpha[votes.cols] * beta_v)
    grad, hess = _newton_terms(correct, p, beta_v, votes.weight)
    grad = np.bincount(votes.cols, grad, minlength=votes.n_sources) - (alpha - mean) / var
    hess = np.bincount(votes.cols, hess, minlength=votes.n_sources) + 1.0 / var
    return alpha + np.clip(grad / hess, -_MAX_STEP, _MAX_STEP)


def update_log_beta(
    log_beta: np.ndarray, alpha_v: np.ndarray, correct: np.ndarray, votes: _Votes, mean: float, var: float
) -> np.ndarray:
    """One Fisher-scoring step on every item's log-easiness.

    Unit weights cancel here: every vote of a unit carries the same weight.

    Parameters
    ----------
    log_beta : ndarray of shape (n_units,)
    alpha_v : ndarray of shape (nnz,)
        Ability of the worker of every vote.
    correct : ndarray of shape (nnz,)
    """
    s = alpha_v * np.exp(log_beta)[votes.rows]
    grad, hess = _newton_terms(correct, expit(s), s, None)
    grad = np.bincount(votes.rows, grad, minlength=votes.n_units) - (log_beta - mean) / var
    hess = np.bincount(votes.rows, hess, minlength=votes.n_units) + 1.0 / var
    return log_beta + np.clip(grad / hess, -_MAX_STEP, _MAX_STEP)


def _newton_terms(
    correct: np.ndarray, p: np.ndarray, slope: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-vote gradient ``w (q - p) x`` and curvature ``w p (1 - p) x^2`` (in place on ``p``)."""
    grad = correct - p
    grad *= slope
    p *= 1.0 - p
    p *= slope
    p *= slope
    if weight is not None:
        grad *= weight
        p *= weight
    return grad, p


def gaussian_log_prior(
    values: np.ndarray, mean: float, var: float, weight: np.ndarray | None = None
) -> float:
    """Sum of ``log N(values; mean, var)`` up to a constant, optionally weighted."""
    terms = -0.5 * (values - mean) ** 2 / var
    return float(np.sum(terms if weight is None else weight * terms))


# --------------------------------------------------------------------------- estimator
class GLAD(EMLabelModel):
    """GLAD label model: worker ability and item difficulty (Whitehill et al. 2009).

    Worker ``j`` answers item ``i`` correctly with probability
    ``sigmoid(alpha_j * beta_i)``, where ``alpha_j`` is the worker's ability
    and ``beta_i > 0`` the item's easiness (``1 / beta_i`` is its difficulty);
    wrong answers are uniform over the other classes. EM on the MAP
    objective with Gaussian priors on ``alpha`` and ``log beta``; the M-step
    takes Newton steps, vectorised over the votes.

    **Prediction on new items.** The difficulty of an unseen item is
    unknown, so :meth:`predict_proba` uses the prior's typical easiness
    ``beta_0 = exp(log_beta_prior_mean)`` for every item. GLAD then reduces
    to a one-coin model per worker (``confusion_[j, c, c] =
    sigmoid(alpha_j * beta_0)``, errors uniform), so ``predict_proba`` is a
    pure function of the votes and the learned worker parameters, and works
    on any matrix with the same sources. The posteriors of the *training*
    items, which use their learned difficulties, are kept in
    ``train_proba_``.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations (E-steps).
    tol : float, default=1e-5
        Stop when the loss (negative MAP objective per item) changes by less
        than ``tol`` between two E-steps.
    alpha_prior_mean, alpha_prior_var : float, default=1.0, 1.0
        Gaussian prior on worker abilities.
    log_beta_prior_mean, log_beta_prior_var : float, default=0.0, 1.0
        Gaussian prior on the log-easiness of items.
    random_state : None, int or numpy.random.Generator, default=None
        The fit is deterministic (it starts from the prior means); the seed
        is the default for ``predict(..., tie_break="random")``.

    Attributes
    ----------
    worker_ability_ : ndarray of shape (n_sources,)
        ``alpha_j``.
    item_difficulty_ : ndarray of shape (n_items,)
        ``1 / beta_i`` of the training items (not saved by :meth:`to_state`).
    train_proba_ : ndarray of shape (n_items, n_classes)
        Posteriors of the training items with their learned difficulties
        (not saved by :meth:`to_state`).
    confusion_ : ndarray of shape (n_sources, k, k)
        One-coin confusion at the prior easiness ``beta_0``, used by
        :meth:`predict_proba`.
    class_balance_ : ndarray of shape (k,)
        Given ``class_balance``, else uniform. As in the original GLAD, the
        class prior is fixed, not learned: learning it jointly with the
        abilities lets EM collapse onto the majority class on skewed data.
    loss_history_ : ndarray of shape (n_iter_,)
        Negative MAP objective per item at each E-step (the first entry
        is at the initial parameters).
    n_iter_ : int
        E-steps run, ``len(loss_history_)``.
    converged_ : bool
        False when ``max_iter`` stopped the fit (then a
        :class:`~weaklab.errors.ConvergenceWarning` was emitted; the
        parameters are those of one more M-step, ``train_proba_`` their posterior).

    Examples
    --------
    >>> from weaklab import GLAD, MajorityVote
    >>> from weaklab.synthetic import make_crowd
    >>> crowd = make_crowd(300, 15, 5, spammer_fraction=0.4, random_state=0)
    >>> glad = GLAD(random_state=0).fit(crowd.L)
    >>> mv = MajorityVote().fit(crowd.L)
    >>> glad_acc = float((glad.predict(crowd.L) == crowd.y).mean())
    >>> mv_acc = float((mv.predict(crowd.L, random_state=0) == crowd.y).mean())
    >>> glad_acc >= mv_acc, glad.predict_proba(crowd.L).shape
    (True, (300, 2))
    """

    _parameter_spec: ClassVar[dict[str, Checker]] = {
        "max_iter": interval(int, 1, None),
        "tol": interval(float, 0.0, None),
        "alpha_prior_mean": interval(float),
        "alpha_prior_var": interval(float, 0.0, None, low_open=True),
        "log_beta_prior_mean": interval(float),
        "log_beta_prior_var": interval(float, 0.0, None, low_open=True),
        "random_state": check_seed,
    }
    _state_arrays: ClassVar[tuple[str, ...]] = (*EMLabelModel._state_arrays, "worker_ability_")
    _state_shapes: ClassVar[StateShapes] = {"worker_ability_": ("m",)}

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        alpha_prior_mean: float = 1.0,
        alpha_prior_var: float = 1.0,
        log_beta_prior_mean: float = 0.0,
        log_beta_prior_var: float = 1.0,
        random_state: Any = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.alpha_prior_mean = alpha_prior_mean
        self.alpha_prior_var = alpha_prior_var
        self.log_beta_prior_mean = log_beta_prior_mean
        self.log_beta_prior_var = log_beta_prior_var
        self.random_state = random_state

    def _fit(self, L: LabelMatrix, gold: np.ndarray | None, class_balance: np.ndarray | None) -> None:
        data = prepare_votes(L, keys=gold)
        k, n_units = L.n_classes, data.n_units
        unit_weight = data.weights
        vote_weight = None if np.all(unit_weight == 1.0) else unit_weight[data.rows]
        votes = _Votes(data.rows, data.cols, data.labels * n_units + data.rows, vote_weight,
                       unit_weight, n_units, L.n_sources, k)
        prior = np.full(k, 1.0 / k) if class_balance is None else class_balance
        start = (np.full(L.n_sources, float(self.alpha_prior_mean)), np.full(n_units, float(self.log_beta_prior_mean)))

        def e_step(params: _Params) -> tuple[np.ndarray, float]:
            return self._expect(votes, *params, prior, data.keys)

        result: EMResult[_Params, np.ndarray] = run_em(
            start, e_step, lambda params, post: self._maximise(votes, post, *params),
            max_iter=self.max_iter, tol=self.tol)
        alpha, log_beta = result.params
        post = result.stats if result.converged else e_step(result.params)[0]  # the posterior at the kept params
        beta_0 = float(np.exp(self.log_beta_prior_mean))
        self.worker_ability_ = alpha
        self.class_balance_ = prior
        self.confusion_ = one_coin_matrix(expit(alpha * beta_0), k)
        self.item_difficulty_ = data.expand(np.exp(-log_beta))
        self.train_proba_ = data.expand(np.ascontiguousarray(post.T))
        self._record_em(result)

    def _expect(
        self, votes: _Votes, alpha: np.ndarray, log_beta: np.ndarray, prior: np.ndarray,
        keys: np.ndarray | None,
    ) -> tuple[np.ndarray, float]:
        """E-step (gold units clamped) plus the loss (negative MAP objective per item)."""
        scores = alpha[votes.cols] * np.exp(log_beta)[votes.rows]
        log_prior = np.log(np.clip(prior, TINY, None))
        post, log_lik = e_step(votes, scores, log_prior)
        objective = (log_lik
                     + gaussian_log_prior(alpha, self.alpha_prior_mean, self.alpha_prior_var)
                     + gaussian_log_prior(log_beta, self.log_beta_prior_mean, self.log_beta_prior_var,
                                          votes.unit_weight))
        return clamp_to_gold(post, keys), -objective / float(votes.unit_weight.sum())

    def _maximise(
        self, votes: _Votes, post: np.ndarray, alpha: np.ndarray, log_beta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """M-step: alternating Newton steps on abilities and log-easiness."""
        correct = post.ravel()[votes.flat]
        for _ in range(_NEWTON_ROUNDS):
            alpha = update_ability(alpha, np.exp(log_beta)[votes.rows], correct, votes,
                                   self.alpha_prior_mean, self.alpha_prior_var)
            log_beta = update_log_beta(log_beta, alpha[votes.cols], correct, votes,
                                       self.log_beta_prior_mean, self.log_beta_prior_var)
        return alpha, log_beta
