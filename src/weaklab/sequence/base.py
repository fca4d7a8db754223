"""The contract of tag label models: fit on span votes, predict per-token IO posteriors and spans.

Tags are IO ids per flat token: ``0`` = ``O``, ``t + 1`` = inside a span of
entity type ``t``. A run of one type is one span (WRENCH's IO → BIO step).
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, to_jsonable
from .._core.validation import fail
from ..errors import NotFittedError
from .context import SHORT_FORM_SOURCE, add_short_form_source, tokens_of
from .spans import Span, io_ids_to_spans
from .votes import TokenVotes

__all__ = ["TagLabelModel", "io_ids_to_spans", "check_votes", "tied_confusions"]


def check_votes(votes: Any, name: str = "votes") -> TokenVotes:
    """Return ``votes`` if it is a :class:`TokenVotes` (a TaggingDataset gives its ``.votes``)."""
    votes = getattr(votes, "votes", votes)
    if not isinstance(votes, TokenVotes):
        raise fail(name, "a TokenVotes (or a TaggingDataset)", votes)
    return votes


def tied_confusions(counts: np.ndarray) -> np.ndarray:
    """Confusion rows from expected counts ``(n_sources, n_tags, n_tags)``, each source's type-to-type confusion tied.

    The ``O`` row is free. For an entity tag ``s`` a source marks ``s``, marks nothing, or marks another
    type; the share of "another type" is one rate per source (pooled over tags, spread evenly over the
    other types), so one tag cannot absorb another type's votes (the label switching EM falls into when
    each confusion is free).
    """
    S = counts.shape[1]
    out = np.empty_like(counts)
    out[:, 0] = counts[:, 0] / counts[:, 0].sum(axis=1, keepdims=True)
    if S == 2:
        out[:, 1] = counts[:, 1] / counts[:, 1].sum(axis=1, keepdims=True)
        return out
    idx = np.arange(1, S)
    ent = counts[:, 1:, :]  # (m, K, S)
    right = ent[:, idx - 1, idx]  # (m, K)
    miss = ent[:, :, 0]
    total = ent.sum(axis=2)
    wrong_rate = (total - right - miss).sum(axis=1) / total.sum(axis=1)  # (m,)
    keep = (1.0 - wrong_rate)[:, None] / (right + miss)
    out[:, 1:, :] = (wrong_rate / (S - 2))[:, None, None]
    out[:, 1:, 0] = miss * keep
    out[:, idx, idx] = right * keep
    return out


class TagLabelModel(BaseEstimator):
    """Base class: validate votes, align sources, decode spans, save state.

    Subclasses implement ``_fit(votes)`` and ``_predict_proba(votes)`` and
    name their fitted arrays in ``_state_arrays``.

    Examples
    --------
    >>> from weaklab.sequence import MajorityVoteTagger
    >>> v = TokenVotes.from_spans([[[(0, 1, "A")]]], [2], source_names=["s"], entity_types=["A"])
    >>> model = MajorityVoteTagger().fit(v)
    >>> model.predict_proba(v).tolist(), model.predict_spans(v)
    ([[0.0, 1.0], [1.0, 0.0]], [[(0, 1, 'A')]])
    >>> type(model).from_state(model.to_state()).predict_spans(v)
    [[(0, 1, 'A')]]
    """

    _state_arrays: ClassVar[tuple[str, ...]] = ()

    def fit(self, votes: Any) -> TagLabelModel:
        """Learn from the votes of the training sentences (no gold).

        Parameters
        ----------
        votes : TokenVotes or TaggingDataset
            The sources' span votes.

        Returns
        -------
        self
        """
        data, votes = votes, check_votes(votes)
        self._check_params()
        tokens = tokens_of(data) if getattr(self, "short_forms", False) else None
        if tokens is not None:
            votes = add_short_form_source(votes, tokens)
        self.source_names_ = list(votes.source_names)
        self.entity_types_ = list(votes.entity_types)
        self._fit(votes)
        return self

    def predict_proba(self, votes: Any) -> np.ndarray:
        """Posterior of the IO tag of every token.

        Parameters
        ----------
        votes : TokenVotes or TaggingDataset
            Votes of the same sources (by name) on any sentences.

        Returns
        -------
        ndarray of shape (n_tokens, n_types + 1)
            Column 0 is ``O``, column ``t + 1`` entity type ``t``; rows sum to 1.
            Tokens are in flat order (``votes.offsets`` splits them into sentences).
        """
        return self._predict_proba(self._aligned(votes))

    def predict_tags(self, votes: Any) -> np.ndarray:
        """IO id of every token (argmax of :meth:`predict_proba`, ties to the lowest id)."""
        return np.argmax(self.predict_proba(votes), axis=1)

    def predict_spans(self, votes: Any) -> list[list[Span]]:
        """Predicted spans per sentence (a run of one type is one span).

        Parameters
        ----------
        votes : TokenVotes or TaggingDataset

        Returns
        -------
        list of list of (int, int, str)
        """
        v = self._aligned(votes)
        return io_ids_to_spans(self.predict_tags(v), v.offsets, tuple(self.entity_types_))

    def _aligned(self, votes: Any) -> TokenVotes:
        data, votes = votes, check_votes(votes)
        if not hasattr(self, "source_names_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(votes) first")
        if tuple(votes.entity_types) != tuple(self.entity_types_):
            raise fail("votes", f"entity types {self.entity_types_}", got_text=repr(list(votes.entity_types)))
        names = list(self.source_names_)
        short = SHORT_FORM_SOURCE in names and SHORT_FORM_SOURCE not in votes.source_names
        if short:
            names.remove(SHORT_FORM_SOURCE)
        if tuple(votes.source_names) != tuple(names):
            if not set(names) <= set(votes.source_names):
                raise fail("votes", f"votes of the fitted sources {names}", got_text=repr(list(votes.source_names)))
            votes = votes.select_sources(names)
        if short:
            votes = add_short_form_source(votes, tokens_of(data)).select_sources(self.source_names_)
        return votes

    def _check_params(self) -> None:
        """Validate parameters (subclasses override)."""

    def _fit(self, votes: TokenVotes) -> None:
        raise NotImplementedError

    def _predict_proba(self, votes: TokenVotes) -> np.ndarray:
        raise NotImplementedError

    # ----------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """The fitted model as JSON-able metadata plus numpy arrays (no pickle).

        Returns
        -------
        dict
            ``schema_version``, ``class``, ``module``, ``params``, ``attributes``, ``arrays``.
        """
        if not hasattr(self, "source_names_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(votes) first")
        return {
            "schema_version": STATE_SCHEMA_VERSION,
            "class": type(self).__name__,
            "module": type(self).__module__,
            "params": to_jsonable(self.get_params(deep=False)),
            "attributes": {"source_names_": list(self.source_names_), "entity_types_": list(self.entity_types_)},
            "arrays": {name: np.asarray(getattr(self, name)) for name in self._state_arrays},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TagLabelModel:
        """Rebuild a fitted model from :meth:`to_state` output.

        Parameters
        ----------
        state : dict

        Returns
        -------
        TagLabelModel
        """
        check_state(state, cls.__name__)
        module = importlib.import_module(state.get("module", cls.__module__))
        klass = getattr(module, state["class"], cls)
        model = klass(**state["params"])
        for name in ("source_names_", "entity_types_"):
            value = state["attributes"].get(name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(f"state['attributes'][{name!r}]", "a list of names", value)
            setattr(model, name, value)
        for name in cls._state_arrays:
            if name not in state["arrays"]:
                raise fail("state", f"array {name!r}", got_text="a state without it")
            setattr(model, name, np.asarray(state["arrays"][name], dtype=float))
        return model
