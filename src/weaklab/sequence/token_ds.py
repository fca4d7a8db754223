"""Dawid-Skene on tokens: every token is an independent item, WRENCH's sequence convention for the votes.

On a token no source marks, every source votes ``O``; on a token some source
marks, the sources that do not mark it abstain. Each source has a confusion
matrix over IO tags, fit by EM from majority vote. Tokens are independent
(no transitions): the baseline the HMM adds sequence structure to.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._core.validation import check_float, check_int
from .base import TagLabelModel, tied_confusions
from .hmm import voted_support
from .majority import MajorityVoteTagger
from .votes import TokenVotes

__all__ = ["TokenDawidSkene"]


class TokenDawidSkene(TagLabelModel):
    """Per-token Dawid-Skene over IO tags (``O`` abstains where some source fires).

    As in majority vote, a token no source marks is ``O`` and a marked token takes one of the types voted
    on it; the learned confusions settle conflicts and ties.

    Each source's type-to-type confusion is one rate spread over the other types
    (:func:`~weaklab.sequence.base.tied_confusions`); with every cell free, EM
    lets one type absorb another's votes on multi-type data.

    Parameters
    ----------
    n_iter : int, default 50
        Maximum EM iterations.
    tol : float, default 1e-5
        Stop when no posterior moves by more.
    smoothing : float, default 0.01
        Pseudo-count added to every confusion cell.
    random_state : None
        Accepted for the common contract; the fit is deterministic.

    Attributes
    ----------
    class_balance_ : ndarray of shape (n_types + 1,)
    confusion_ : ndarray of shape (n_sources, n_types + 1, n_types + 1)
        ``confusion_[j, s, o]`` = P(source ``j`` votes ``o`` | tag ``s``), index 0 = ``O``.
    n_iter_ : int

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")], [(0, 1, "A")], []]], [3], source_names=["s", "t", "u"],
    ...                           entity_types=["A"])
    >>> TokenDawidSkene().fit(v).predict_spans(v)
    [[(0, 2, 'A')]]
    """

    _state_arrays: ClassVar[tuple[str, ...]] = ("class_balance_", "confusion_")

    def __init__(self, n_iter: int = 50, tol: float = 1e-5, smoothing: float = 0.01, random_state: Any = None) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing
        self.random_state = random_state

    def _check_params(self) -> None:
        check_int("n_iter", self.n_iter, low=1)
        check_float("tol", self.tol, low=0.0)
        check_float("smoothing", self.smoothing, low=0.0, low_open=True)

    def _fit(self, votes: TokenVotes) -> None:
        gamma = MajorityVoteTagger().fit(votes).predict_proba(votes)
        self.n_iter_ = 0
        for _ in range(self.n_iter):
            self._m_step(votes, gamma)
            new = self._posterior(votes)
            self.n_iter_ += 1
            moved = float(np.abs(new - gamma).max(initial=0.0))
            gamma = new
            if moved < self.tol:
                break
        self._m_step(votes, gamma)

    def _m_step(self, votes: TokenVotes, gamma: np.ndarray) -> None:
        S, m = votes.n_types + 1, votes.n_sources
        tok, src, typ = votes.token_votes()
        fired = np.zeros(votes.n_tokens, dtype=bool)
        fired[tok] = True
        counts = np.full((m, S, S), self.smoothing)
        for s in range(S):
            counts[:, s, :] += np.bincount(src * S + typ + 1, weights=gamma[tok, s], minlength=m * S).reshape(m, S)
        counts[:, :, 0] += gamma[~fired].sum(axis=0)[None, :]
        self.confusion_ = tied_confusions(counts)
        balance = gamma.sum(axis=0) + self.smoothing
        self.class_balance_ = balance / balance.sum()

    def _posterior(self, votes: TokenVotes) -> np.ndarray:
        tok, src, typ = votes.token_votes()
        log_c = np.log(self.confusion_)
        fired = np.zeros(votes.n_tokens, dtype=bool)
        fired[tok] = True
        log_p = np.tile(np.log(self.class_balance_), (votes.n_tokens, 1))
        log_p[~fired] += log_c[:, :, 0].sum(axis=0)[None, :]
        for s in range(log_p.shape[1]):
            log_p[:, s] += np.bincount(tok, weights=log_c[src, s, typ + 1], minlength=votes.n_tokens)
        log_p += voted_support(votes)
        log_p -= log_p.max(axis=1, keepdims=True)
        p = np.exp(log_p)
        return p / p.sum(axis=1, keepdims=True)

    def _predict_proba(self, votes: TokenVotes) -> np.ndarray:
        return self._posterior(votes)
