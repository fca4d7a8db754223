"""The sources' votes on token sequences, stored run-length (one row per span).

A source that marks tokens ``[3, 6)`` of a sentence as ``Disease`` is one row
``(start=3, end=6, source, type)`` in flat token coordinates, never one entry
per token, source and type. :meth:`TokenVotes.token_votes` expands the runs to
the sparse per-token form ``(token, source, type)`` the label models use; the
``O`` (no span) votes stay implicit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core import fingerprint
from .._core.validation import fail
from .spans import Span, check_spans, tags_to_spans

__all__ = ["TokenVotes"]


@dataclass(frozen=True, eq=False)
class TokenVotes:
    """Span votes of ``n_sources`` sources on ``n_sentences`` token sequences.

    Build with :meth:`from_spans` or :meth:`from_tags`; the arrays are
    read-only.

    Attributes
    ----------
    offsets : ndarray of shape (n_sentences + 1,), int64
        Sentence ``i`` holds flat tokens ``offsets[i]:offsets[i+1]``.
    starts, ends : ndarray of shape (n_spans,), int64
        Flat token positions of each voted span (end exclusive).
    sources : ndarray of shape (n_spans,), int32
        Index of the source that voted the span.
    types : ndarray of shape (n_spans,), int32
        Entity-type index of the span (into ``entity_types``).
    source_names : tuple of str
    entity_types : tuple of str

    Examples
    --------
    >>> v = TokenVotes.from_spans([[[(0, 2, "Dis")], []], [[], [(1, 2, "Dis")]]], [3, 2],
    ...                           source_names=["a", "b"], entity_types=["Dis"])
    >>> v.n_sentences, v.n_tokens, v.n_sources, v.n_spans
    (2, 5, 2, 2)
    >>> v.sentence_spans(1)
    {'a': [], 'b': [(1, 2, 'Dis')]}
    """

    offsets: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sources: np.ndarray
    types: np.ndarray
    source_names: tuple[str, ...]
    entity_types: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in ("offsets", "starts", "ends", "sources", "types"):
            arr = np.asarray(getattr(self, name)).copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if len(set(self.source_names)) != len(self.source_names):
            raise fail("source_names", "unique names", list(self.source_names))
        if len(set(self.entity_types)) != len(self.entity_types) or not self.entity_types:
            raise fail("entity_types", "a non-empty list of unique type names", list(self.entity_types))

    # ------------------------------------------------------------ builders
    @classmethod
    def from_spans(
        cls,
        spans: Sequence[Sequence[Sequence[Sequence[Any]]]],
        lengths: Sequence[int],
        *,
        source_names: Sequence[str],
        entity_types: Sequence[str],
    ) -> TokenVotes:
        """Build from ``spans[sentence][source]`` = list of ``(start, end, type)``.

        Parameters
        ----------
        spans : nested sequence
            Per sentence, per source, that source's spans in the sentence.
        lengths : sequence of int
            Number of tokens of each sentence.
        source_names, entity_types : sequence of str
            Names of the sources (in the order of ``spans[i]``) and the entity types.

        Returns
        -------
        TokenVotes
        """
        if len(spans) != len(lengths):
            raise fail("spans", f"one entry per sentence ({len(lengths)})", spans)
        type_ids = {t: i for i, t in enumerate(entity_types)}
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(np.asarray(lengths, dtype=np.int64))
        rows: list[tuple[int, int, int, int]] = []
        m = len(source_names)
        for i, per_source in enumerate(spans):
            if len(per_source) != m:
                raise fail(f"spans[{i}]", f"one span list per source ({m})", per_source)
            base = int(offsets[i])
            for j, source_spans in enumerate(per_source):
                for s, e, t in check_spans(source_spans, int(lengths[i]), name=f"spans[{i}][{j}]"):
                    if t not in type_ids:
                        raise fail(f"spans[{i}][{j}]", f"types among {list(entity_types)}", t)
                    rows.append((base + s, base + e, j, type_ids[t]))
        return cls._from_rows(rows, offsets, source_names, entity_types)

    @classmethod
    def from_tags(
        cls,
        tags: Sequence[Sequence[Sequence[str]]],
        *,
        source_names: Sequence[str],
        entity_types: Sequence[str],
    ) -> TokenVotes:
        """Build from ``tags[sentence][token][source]`` BIO/IO tag strings (WRENCH's token format).

        Examples
        --------
        >>> v = TokenVotes.from_tags([[["B-Dis", "O"], ["I-Dis", "O"]]], source_names=["a", "b"],
        ...                          entity_types=["Dis"])
        >>> v.sentence_spans(0)["a"]
        [(0, 2, 'Dis')]
        """
        m = len(source_names)
        spans = []
        for i, sentence in enumerate(tags):
            columns = [[row[j] for row in sentence] for j in range(m)] if len(sentence) else [[] for _ in range(m)]
            spans.append([tags_to_spans(col, name=f"tags[{i}]") for col in columns])
        return cls.from_spans(spans, [len(s) for s in tags], source_names=source_names, entity_types=entity_types)

    @classmethod
    def _from_rows(cls, rows: list[tuple[int, int, int, int]], offsets: np.ndarray,
                   source_names: Sequence[str], entity_types: Sequence[str]) -> TokenVotes:
        arr = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
        return cls(offsets=offsets, starts=arr[:, 0], ends=arr[:, 1], sources=arr[:, 2].astype(np.int32),
                   types=arr[:, 3].astype(np.int32), source_names=tuple(source_names),
                   entity_types=tuple(entity_types))

    # ------------------------------------------------------------ sizes
    @property
    def n_sentences(self) -> int:
        """Number of sentences."""
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        """Number of tokens over all sentences."""
        return int(self.offsets[-1])

    @property
    def n_sources(self) -> int:
        """Number of sources."""
        return len(self.source_names)

    @property
    def n_types(self) -> int:
        """Number of entity types (``O`` excluded)."""
        return len(self.entity_types)

    @property
    def n_spans(self) -> int:
        """Number of voted spans."""
        return len(self.starts)

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per sentence, shape (n_sentences,)."""
        return np.diff(self.offsets)

    @property
    def fingerprint(self) -> str:
        """Content fingerprint (sentence lengths, spans, names)."""
        return fingerprint(self.offsets, self.starts, self.ends, self.sources, self.types,
                           list(self.source_names), list(self.entity_types))

    # ------------------------------------------------------------ views
    def token_votes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The votes per token: arrays ``(token, source, type)``, one entry per voted token.

        ``O`` votes are implicit: a source with no entry on a token did not mark it.

        Returns
        -------
        token : ndarray of int64
        source : ndarray of int32
        type : ndarray of int32

        Examples
        --------
        >>> v = TokenVotes.from_spans([[[(0, 2, "Dis")]]], [3], source_names=["a"], entity_types=["Dis"])
        >>> [a.tolist() for a in v.token_votes()]
        [[0, 1], [0, 0], [0, 0]]
        """
        lens = self.ends - self.starts
        rep = np.repeat(np.arange(self.n_spans), lens)
        within = np.arange(len(rep)) - np.repeat(np.cumsum(lens) - lens, lens)
        return self.starts[rep] + within, self.sources[rep], self.types[rep]

    def sentence_of(self, tokens: np.ndarray) -> np.ndarray:
        """Sentence index of flat token positions."""
        return np.searchsorted(self.offsets, tokens, side="right") - 1

    def sentence_spans(self, i: int) -> dict[str, list[Span]]:
        """Each source's spans in sentence ``i`` (sentence-relative positions)."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        out: dict[str, list[Span]] = {name: [] for name in self.source_names}
        pick = np.flatnonzero((self.starts >= lo) & (self.starts < hi))
        for r in pick[np.lexsort((self.starts[pick], self.sources[pick]))]:
            out[self.source_names[self.sources[r]]].append(
                (int(self.starts[r] - lo), int(self.ends[r] - lo), self.entity_types[self.types[r]]))
        return out

    def select_sources(self, names: Sequence[str]) -> TokenVotes:
        """Keep only the named sources, in the given order."""
        index = {n: j for j, n in enumerate(self.source_names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise fail("names", f"source names among {list(self.source_names)}", got_text=repr(missing))
        remap = np.full(self.n_sources, -1, dtype=np.int32)
        remap[[index[n] for n in names]] = np.arange(len(names), dtype=np.int32)
        keep = remap[self.sources] >= 0
        return TokenVotes(self.offsets, self.starts[keep], self.ends[keep], remap[self.sources[keep]],
                          self.types[keep], tuple(names), self.entity_types)

    def subset(self, sentences: Sequence[int] | np.ndarray) -> TokenVotes:
        """The votes on the given sentences (in that order)."""
        idx = np.asarray(sentences, dtype=np.int64).reshape(-1)
        lens = self.lengths[idx]
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        sent = self.sentence_of(self.starts)
        new_pos = np.full(self.n_sentences, -1, dtype=np.int64)
        new_pos[idx] = np.arange(len(idx))
        keep = new_pos[sent] >= 0
        shift = offsets[new_pos[sent[keep]]] - self.offsets[sent[keep]]
        order = np.argsort(new_pos[sent[keep]], kind="stable")
        return TokenVotes(offsets, (self.starts[keep] + shift)[order], (self.ends[keep] + shift)[order],
                          self.sources[keep][order], self.types[keep][order], self.source_names,
                          self.entity_types)
