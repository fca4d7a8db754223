"""Document-level consistency for tag label models: short forms defined in a sentence, labelled where they recur.

Votes alone cannot tell a label model anything about a token no source marks.
One piece of evidence is in the text itself: scientific writing defines a
short form right after its long form, ``... Wiskott-Aldrich syndrome ( WAS )
...``, and then uses the short form alone. When the long form is a span the
sources agree on, the short form and its later occurrences in the same item
(one item is one document: a PubMed abstract, a query) name the same entity.

:func:`short_form_spans` finds them (a Schwartz & Hearst style test: one token
in parentheses right after the span, 2-10 characters with an upper-case
letter, whose first letter starts a word of the long form or of the three
words before it). :func:`add_short_form_source` adds them to the votes as one
more source, so a label model weighs them like any other source and its
``predict_proba`` and ``predict_spans`` agree.

Plain-loop specification of :func:`short_form_spans` for one sentence::

    defined = {}
    for (s, e, t) in spans:
        if tokens[e] == "(" and tokens[e + 2] == ")" and looks_short(tokens[e + 1]) and initial_matches:
            defined.setdefault(tokens[e + 1], t)
    for k, token in enumerate(tokens):
        if token in defined and k is in no span:
            emit (k, k + 1, defined[token])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.validation import fail
from .spans import Span, io_ids_to_spans
from .votes import TokenVotes

__all__ = ["SHORT_FORM_SOURCE", "short_form_spans", "add_short_form_source", "looks_like_short_form", "tokens_of"]

SHORT_FORM_SOURCE = "doc:short_forms"
"""Name of the source :func:`add_short_form_source` adds."""


def looks_like_short_form(token: str) -> bool:
    """True for 2-10 characters starting with a letter or digit and holding an upper-case letter.

    Examples
    --------
    >>> [looks_like_short_form(t) for t in ["WAS", "VHL", "EA-2", "the", "(", "A"]]
    [True, True, True, False, False, False]
    """
    return 2 <= len(token) <= 10 and token[0].isalnum() and any(c.isupper() for c in token)


def _defined(tokens: Sequence[str], spans: Sequence[Span]) -> dict[str, str]:
    """Short form -> entity type, for each ``span ( SF )`` in the sentence (first definition wins)."""
    out: dict[str, str] = {}
    n = len(tokens)
    for s, e, t in sorted(spans):
        if e + 2 >= n or tokens[e] != "(" or tokens[e + 2] != ")":
            continue
        short = tokens[e + 1]
        initials = {w[0].lower() for w in tokens[max(0, s - 3):e] if w}
        if looks_like_short_form(short) and short[0].lower() in initials:
            out.setdefault(short, t)
    return out


def short_form_spans(tokens: Sequence[Sequence[str]], spans: Sequence[Sequence[Span]]) -> list[list[Span]]:
    """Spans of the short forms each sentence defines after one of its ``spans``, wherever they recur in it.

    Parameters
    ----------
    tokens : sequence of sequence of str
        The tokens of each sentence (one sentence is one document).
    spans : sequence of list of (int, int, str)
        The spans trusted as long forms (for example majority vote's), per sentence.

    Returns
    -------
    list of list of (int, int, str)
        One-token spans, per sentence, on tokens no span in ``spans`` covers.

    Examples
    --------
    >>> toks = ["Wiskott", "Aldrich", "syndrome", "(", "WAS", ")", "is", "rare", ";", "WAS", "patients"]
    >>> short_form_spans([toks], [[(0, 3, "Disease")]])
    [[(4, 5, 'Disease'), (9, 10, 'Disease')]]
    """
    if len(tokens) != len(spans):
        raise fail("spans", f"one span list per sentence ({len(tokens)})", spans)
    out: list[list[Span]] = []
    for toks, sp in zip(tokens, spans):
        defined = _defined(toks, sp)
        covered = np.zeros(len(toks), dtype=bool)
        for s, e, _ in sp:
            covered[s:e] = True
        out.append([(k, k + 1, defined[w]) for k, w in enumerate(toks) if w in defined and not covered[k]])
    return out


def add_short_form_source(votes: TokenVotes, tokens: Sequence[Sequence[str]] | None,
                          long_forms: Sequence[Sequence[Span]] | None = None) -> TokenVotes:
    """The votes plus one source, :data:`SHORT_FORM_SOURCE`, voting the short forms of the long forms.

    Parameters
    ----------
    votes : TokenVotes
    tokens : sequence of sequence of str or None
        The tokens of the same sentences; ``None`` adds the source with no votes (no text to read).
    long_forms : sequence of list of (int, int, str), optional
        The spans trusted as long forms; default: majority vote of ``votes`` (WRENCH's convention).

    Returns
    -------
    TokenVotes

    Examples
    --------
    >>> toks = [["Von", "Hippel-Lindau", "disease", "(", "VHL", ")", "and", "VHL", "genes"]]
    >>> v = TokenVotes.from_spans([[[(0, 3, "Disease")]]], [9], source_names=["dict"], entity_types=["Disease"])
    >>> add_short_form_source(v, toks).sentence_spans(0)
    {'dict': [(0, 3, 'Disease')], 'doc:short_forms': [(4, 5, 'Disease'), (7, 8, 'Disease')]}
    """
    if SHORT_FORM_SOURCE in votes.source_names:
        raise fail("votes", f"votes without a source named {SHORT_FORM_SOURCE!r}", list(votes.source_names))
    rows: list[tuple[int, int, int]] = []
    if tokens is not None:
        if len(tokens) != votes.n_sentences or any(len(t) != n for t, n in zip(tokens, votes.lengths.tolist())):
            raise fail("tokens", f"the tokens of the {votes.n_sentences} voted sentences (same lengths)",
                       got_text=f"{len(tokens)} sentences")
        if long_forms is None:
            long_forms = _majority_spans(votes)
        type_ids = {t: i for i, t in enumerate(votes.entity_types)}
        for i, spans in enumerate(short_form_spans(tokens, long_forms)):
            base = int(votes.offsets[i])
            rows.extend((base + s, base + e, type_ids[t]) for s, e, t in spans)
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    j = votes.n_sources
    return TokenVotes(votes.offsets, np.concatenate([votes.starts, arr[:, 0]]),
                      np.concatenate([votes.ends, arr[:, 1]]),
                      np.concatenate([votes.sources, np.full(len(arr), j, dtype=np.int32)]).astype(np.int32),
                      np.concatenate([votes.types, arr[:, 2]]).astype(np.int32),
                      (*votes.source_names, SHORT_FORM_SOURCE), votes.entity_types)


def _majority_spans(votes: TokenVotes) -> list[list[Span]]:
    """WRENCH-style majority vote spans (O only where no source fires, ties to the lowest type)."""
    tok, _, typ = votes.token_votes()
    counts = np.bincount(tok * votes.n_types + typ, minlength=votes.n_tokens * votes.n_types)
    counts = counts.reshape(votes.n_tokens, votes.n_types)
    ids = np.where(counts.max(axis=1, initial=0) > 0, np.argmax(counts, axis=1) + 1, 0)
    return io_ids_to_spans(ids, votes.offsets, votes.entity_types)


def tokens_of(data: Any) -> list[list[str]] | None:
    """The ``tokens`` of a TaggingDataset-like object, or ``None`` for plain votes.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> tokens_of(SimpleNamespace(tokens=[("a", "b")])), tokens_of(object())
    ([['a', 'b']], None)
    """
    tokens = getattr(data, "tokens", None)
    return None if tokens is None else [list(map(str, t)) for t in tokens]
