"""A hidden Markov model over IO tags whose emissions are the sources' votes (skweak-style).

The hidden state of a token is its IO tag (``O`` or one entity type). Each
source ``j`` emits, on every token, the type it marks there or ``O``, with a
per-source confusion ``emission_[j, state, observed]``; states follow a
first-order Markov chain (``startprob_``, ``transmat_``). EM fits all of it on
the votes alone, starting from majority vote; a Dirichlet prior keeps each
source's confusion near "right when it fires" so the states keep their meaning.

Plain-loop specification of one E step for a sentence of tokens ``0..T-1``::

    for t in range(T):
        for s in states:
            e[t, s] = prod_j emission[j, s, vote_j(t)]          # vote_j(t) = 0 (O) unless j marks t
    alpha[0] = start * e[0];  alpha[t] = (alpha[t-1] @ trans) * e[t]      (normalised each step)
    beta[T-1] = 1;            beta[t] = trans @ (e[t+1] * beta[t+1])      (same scaling)
    gamma[t] = alpha[t] * beta[t] / sum(...)                             # posterior of each tag

The body below runs it on batches of sentences of similar length at once, and
computes ``e`` from the sparse votes: all-``O`` emissions plus a correction on
the tokens a source marks.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._core.validation import check_bool, check_choice, check_float, check_int, check_random_state
from .base import TagLabelModel, tied_confusions
from .majority import MajorityVoteTagger
from .votes import TokenVotes

__all__ = ["HMMLabelModel", "log_emissions", "forward_backward", "voted_support", "o_weights"]

_TINY = 1e-300


def o_weights(votes: TokenVotes, o_weight: float) -> np.ndarray:
    """Weight of the ``O`` observations on each token: ``o_weight`` where some source fires, else 1.

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(1, 2, "A")]]], [3], source_names=["s"], entity_types=["A"])
    >>> o_weights(v, 0.25).tolist()
    [1.0, 0.25, 1.0]
    """
    w = np.ones(votes.n_tokens)
    w[votes.token_votes()[0]] = o_weight
    return w


def log_emissions(votes: TokenVotes, log_b: np.ndarray, o_weight: float = 1.0) -> np.ndarray:
    """Log-likelihood of each token's votes under each state.

    Parameters
    ----------
    votes : TokenVotes
    log_b : ndarray of shape (n_sources, n_states, n_types + 1)
        ``log P(source j observes o | state s)``, ``o = 0`` meaning ``O``.
    o_weight : float, default 1.0
        Weight of the ``O`` observations on tokens where some source fires
        (``0``: they abstain, WRENCH's convention; ``1``: a full observation).

    Returns
    -------
    ndarray of shape (n_tokens, n_states)

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(1, 2, "A")]]], [2], source_names=["s"], entity_types=["A"])
    >>> lb = np.log(np.array([[[0.9, 0.1], [0.4, 0.6]]]))
    >>> np.exp(log_emissions(v, lb)).round(2).tolist()
    [[0.9, 0.4], [0.1, 0.6]]
    """
    tok, src, typ = votes.token_votes()
    n_states = log_b.shape[1]
    w = o_weights(votes, o_weight)
    out = w[:, None] * log_b[:, :, 0].sum(axis=0)[None, :]
    delta = log_b[src, :, typ + 1] - w[tok, None] * log_b[src, :, 0]  # (n_votes, n_states)
    for s in range(n_states):
        out[:, s] += np.bincount(tok, weights=delta[:, s], minlength=votes.n_tokens)
    return out


def voted_support(votes: TokenVotes) -> np.ndarray:
    """Log-mask of the tags each token may take: ``O`` where no source fires, else only the voted types.

    Returns
    -------
    ndarray of shape (n_tokens, n_types + 1)
        ``0`` where allowed, ``-1e4`` where not (finite, so no ``nan`` arises).

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(0, 1, "B")]]], [2], source_names=["s"], entity_types=["A", "B"])
    >>> voted_support(v).tolist()
    [[-10000.0, -10000.0, 0.0], [0.0, -10000.0, -10000.0]]
    """
    tok, _, typ = votes.token_votes()
    mask = np.full((votes.n_tokens, votes.n_types + 1), -1e4)
    mask[:, 0] = 0.0
    mask[tok, 0] = -1e4
    mask[tok, typ + 1] = 0.0
    return mask


def _batches(lengths: np.ndarray, max_cells: int) -> list[np.ndarray]:
    """Sentence indices grouped by similar length, each group at most ``max_cells`` padded tokens."""
    order = np.argsort(lengths, kind="stable")
    out: list[np.ndarray] = []
    current: list[int] = []
    longest = 0
    for i in order.tolist():
        n = int(lengths[i])
        if current and max(longest, n) * (len(current) + 1) > max_cells:
            out.append(np.asarray(current))
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        out.append(np.asarray(current))
    return out


def forward_backward(log_e: np.ndarray, lengths: np.ndarray, start: np.ndarray,
                     trans: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Posteriors of a batch of padded sentences (scaled forward-backward).

    Parameters
    ----------
    log_e : ndarray of shape (n_sentences, T, n_states)
        Log emission likelihoods, padded to the longest sentence.
    lengths : ndarray of shape (n_sentences,)
    start : ndarray of shape (n_states,)
    trans : ndarray of shape (n_states, n_states)

    Returns
    -------
    gamma : ndarray of shape (n_sentences, T, n_states)
        Posterior of each state (rows past a sentence's end are meaningless).
    xi : ndarray of shape (n_states, n_states)
        Expected transition counts summed over the batch.
    loglik : float
        Log-likelihood of the batch.
    """
    n, T, _ = log_e.shape
    top = log_e.max(axis=2, keepdims=True)
    e = np.exp(log_e - top)
    valid = np.arange(T)[None, :] < lengths[:, None]
    alpha = np.empty_like(e)
    scale = np.ones((n, T))
    a = start[None, :] * e[:, 0]
    scale[:, 0] = a.sum(axis=1) + _TINY
    alpha[:, 0] = a / scale[:, 0, None]
    for t in range(1, T):
        a = (alpha[:, t - 1] @ trans) * e[:, t]
        c = a.sum(axis=1) + _TINY
        live = valid[:, t]
        alpha[:, t] = np.where(live[:, None], a / c[:, None], alpha[:, t - 1])
        scale[:, t] = np.where(live, c, 1.0)
    beta = np.ones_like(e)
    for t in range(T - 2, -1, -1):
        b = (e[:, t + 1] * beta[:, t + 1]) @ trans.T / scale[:, t + 1, None]
        beta[:, t] = np.where(valid[:, t + 1, None], b, 1.0)
    gamma = alpha * beta
    gamma /= gamma.sum(axis=2, keepdims=True) + _TINY
    w = e[:, 1:] * beta[:, 1:] / scale[:, 1:, None] * valid[:, 1:, None]
    xi = trans * np.einsum("bti,btj->ij", alpha[:, :-1], w)
    loglik = float(np.log(scale).sum() + (top[..., 0] * valid).sum())
    return gamma, xi, loglik


