"""Per-source summary of span votes: coverage, overlap, conflict, and precision/recall against gold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import fail
from .base import check_votes
from .metrics import span_f1_report

__all__ = ["span_lf_summary"]


def span_lf_summary(votes: Any, gold: Sequence[Sequence[Sequence[Any]]] | None = None) -> pd.DataFrame:
    """One row per source: how much it marks, where it agrees and disagrees, and how right it is.

    Parameters
    ----------
    votes : TokenVotes or TaggingDataset
    gold : list of list of (int, int, str), optional
        Gold spans per sentence (a TaggingDataset's own gold is used when it has one).

    Returns
    -------
    pandas.DataFrame
        Columns ``types`` (emitted entity types), ``n_spans``, ``token_coverage`` (share of tokens it marks),
        ``overlap`` (share of its marked tokens another source marks too), ``conflict`` (share of its
        marked tokens another source marks with another type), and with gold ``precision``, ``recall``,
        ``f1`` (strict span match) and ``token_precision`` (share of its marked tokens inside a gold span
        of the same type).

    Examples
    --------
    >>> from weaklab.sequence import TokenVotes
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")], [(1, 2, "B")]]], [3], source_names=["s", "t"],
    ...                           entity_types=["A", "B"])
    >>> span_lf_summary(v, gold=[[(0, 2, "A")]])[["n_spans", "overlap", "conflict", "precision"]]
            n_spans  overlap  conflict  precision
    source
    s             1      0.5       0.5        1.0
    t             1      1.0       1.0        0.0
    """
    if gold is None and getattr(votes, "gold", None) is not None:
        gold = votes.gold
    votes = check_votes(votes)
    tok, src, typ = votes.token_votes()
    m, n_tok = votes.n_sources, max(votes.n_tokens, 1)
    per_token = np.bincount(tok, minlength=votes.n_tokens)
    # tokens where several types are voted: a token's set of types larger than one
    pairs = np.unique(tok * votes.n_types + typ)
    n_types_on_token = np.bincount(pairs // votes.n_types, minlength=votes.n_tokens)
    marked = np.bincount(src, minlength=m).astype(float)
    shared = np.bincount(src, weights=(per_token[tok] > 1).astype(float), minlength=m)
    conflicted = np.bincount(src, weights=(n_types_on_token[tok] > 1).astype(float), minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({
            "types": [sorted({votes.entity_types[t] for t in np.unique(typ[src == j])}) for j in range(m)],
            "n_spans": np.bincount(votes.sources, minlength=m),
            "token_coverage": marked / n_tok,
            "overlap": np.where(marked > 0, shared / marked, 0.0),
            "conflict": np.where(marked > 0, conflicted / marked, 0.0),
        }, index=pd.Index(votes.source_names, name="source"))
    if gold is not None:
        frame = frame.join(_gold_columns(votes, gold, tok, src, typ))
    return frame


def _gold_columns(votes: Any, gold: Sequence[Sequence[Sequence[Any]]], tok: np.ndarray, src: np.ndarray,
                  typ: np.ndarray) -> pd.DataFrame:
    if len(gold) != votes.n_sentences:
        raise fail("gold", f"one span list per sentence ({votes.n_sentences})", gold)
    type_ids = {t: i for i, t in enumerate(votes.entity_types)}
    gold_tag = np.full(votes.n_tokens, -1, dtype=np.int64)
    for i, spans in enumerate(gold):
        base = int(votes.offsets[i])
        for s, e, t in spans:
            gold_tag[base + int(s): base + int(e)] = type_ids.get(str(t), -2)
    per_source = _spans_by_source(votes)
    stats = {}
    for j, name in enumerate(votes.source_names):
        micro = span_f1_report(per_source[j], gold)["micro"]
        right = gold_tag[tok[src == j]] == typ[src == j]
        stats[name] = {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1"],
                       "token_precision": float(right.mean()) if right.size else 0.0}
    return pd.DataFrame.from_dict(stats, orient="index")


def _spans_by_source(votes: Any) -> list[list[list[tuple[int, int, str]]]]:
    """``out[source][sentence]`` = that source's spans, sentence-relative."""
    out: list[list[list[tuple[int, int, str]]]] = [[[] for _ in range(votes.n_sentences)]
                                                    for _ in range(votes.n_sources)]
    sent = votes.sentence_of(votes.starts)
    for s, e, j, t, i in zip(votes.starts.tolist(), votes.ends.tolist(), votes.sources.tolist(),
                             votes.types.tolist(), sent.tolist()):
        base = int(votes.offsets[i])
        out[j][i].append((s - base, e - base, votes.entity_types[t]))
    return out
