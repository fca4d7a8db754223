"""Token-level majority vote, computed the way WRENCH does for sequence tagging."""

from __future__ import annotations

import numpy as np

from .base import TagLabelModel
from .votes import TokenVotes

__all__ = ["MajorityVoteTagger", "type_vote_counts"]


def type_vote_counts(votes: TokenVotes) -> np.ndarray:
    """Number of sources voting each entity type on each token.

    Parameters
    ----------
    votes : TokenVotes
        Every source's token votes.

    Returns
    -------
    ndarray of shape (n_tokens, n_types), int64

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")], [(1, 2, "B")]]], [3], source_names=["s", "t"],
    ...                           entity_types=["A", "B"])
    >>> type_vote_counts(v).tolist()
    [[1, 0], [1, 1], [0, 0]]
    """
    tok, _, typ = votes.token_votes()
    flat = np.bincount(tok * votes.n_types + typ, minlength=votes.n_tokens * votes.n_types)
    return flat.reshape(votes.n_tokens, votes.n_types).astype(np.int64)


class MajorityVoteTagger(TagLabelModel):
    """Token-level majority vote over IO tags, WRENCH's convention.

    On every token: if no source marks it, the tag is ``O``; otherwise the
    sources that did not mark it abstain (their ``O`` is not a vote), the
    entity type with the most votes wins and ties go to the lowest type id (the
    order of ``entity_types``). A run of one type is then one span. This is
    WRENCH's ``SeqLabelModelWrapper(MajorityVoting)`` with the tie broken
    deterministically (WRENCH's own code breaks ties with a hash of the token
    index).

    Attributes
    ----------
    source_names_, entity_types_ : list of str
        Learned from ``fit`` (nothing else is learned).

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")], [(1, 2, "B")], []]], [3], source_names=["s", "t", "u"],
    ...                           entity_types=["A", "B"])
    >>> MajorityVoteTagger().fit(v).predict_spans(v)
    [[(0, 2, 'A')]]
    """

    def _fit(self, votes: TokenVotes) -> None:
        return None

    def _predict_proba(self, votes: TokenVotes) -> np.ndarray:
        counts = type_vote_counts(votes).astype(float)
        total = counts.sum(axis=1, keepdims=True)
        proba = np.zeros((votes.n_tokens, votes.n_types + 1))
        fired = total[:, 0] > 0
        proba[fired, 1:] = counts[fired] / total[fired]
        proba[~fired, 0] = 1.0
        return proba
