"""Span labeling functions: gazetteers, regular expressions, token-shape rules and any model's spans.

A span LF maps a :class:`~weaklab.sequence.corpus.Corpus` to spans in flat
token positions: arrays ``(start, end_exclusive)`` and a list of type names,
never crossing a sentence boundary. Run LFs with
:func:`~weaklab.sequence.apply.apply_span_lfs`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._core import fingerprint, function_source
from .._core.validation import check_bool, check_int, fail
from .corpus import Corpus, normalize_token

__all__ = [
    "SpanLF",
    "SpanRows",
    "gazetteer_lf",
    "regex_span_lf",
    "shape_lf",
    "model_span_lf",
    "word_shape",
]

SpanRows = tuple[np.ndarray, np.ndarray, list[str]]
"""``(starts, ends, types)``: flat token positions (end exclusive) and one type name per span."""

_END = ""  # trie key marking "a phrase ends here" (no token normalises to the empty string)


class SpanLF:
    """A named source of spans (the value object; execution is in the applier).

    Parameters
    ----------
    name : str
        Unique name (the source name in the votes).
    func : callable
        ``func(corpus) -> (starts, ends, types)`` in flat token positions.
    types : sequence of str
        Entity types the LF can emit (empty when unknown until it runs).
    params : object
        What the fingerprint covers besides ``func``'s source code.
    per_sentence : callable, optional
        ``per_sentence(tokens) -> spans``; when set the applier calls it on
        each sentence, so a fault names the sentence.

    Examples
    --------
    >>> lf = gazetteer_lf(["flu"], "Dis")
    >>> lf.name, lf.types, len(lf.fingerprint)
    ('gazetteer_Dis', ('Dis',), 32)
    """

    def __init__(self, name: str, func: Callable[[Corpus], SpanRows] | None, types: Sequence[str], params: Any,
                 per_sentence: Callable[[list[str]], Any] | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise fail("name", "a non-empty str", name)
        self.name = name
        self.func = func
        self.per_sentence = per_sentence
        self.types = tuple(types)
        code = function_source(per_sentence) if per_sentence is not None else ""
        self.fingerprint = fingerprint(type(self).__name__, name, self.types, params, code)

    def __repr__(self) -> str:
        return f"SpanLF({self.name!r}, types={list(self.types)})"


def _check_type(label: Any) -> str:
    if not isinstance(label, str) or not label:
        raise fail("label", "an entity type name (non-empty str)", label)
    return label


# ------------------------------------------------------------------ gazetteer
def _phrase_tokens(entry: Any) -> list[str]:
    toks = entry.split() if isinstance(entry, str) else [str(t) for t in entry]
    if not toks:
        raise fail("entries", "non-empty phrases", entry)
    return toks


def _build_trie(entries: Mapping[Any, str], case_sensitive: bool, plurals: bool) -> dict[str, Any]:
    trie: dict[str, Any] = {}
    for entry, label in entries.items():
        node = trie
        for tok in _phrase_tokens(entry):
            node = node.setdefault(normalize_token(tok, case_sensitive=case_sensitive, plurals=plurals), {})
        node[_END] = label
    return trie


def _trie_ids(trie: dict[str, Any], vocab: dict[str, int]) -> dict[int, Any]:
    """The trie re-keyed by the corpus vocabulary ids (branches with unseen tokens dropped)."""
    out: dict[int, Any] = {}
    for key, child in trie.items():
        if key != _END and key in vocab:
            sub = _trie_ids(child, vocab)
            if _END in child:
                sub[-1] = child[_END]
            out[vocab[key]] = sub
    return out


def _longest_matches(trie: dict[int, Any], ids: np.ndarray, sent_end: np.ndarray) -> SpanRows:
    """Leftmost-longest, non-overlapping matches of the trie in the id sequence."""
    candidates = np.flatnonzero(np.isin(ids, np.fromiter(trie, dtype=np.int64, count=len(trie))))
    starts, ends, types = [], [], []
    covered = -1
    id_list = ids.tolist()
    for p in candidates.tolist():
        if p < covered:
            continue
        node, q, best, label = trie, p, -1, ""
        stop = int(sent_end[p])
        while q < stop and id_list[q] in node:
            node = node[id_list[q]]
            q += 1
            if -1 in node:
                best, label = q, node[-1]
        if best > 0:
            starts.append(p)
            ends.append(best)
            types.append(label)
            covered = best
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), types


def gazetteer_lf(
    entries: Iterable[Any] | Mapping[Any, str],
    label: str | None = None,
    *,
    name: str | None = None,
    case_sensitive: bool = False,
    plurals: bool = True,
) -> SpanLF:
    """Mark every dictionary phrase found in the tokens (leftmost-longest, multi-token).

    Phrases sit in a token trie; matching starts only at tokens that begin
    some phrase, so the cost follows the number of candidate positions.

    Parameters
    ----------
    entries : iterable of str (or token sequences), or mapping phrase -> type
        The phrases (a str is split on whitespace). A mapping gives each phrase its own type.
    label : str, optional
        Entity type of every phrase (required unless ``entries`` is a mapping).
    name : str, optional
        Default ``"gazetteer_<label>"``.
    case_sensitive : bool, default False
        Compare tokens as written instead of lower-cased.
    plurals : bool, default True
        Compare singularised forms too (``"diseases"`` matches ``"disease"``).

    Returns
    -------
    SpanLF

    Examples
    --------
    >>> from weaklab.sequence import apply_span_lfs
    >>> lf = gazetteer_lf(["breast cancer", "cancer"], "Dis")
    >>> votes, _ = apply_span_lfs([lf], [["Breast", "cancers", "and", "cancer"]])
    >>> votes.sentence_spans(0)
    {'gazetteer_Dis': [(0, 2, 'Dis'), (3, 4, 'Dis')]}
    """
    case_sensitive = check_bool("case_sensitive", case_sensitive)
    plurals = check_bool("plurals", plurals)
    if isinstance(entries, Mapping):
        table = {k: _check_type(v) for k, v in entries.items()}
    else:
        typ = _check_type(label)
        table = {(e if isinstance(e, str) else tuple(e)): typ for e in entries}
    if not table:
        raise fail("entries", "at least one phrase", entries)
    trie = _build_trie(table, case_sensitive, plurals)
    types = sorted(set(table.values()))

    def run(corpus: Corpus) -> SpanRows:
        ids, vocab = corpus.normalized_ids(case_sensitive=case_sensitive, plurals=plurals)
        id_trie = _trie_ids(trie, vocab)
        if not id_trie:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
        return _longest_matches(id_trie, ids, corpus.sentence_ends)

    params = (sorted((str(k), v) for k, v in table.items()), case_sensitive, plurals)
    return SpanLF(name or f"gazetteer_{'_'.join(types)}", run, types, params)


# ------------------------------------------------------------------ regex
def regex_span_lf(pattern: str | re.Pattern[str], label: str, *, name: str | None = None, flags: int = 0,
                  group: int | str = 0) -> SpanLF:
    """Mark the tokens a regular expression matches in the sentence text.

    The text of a sentence is its tokens joined by single spaces; a match
    covers every token it touches (partly matched tokens count whole).
    Matches never cross sentences.

    Parameters
    ----------
    pattern : str or compiled pattern
        Searched with ``re.finditer`` semantics.
    label : str
        Entity type of the spans.
    name : str, optional
        Default ``"regex_<label>"``.
    flags : int, default 0
        ``re`` flags.
    group : int or str, default 0
        The group whose extent becomes the span.

    Returns
    -------
    SpanLF

    Examples
    --------
    >>> from weaklab.sequence import apply_span_lfs
    >>> lf = regex_span_lf(r"\\d+ (mg|g)\\b", "Dose")
    >>> apply_span_lfs([lf], [["take", "20", "mg", "daily"]])[0].sentence_spans(0)
    {'regex_Dose': [(1, 3, 'Dose')]}
    """
    try:
        compiled = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
    except re.error as exc:
        raise fail("pattern", "a valid regular expression", got_text=f"{pattern!r} ({exc})") from None
    typ = _check_type(label)

    def run(corpus: Corpus) -> SpanRows:
        spans = [m.span(group) for m in compiled.finditer(corpus.text)]
        chars = np.asarray([s for s in spans if s[1] > s[0]], dtype=np.int64).reshape(-1, 2)
        first = np.searchsorted(corpus.char_ends, chars[:, 0], side="right")
        last = np.searchsorted(corpus.char_starts, chars[:, 1], side="left")
        ok = (first < last) & (last <= len(corpus.tokens))
        first, last = first[ok], last[ok]
        same = corpus.sentence_ids[first] == corpus.sentence_ids[last - 1]
        first, last = first[same], last[same]
        keep = np.concatenate([[True], first[1:] >= last[:-1]]) if len(first) else np.zeros(0, dtype=bool)
        return first[keep], last[keep], [typ] * int(keep.sum())

    return SpanLF(name or f"regex_{typ}", run, [typ], (compiled.pattern, compiled.flags, group))


# ------------------------------------------------------------------ shape
def word_shape(token: str, *, short: bool = True) -> str:
    """Word shape: upper ``X``, lower ``x``, digit ``d``, other characters kept.

    ``short=True`` collapses repeats (``"Aspirin"`` → ``"Xx"``).

    Parameters
    ----------
    token : str
        The token.
    short : bool, default=True
        Collapse runs of the same shape character.

    Returns
    -------
    str
        The shape.

    Examples
    --------
    >>> word_shape("Aspirin"), word_shape("IL-2"), word_shape("1990s", short=False)
    ('Xx', 'X-d', 'ddddx')
    """
    out: list[str] = []
    for ch in token:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not short or not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _token_test(rule: Any) -> Callable[[str], bool]:
    if callable(rule):
        return rule
    if isinstance(rule, str):
        rx = re.compile(rule)
        return lambda tok: rx.fullmatch(tok) is not None
    if isinstance(rule, Iterable):
        shapes = frozenset(rule)
        return lambda tok: word_shape(tok) in shapes
    raise fail("rule", "a predicate on a token, a regex (full match) or a set of word shapes", rule)


def shape_lf(rule: Any, label: str, *, name: str | None = None, min_length: int = 1,
             max_length: int | None = None) -> SpanLF:
    """Mark runs of consecutive tokens that pass a token rule (shape, casing, pattern).

    Parameters
    ----------
    rule : callable, str or set of str
        ``rule(token) -> bool``; a regex a token must match fully; or a set of
        short word shapes (see :func:`word_shape`).
    label : str
        Entity type of the spans.
    name : str, optional
        Default ``"shape_<label>"``.
    min_length, max_length : int
        Keep runs of this many tokens (``max_length=None``: no limit).

    Returns
    -------
    SpanLF

    Examples
    --------
    >>> from weaklab.sequence import apply_span_lfs
    >>> lf = shape_lf({"Xx"}, "Name", min_length=2)
    >>> apply_span_lfs([lf], [["see", "New", "York", "now", "Ann"]])[0].sentence_spans(0)
    {'shape_Name': [(1, 3, 'Name')]}
    """
    test = _token_test(rule)
    typ = _check_type(label)
    min_length = check_int("min_length", min_length, low=1)
    max_length = None if max_length is None else check_int("max_length", max_length, low=min_length)

    def run(corpus: Corpus) -> SpanRows:
        uniq, inverse = corpus.unique_tokens
        hit = np.fromiter((bool(test(t)) for t in uniq), dtype=bool, count=len(uniq))[inverse]
        sid = corpus.sentence_ids
        prev = np.concatenate([[False], hit[:-1] & (sid[:-1] == sid[1:])]) if len(hit) else hit
        nxt = np.concatenate([hit[1:] & (sid[1:] == sid[:-1]), [False]]) if len(hit) else hit
        starts = np.flatnonzero(hit & ~prev)
        ends = np.flatnonzero(hit & ~nxt) + 1
        n = ends - starts
        ok = (n >= min_length) & (n <= (max_length or n.max(initial=0)))
        return starts[ok], ends[ok], [typ] * int(ok.sum())

    params = (function_source(rule) if callable(rule) else sorted(rule) if not isinstance(rule, str) else rule,
              min_length, max_length)
    return SpanLF(name or f"shape_{typ}", run, [typ], params)


# ------------------------------------------------------------------ model
def model_span_lf(func: Callable[[list[str]], Iterable[Sequence[Any]]], *, name: str | None = None,
                  types: Sequence[str] = ()) -> SpanLF:
    """Any callable that returns spans of a sentence (an older tagger, a zero-shot model, a rule).

    Parameters
    ----------
    func : callable
        ``func(tokens) -> iterable of (start, end_exclusive, type)``; the
        applier calls it once per sentence.
    name : str, optional
        Default: the function's ``__name__``.
    types : sequence of str, optional
        Types it may emit (others found while applying are added).

    Returns
    -------
    SpanLF

    Examples
    --------
    >>> from weaklab.sequence import apply_span_lfs
    >>> def caps(tokens):
    ...     return [(i, i + 1, "Acronym") for i, t in enumerate(tokens) if t.isupper() and len(t) > 1]
    >>> apply_span_lfs([model_span_lf(caps)], [["the", "DNA", "test"]])[0].sentence_spans(0)
    {'caps': [(1, 2, 'Acronym')]}
    """
    if not callable(func):
        raise fail("func", "a callable tokens -> spans", func)
    return SpanLF(str(name or getattr(func, "__name__", "model")), None, types, (), per_sentence=func)
