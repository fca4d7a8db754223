"""Text-search templates: ``keyword_lf`` and ``regex_lf``.

Both scan a text column as one column operation: the text as an Arrow
column (and its lower-cased form) is built once per batch and shared, the
literals of every search LF of a run are found in one pass, and RE2 scans
where that is exact, Python's ``re`` elsewhere, so votes always equal the
documented row-wise definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..._core.validation import fail
from .._batch import Batch
from .._literals import LiteralIndex
from .._search import TextColumn, TextSearch
from ..lf import LabelingFunction
from ..text_field import TEXT, resolve_text_field
from ._base import TemplateLF, batch_text, check_field, check_label, check_name, slug, votes_where

__all__ = ["keyword_lf", "regex_lf"]


# ---------------------------------------------------------------------------
# keyword_lf / regex_lf
# ---------------------------------------------------------------------------


class _SearchLF(TemplateLF):
    _thread_safe = True

    def __init__(self, name: str, kind: str, params: dict[str, Any], field: str,
                 search: TextSearch, label: int | str, lower: bool) -> None:
        super().__init__(name, kind, params, (field,))
        self._search = search
        self._lower = lower

    def _prepare(self, batch: Batch) -> None:
        """Add this LF's prefilter literals to the batch's shared literal pass (see :mod:`._literals`)."""
        wanted = self._search.prefilter_literals()
        if wanted is not None:
            lower = wanted[0] or self._lower
            batch.memo(("literal-wants", self.params["field"], lower), set).update(wanted[1])

    def _compute(self, batch: Batch) -> np.ndarray:
        field = self.params["field"]
        column = batch_text(batch, field, self.name, lower=self._lower)

        def lowered() -> TextColumn:
            return batch_text(batch, field, self.name, lower=True)

        def find(on_lower: bool, literals: frozenset[str]) -> np.ndarray:
            lower = on_lower or self._lower
            target = batch_text(batch, field, self.name, lower=lower)
            wants = batch.memo(("literal-wants", field, lower), set)
            index = batch.memo(("literal-index", field, lower), lambda: LiteralIndex(target.array, wants))
            return index.rows(literals)

        return votes_where(self._search.search(column, lowered=lowered, find=find), self._label_id(batch))


def keyword_lf(
    keywords: str | Iterable[str],
    label: int | str,
    *,
    field: str = TEXT,
    name: str | None = None,
    case_sensitive: bool = False,
    whole_word: bool = True,
) -> LabelingFunction:
    """Vote ``label`` when any keyword occurs in the text column ``field``.

    Parameters
    ----------
    keywords : str or iterable of str
        One keyword or several (a phrase may contain spaces).
    label : int or str
        Class voted on a match (otherwise the LF abstains): an id, or a class
        name, looked up in the class list when the LF is applied
        (``apply_lfs(..., class_names=...)``, ``[labels].classes`` in a project).
    field : str, default="text"
        Column holding the text; missing values abstain. Built inside a
        project's LF module without ``field``, the project's
        ``[data].text_field`` (see :func:`~weaklab.labeling.default_text_field`).
    name : str, optional
        Defaults to ``"keyword_<first keywords>"``.
    case_sensitive : bool, default=False
        When False, text and keywords are compared after ``str.lower()``.
    whole_word : bool, default=True
        When True a keyword must not touch a word character (``\\w``) on
        either side: ``"free"`` matches ``"free!"`` but not ``"freedom"``.

    Returns
    -------
    LabelingFunction
        Vectorized; its vote on a row equals
        ``label if re.search(P, t) else -1`` with ``t = text.lower()`` (or the
        text itself if case-sensitive) and
        ``P = r"(?<!\\w)(?:k1|k2|...)(?!\\w)"`` (escaped keywords; without the
        look-arounds when ``whole_word=False``).

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import apply_lfs, keyword_lf
    >>> lf = keyword_lf(["subscribe", "check out"], label=1)
    >>> lf.name
    'keyword_subscribe_check_out'
    >>> L, _ = apply_lfs([lf], pd.DataFrame({"text": ["Check out my channel", "subscribers love it", "nice song"]}),
    ...                  progress=False)
    >>> L.to_dense().ravel().tolist()
    [1, -1, -1]
    """
    words = _check_keywords(keywords)
    label = check_label(label)
    field = check_field(resolve_text_field(field))
    case_sensitive = bool(_check_flag("case_sensitive", case_sensitive))
    whole_word = bool(_check_flag("whole_word", whole_word))
    compared = words if case_sensitive else [w.lower() for w in words]
    alternation = "|".join(re.escape(w) for w in sorted(set(compared), key=lambda w: (-len(w), w)))
    pattern = rf"(?<!\w)(?:{alternation})(?!\w)" if whole_word else f"(?:{alternation})"
    default = "keyword_" + "_".join(slug(w, 20) for w in words[:3]) + ("_etc" if len(words) > 3 else "")
    params = {"keywords": tuple(words), "label": label, "field": field,
              "case_sensitive": case_sensitive, "whole_word": whole_word}
    return _SearchLF(check_name(name, default), "keyword_lf", params, field,
                     TextSearch(pattern), label, lower=not case_sensitive)


def regex_lf(
    pattern: str | re.Pattern[str],
    label: int | str,
    *,
    field: str = TEXT,
    name: str | None = None,
    flags: int = 0,
) -> LabelingFunction:
    """Vote ``label`` when ``re.search(pattern, text, flags)`` finds a match.

    Parameters
    ----------
    pattern : str or compiled pattern
        A Python regular expression (a compiled one brings its own flags).
    label : int or str
        Class voted on a match (otherwise the LF abstains): an id, or a class
        name, looked up in the class list when the LF is applied
        (``apply_lfs(..., class_names=...)``, ``[labels].classes`` in a project).
    field : str, default="text"
        Column holding the text; missing values abstain. Built inside a
        project's LF module without ``field``, the project's
        ``[data].text_field`` (see :func:`~weaklab.labeling.default_text_field`).
    name : str, optional
        Defaults to ``"regex_<pattern>"``.
    flags : int, default=0
        ``re`` flags such as ``re.IGNORECASE``.

    Returns
    -------
    LabelingFunction
        Vectorized, with exactly ``re.search`` semantics.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import apply_lfs, regex_lf
    >>> lf = regex_lf(r"https?://", label=1, name="has_link")
    >>> L, _ = apply_lfs([lf], pd.DataFrame({"text": ["see http://spam.example", "great video"]}), progress=False)
    >>> L.to_dense().ravel().tolist()
    [1, -1]
    """
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise fail("pattern", "a text (str) pattern", pattern.pattern)
        flags = int(flags) | (pattern.flags & ~re.UNICODE)
        pattern = pattern.pattern
    if not isinstance(pattern, str) or not pattern:
        raise fail("pattern", "a non-empty regular expression string", pattern)
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise fail("flags", "re flags (an int such as re.IGNORECASE)", flags)
    try:
        search = TextSearch(pattern, flags)
    except re.error as exc:
        raise fail("pattern", "a valid regular expression", got_text=f"{pattern!r} ({exc})") from None
    label = check_label(label)
    field = check_field(resolve_text_field(field))
    params = {"pattern": pattern, "flags": int(flags), "label": label, "field": field}
    # escapes such as \b, \d or \s name no word of the pattern: r"\bupdate\b" is named regex_update
    return _SearchLF(check_name(name, "regex_" + slug(re.sub(r"\\[A-Za-z]", " ", pattern))), "regex_lf", params, field,
                     search, label, lower=False)


def _check_keywords(keywords: Any) -> list[str]:
    words = [keywords] if isinstance(keywords, str) else keywords
    if not isinstance(words, Iterable) or isinstance(words, (bytes, Mapping)):
        raise fail("keywords", "a string or an iterable of strings", keywords)
    words = list(words)
    if not words or not all(isinstance(w, str) and w for w in words):
        raise fail("keywords", "one or more non-empty strings", keywords)
    return words


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value)
    return bool(value)
