"""Sentences in flat form, with the views span labeling functions share (built once, lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from .._core.validation import fail

__all__ = ["Corpus", "normalize_token"]

_SIBILANT_STEMS = ("ss", "x", "z", "ch", "sh")


def normalize_token(token: str, *, case_sensitive: bool = False, plurals: bool = True) -> str:
    """The form a gazetteer compares: lower-cased and singularised (both optional).

    Singularising is a small English rule set: ``-ies`` → ``-y``, ``-(ss|x|z|ch|sh)es`` → drop ``es``,
    otherwise a final ``s`` (not ``ss``) on words of 4+ characters is dropped.

    Parameters
    ----------
    token : str
        The token.
    case_sensitive : bool, default=False
        Keep the case.
    plurals : bool, default=True
        Singularise.

    Returns
    -------
    str
        The normalised token.

    Examples
    --------
    >>> [normalize_token(t) for t in ["Diseases", "boxes", "cases", "class", "therapies", "DNA"]]
    ['disease', 'box', 'case', 'class', 'therapy', 'dna']
    """
    if not case_sensitive:
        token = token.lower()
    if not plurals or len(token) < 4 or not token.endswith("s") or token.endswith("ss"):
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("es") and token[:-2].endswith(_SIBILANT_STEMS):
        return token[:-2]
    return token[:-1]


class Corpus:
    """Token sequences flattened once, with cached views for span labeling functions.

    Parameters
    ----------
    sentences : sequence of sequence of str
        The tokens of each sentence.

    Examples
    --------
    >>> c = Corpus([["New", "York"], ["pizza"]])
    >>> c.offsets.tolist(), c.text
    ([0, 2, 3], 'New York\\npizza')
    >>> c.char_starts.tolist(), c.char_ends.tolist()
    ([0, 4, 9], [3, 8, 14])
    """

    def __init__(self, sentences: Sequence[Sequence[str]]) -> None:
        if isinstance(sentences, str) or not isinstance(sentences, Sequence):
            raise fail("sentences", "a sequence of token lists", sentences)
        self.sentences = [list(s) for s in sentences]
        for i, s in enumerate(self.sentences):
            if not all(isinstance(t, str) for t in s):
                raise fail(f"sentences[{i}]", "a list of str tokens", s)
        lengths = np.fromiter((len(s) for s in self.sentences), dtype=np.int64, count=len(self.sentences))
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.tokens: list[str] = [t for s in self.sentences for t in s]
        self._norm: dict[tuple[bool, bool], tuple[np.ndarray, dict[str, int]]] = {}

    @property
    def n_sentences(self) -> int:
        """Number of sentences."""
        return len(self.sentences)

    @cached_property
    def sentence_ids(self) -> np.ndarray:
        """Sentence index of every flat token."""
        return np.repeat(np.arange(self.n_sentences), np.diff(self.offsets))

    @cached_property
    def sentence_ends(self) -> np.ndarray:
        """End (exclusive flat position) of the sentence of every flat token."""
        return self.offsets[1:][self.sentence_ids]

    def normalized_ids(self, *, case_sensitive: bool, plurals: bool) -> tuple[np.ndarray, dict[str, int]]:
        """Every flat token's id in a vocabulary of normalised forms, and that vocabulary."""
        key = (case_sensitive, plurals)
        if key not in self._norm:
            vocab: dict[str, int] = {}
            raw: dict[str, int] = {}
            for tok in self.tokens:
                if tok not in raw:
                    form = normalize_token(tok, case_sensitive=case_sensitive, plurals=plurals)
                    raw[tok] = vocab.setdefault(form, len(vocab))
            ids = np.fromiter((raw[t] for t in self.tokens), dtype=np.int64, count=len(self.tokens))
            self._norm[key] = (ids, vocab)
        return self._norm[key]

    @cached_property
    def unique_tokens(self) -> tuple[list[str], np.ndarray]:
        """Distinct tokens and every flat token's index among them."""
        index: dict[str, int] = {}
        inverse = np.fromiter((index.setdefault(t, len(index)) for t in self.tokens), dtype=np.int64,
                              count=len(self.tokens))
        return list(index), inverse

    @cached_property
    def text(self) -> str:
        """Tokens joined by a space within a sentence and (non-empty) sentences joined by a newline."""
        return "\n".join(" ".join(s) for s in self.sentences if s)

    @cached_property
    def char_starts(self) -> np.ndarray:
        """Offset of every flat token in :attr:`text`."""
        lens = np.fromiter((len(t) for t in self.tokens), dtype=np.int64, count=len(self.tokens))
        return np.cumsum(lens + 1) - lens - 1

    @cached_property
    def char_ends(self) -> np.ndarray:
        """End offset (exclusive) of every flat token in :attr:`text`."""
        lens = np.fromiter((len(t) for t in self.tokens), dtype=np.int64, count=len(self.tokens))
        return self.char_starts + lens