class HMMLabelModel(TagLabelModel):
    """The default tag label model: an HMM over IO tags with per-source emission confusions, fit by EM.

    Parameters
    ----------
    n_iter : int, default 30
        Maximum EM iterations.
    tol : float, default 1e-4
        Stop when the log-likelihood per token improves by less.
    prior_strength : float, default 10.0
        Dirichlet pseudo-counts that pull each source toward "its vote is right when it fires" and "its
        ``O`` is right on ``O`` tokens" (keeps states tied to their types).
    transition_prior : float, default 1.0
        Pseudo-count added to every transition and start count.
    support : {"voted", "any"}, default "voted"
        Which tags a token some source marks may take. ``"voted"`` follows WRENCH's convention that ``O``
        wins only where no source fires and keeps the choice among the types voted there: the model then
        settles conflicts and ties (weighing sources by their learned reliability and neighbours by the
        transitions) but never drops or invents a type. ``"any"``: every tag, as the posterior says.
    o_weight : float, default 0.0
        Weight of a source's ``O`` on tokens where another source fires: ``0`` treats it as an abstention
        (WRENCH's convention, robust to redundant sources that fire together), ``1`` as a full observation.
        On tokens no source marks, the ``O`` votes always count fully.
    random_state : int, Generator or None, default None
        Seeds the small jitter of the starting posteriors (results are deterministic given it).
    max_batch_tokens : int, default 200_000
        Padded tokens per forward-backward batch (memory bound).
    short_forms : bool, default True
        When ``fit`` and the predict methods get a :class:`~weaklab.sequence.TaggingDataset` (votes *and*
        tokens), add one source voting the short forms each item defines right after a long form the
        sources agree on, ``... syndrome ( WAS )``, wherever they recur in the item
        (:func:`~weaklab.sequence.context.add_short_form_source`); EM weighs it like any source. Plain
        :class:`~weaklab.sequence.TokenVotes` carry no text: then nothing is added.

    Attributes
    ----------
    startprob_ : ndarray of shape (n_types + 1,)
    transmat_ : ndarray of shape (n_types + 1, n_types + 1)
    emission_ : ndarray of shape (n_sources, n_types + 1, n_types + 1)
        ``emission_[j, s, o]`` = P(source ``j`` observes ``o`` | tag ``s``), index 0 = ``O``.
    loglik_history_ : list of float
        Log-likelihood per token after each iteration.
    n_iter_ : int

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")], [(0, 2, "A")], []], [[], [(1, 2, "A")], [(1, 2, "A")]]],
    ...                           [3, 3], source_names=["s", "t", "u"], entity_types=["A"])
    >>> HMMLabelModel(random_state=0).fit(v).predict_spans(v)
    [[(0, 2, 'A')], [(1, 2, 'A')]]
    """

    _state_arrays: ClassVar[tuple[str, ...]] = ("startprob_", "transmat_", "emission_")

    def __init__(self, n_iter: int = 30, tol: float = 1e-4, prior_strength: float = 10.0,
                 transition_prior: float = 1.0, support: str = "voted",
                 o_weight: float = 0.0, random_state: Any = None,
                 max_batch_tokens: int = 200_000, short_forms: bool = True) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.prior_strength = prior_strength
        self.transition_prior = transition_prior
        self.support = support
        self.o_weight = o_weight
        self.random_state = random_state
        self.max_batch_tokens = max_batch_tokens
        self.short_forms = short_forms

    def _check_params(self) -> None:
        check_int("n_iter", self.n_iter, low=1)
        check_float("tol", self.tol, low=0.0)
        check_float("prior_strength", self.prior_strength, low=0.0)
        check_float("transition_prior", self.transition_prior, low=0.0)
        check_float("o_weight", self.o_weight, low=0.0, high=1.0)
        check_choice("support", self.support, ("voted", "any"))
        check_random_state(self.random_state)
        check_int("max_batch_tokens", self.max_batch_tokens, low=1)
        check_bool("short_forms", self.short_forms)

    # ------------------------------------------------------------------ EM
    def _fit(self, votes: TokenVotes) -> None:
        rng = check_random_state(self.random_state)
        S = votes.n_types + 1
        gamma = MajorityVoteTagger().fit(votes).predict_proba(votes)
        gamma = 0.999 * gamma + 0.001 * rng.dirichlet(np.ones(S), size=len(gamma))
        xi = _pairwise_counts(gamma, votes.offsets)
        self._m_step(votes, gamma, xi, gamma[votes.offsets[:-1][votes.lengths > 0]].sum(axis=0))
        self.loglik_history_: list[float] = []
        self.n_iter_ = 0
        for _ in range(self.n_iter):
            gamma, xi, start, loglik = self._e_step(votes)
            self._m_step(votes, gamma, xi, start)
            self.n_iter_ += 1
            self.loglik_history_.append(loglik / max(votes.n_tokens, 1))
            if len(self.loglik_history_) > 1 and abs(self.loglik_history_[-1] - self.loglik_history_[-2]) < self.tol:
                break

    def _prior(self, n_states: int) -> np.ndarray:
        """Dirichlet pseudo-counts of the emission rows, shape (n_states, n_states)."""
        prior = np.full((n_states, n_states), 0.1)
        prior[0, 0] += self.prior_strength
        prior[1:, 0] += 0.5 * self.prior_strength
        idx = np.arange(1, n_states)
        prior[idx, idx] += 0.5 * self.prior_strength
        return prior

    def _m_step(self, votes: TokenVotes, gamma: np.ndarray, xi: np.ndarray, start: np.ndarray) -> None:
        S, m = votes.n_types + 1, votes.n_sources
        tok, src, typ = votes.token_votes()
        counts = np.zeros((m, S, S))
        for s in range(S):
            flat = np.bincount(src * S + typ + 1, weights=gamma[tok, s], minlength=m * S)
            counts[:, s, :] = flat.reshape(m, S)
        w = o_weights(votes, float(self.o_weight))
        fired_w = np.zeros((m, S))
        for s in range(S):
            fired_w[:, s] = np.bincount(src, weights=w[tok] * gamma[tok, s], minlength=m)
        counts[:, :, 0] = np.maximum((w[:, None] * gamma).sum(axis=0)[None, :] - fired_w, 0.0)
        counts += self._prior(S)[None]
        self.emission_ = tied_confusions(counts)
        trans = xi + self.transition_prior
        self.transmat_ = trans / trans.sum(axis=1, keepdims=True)
        start = start + self.transition_prior
        self.startprob_ = start / start.sum()

    def _e_step(self, votes: TokenVotes) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        log_e = log_emissions(votes, np.log(self.emission_), float(self.o_weight))
        if self.support == "voted":
            log_e += voted_support(votes)
        S = log_e.shape[1]
        gamma = np.zeros_like(log_e)
        xi = np.zeros((S, S))
        start = np.zeros(S)
        loglik = 0.0
        lengths = votes.lengths
        for batch in _batches(lengths, self.max_batch_tokens):
            lens = lengths[batch]
            T = int(lens.max(initial=0))
            if T == 0:
                continue
            pos = votes.offsets[batch][:, None] + np.arange(T)[None, :]
            valid = np.arange(T)[None, :] < lens[:, None]
            padded = np.where(valid[..., None], log_e[np.where(valid, pos, 0)], 0.0)
            g, x, ll = forward_backward(padded, lens, self.startprob_, self.transmat_)
            gamma[pos[valid]] = g[valid]
            xi += x
            start += g[lens > 0, 0].sum(axis=0)
            loglik += ll
        return gamma, xi, start, loglik

    def _predict_proba(self, votes: TokenVotes) -> np.ndarray:
        gamma, _, _, _ = self._e_step(votes)
        return gamma


def _pairwise_counts(gamma: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Expected transitions if neighbouring tags were independent given their posteriors."""
    same = np.ones(len(gamma) - 1, dtype=bool) if len(gamma) > 1 else np.zeros(0, dtype=bool)
    inner = offsets[1:-1]
    same[inner[(inner > 0) & (inner < len(gamma))] - 1] = False
    return np.einsum("ti,tj->ij", gamma[:-1][same], gamma[1:][same])
