"""Reproducible synthetic short texts and the keyword / regex LF definitions used by ``lf_apply.py``.

Texts look like short comments: 20 tokens drawn from a fixed vocabulary of pseudo-words (Zipf weights),
with spammy and hammy tokens planted at fixed rates so that every LF fires on 1-20 % of the rows. Decoys test
the semantics rather than only the speed: capitalised and punctuated variants (``FREE``, ``free!``) must match
the case-insensitive whole-word keyword LFs, and words that merely contain a keyword (``freedom``,
``carefree``, ``winery``) must not. The same seed always gives the same texts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

SPAM, HAM, ABSTAIN = 1, 0, -1
SEED = 20240917
WORDS_PER_TEXT = 20


@dataclass(frozen=True)
class KeywordSpec:
    name: str
    keywords: tuple[str, ...]
    label: int


@dataclass(frozen=True)
class RegexSpec:
    name: str
    pattern: str
    label: int
    flags: int = 0


KEYWORD_LFS: tuple[KeywordSpec, ...] = (
    KeywordSpec("kw_free", ("free",), SPAM),
    KeywordSpec("kw_subscribe", ("subscribe", "subscribers"), SPAM),
    KeywordSpec("kw_check_out", ("check out", "check it out"), SPAM),
    KeywordSpec("kw_channel", ("channel", "my page"), SPAM),
    KeywordSpec("kw_win", ("win", "winner", "prize"), SPAM),
    KeywordSpec("kw_money", ("money", "cash", "earn"), SPAM),
    KeywordSpec("kw_love", ("love", "loved"), HAM),
    KeywordSpec("kw_song", ("song", "music", "lyrics"), HAM),
    KeywordSpec("kw_video", ("video",), HAM),
    KeywordSpec("kw_thanks", ("thanks", "thank you"), HAM),
)

REGEX_LFS: tuple[RegexSpec, ...] = (
    RegexSpec("re_url", r"https?://\S+", SPAM),
    RegexSpec("re_check_x_out", r"check\s+\w+(\s+\w+)?\s+out", SPAM),
    RegexSpec("re_phone", r"\b\d{3}-\d{4}\b", SPAM),
    RegexSpec("re_dollars", r"\$\d+", SPAM),
    RegexSpec("re_bangs", r"!{2,}", SPAM),
    RegexSpec("re_shouting", r"\b[A-Z]{4,}\b", SPAM),
    RegexSpec("re_sub4sub", r"sub\s*4\s*sub", SPAM, re.IGNORECASE),
    RegexSpec("re_www", r"www\.[a-z0-9]+\.(com|net)", SPAM),
    RegexSpec("re_laugh", r"\b(lol|ha(ha)+)\b", HAM, re.IGNORECASE),
    RegexSpec("re_timestamp", r"\b\d{1,2}:\d{2}\b", HAM),
)

# Planted tokens: (rate per text, variants). Rates are chosen so each LF fires on ~1-20 % of texts.
PLANTED: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.08, ("free", "FREE", "Free", "free!", "free,", "(free)")),
    (0.05, ("subscribe", "Subscribe", "subscribers", "SUBSCRIBE!!")),
    (0.03, ("check out", "Check it out", "check this out", "check my channel out")),
    (0.06, ("channel", "Channel", "my page", "channel.")),
    (0.04, ("win", "winner", "prize", "WIN", "Prize!")),
    (0.04, ("money", "cash", "earn", "Money", "$100", "$5000")),
    (0.15, ("love", "loved", "Love", "LOVE", "love,")),
    (0.12, ("song", "music", "lyrics", "Song", "song!")),
    (0.10, ("video", "Video", "video.")),
    (0.06, ("thanks", "Thanks!", "thank you", "Thank you")),
    (0.05, ("http://bit.ly/x7f2", "https://www.example.com/watch?v=abc", "http://spam.net/win")),
    (0.01, ("555-1234", "call 800-5550", "123-4567")),
    (0.03, ("!!!", "wow!!", "now!!")),
    (0.02, ("sub4sub", "SUB 4 SUB", "sub 4 sub")),
    (0.02, ("www.freestuff.com", "www.win.net")),
    (0.08, ("lol", "LOL", "haha", "hahaha", "Haha")),
    (0.03, ("1:23", "12:05", "at 3:45")),
    # decoys that contain a keyword but must not match the whole-word keyword LFs
    (0.05, ("freedom", "carefree", "winery", "windows", "loveliness", "songbird", "videos", "cashier")),
)

_SYLLABLES = (
    "ka ri to na me so lu pe di go ma te ba ni ru ko ve sa mi da lo ne pu ta zi fo be gra tre plo stu kle bri"
).split()


def _vocabulary(rng: np.random.Generator, size: int = 3000) -> list[str]:
    """Pseudo-words of 2-4 syllables; none equals or contains an LF keyword or a regex trigger."""
    banned = re.compile(
        r"free|sub|check|chan|page|win|prize|money|cash|earn|love|song|music|lyric|video|thank|lol|haha|http|www",
        re.IGNORECASE,
    )
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        n = int(rng.integers(2, 5))
        w = "".join(rng.choice(_SYLLABLES, size=n))
        if w not in seen and not banned.search(w):
            seen.add(w)
            words.append(w)
    return words


CHUNK = 100_000
"""Rows per generated chunk: chunk ``c`` starts at row ``c * CHUNK``."""


@functools.lru_cache(maxsize=2)
def _tokens(seed: int) -> tuple[int, np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    weights /= weights.sum()
    tokens = list(vocab)
    planted_ids: list[np.ndarray] = []
    for _, variants in PLANTED:
        planted_ids.append(np.arange(len(tokens), len(tokens) + len(variants)))
        tokens.extend(variants)
    return len(vocab), weights, np.array(tokens, dtype=object), planted_ids


def make_text_chunk(chunk: int, rows: int = CHUNK, seed: int = SEED) -> list[str]:
    """Chunk ``chunk`` of :func:`make_texts` (``rows`` = CHUNK, or fewer for a last, partial chunk).

    Lets a Dask worker generate its own partition without the client ever holding the texts.
    """
    n_vocab, weights, token_arr, planted_ids = _tokens(seed)
    crng = np.random.default_rng([seed, chunk])
    idx = crng.choice(n_vocab, size=(rows, WORDS_PER_TEXT), p=weights)
    for (rate, _), ids in zip(PLANTED, planted_ids):
        hit = np.flatnonzero(crng.random(rows) < rate)
        cols = crng.integers(0, WORDS_PER_TEXT, size=hit.size)
        idx[hit, cols] = crng.choice(ids, size=hit.size)
    words = token_arr[idx]
    return [" ".join(row) for row in words.tolist()]


def make_texts(n: int, seed: int = SEED) -> list[str]:
    """``n`` synthetic comments, reproducible for a given (n, seed); row i does not depend on n."""
    out: list[str] = []
    for start in range(0, n, CHUNK):  # chunks of a fixed size: row i is the same whatever n is
        out.extend(make_text_chunk(start // CHUNK, min(CHUNK, n - start), seed))
    return out
