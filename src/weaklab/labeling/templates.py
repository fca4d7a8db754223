"""Labeling-function templates: common rules, written once and run as column operations.

Every template returns a vectorized :class:`~weaklab.labeling.lf.LabelingFunction`
whose fingerprint hashes the template kind and its parameters. Text templates
share per-batch work (the text as an Arrow column, its lower-cased form) and
scan with RE2 where that is exact, falling back to Python's ``re`` elsewhere,
so votes always equal the documented row-wise definition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN
from .._core.validation import check_float, check_int, fail
from ._batch import Batch, FieldError
from ._literals import LiteralIndex
from ._model_template import model_lf
from ._search import TextColumn, TextSearch
from ._template_base import _check_field, _check_name, _slug, _TemplateLF, _text, _votes
from .lf import LabelingFunction
from .text_field import TEXT, resolve_text_field

__all__ = ["keyword_lf", "regex_lf", "lookup_lf", "threshold_lf", "model_lf"]

_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "casefold": str.casefold,
    "strip": str.strip,
    "lower_strip": lambda s: s.strip().lower(),
}


# ---------------------------------------------------------------------------
# keyword_lf / regex_lf
# ---------------------------------------------------------------------------


class _SearchLF(_TemplateLF):
    _thread_safe = True

    def __init__(self, name: str, kind: str, params: dict[str, Any], field: str,
                 search: TextSearch, label: int, lower: bool) -> None:
        super().__init__(name, kind, params, (field,))
        self._search = search
        self._label = label
        self._lower = lower

    def _prepare(self, batch: Batch) -> None:
        """Add this LF's prefilter literals to the batch's shared literal pass (see :mod:`._literals`)."""
        wanted = self._search.prefilter_literals()
        if wanted is not None:
            lower = wanted[0] or self._lower
            batch.memo(("literal-wants", self.params["field"], lower), set).update(wanted[1])

    def _compute(self, batch: Batch) -> np.ndarray:
        field = self.params["field"]
        column = _text(batch, field, self.name, lower=self._lower)

        def lowered() -> TextColumn:
            return _text(batch, field, self.name, lower=True)

        def find(on_lower: bool, literals: frozenset[str]) -> np.ndarray:
            lower = on_lower or self._lower
            target = _text(batch, field, self.name, lower=lower)
            wants = batch.memo(("literal-wants", field, lower), set)
            index = batch.memo(("literal-index", field, lower), lambda: LiteralIndex(target.array, wants))
            return index.rows(literals)

        return _votes(self._search.search(column, lowered=lowered, find=find), self._label)


def keyword_lf(
    keywords: str | Iterable[str],
    label: int,
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
    label : int
        Class id voted on a match; otherwise the LF abstains.
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
    """
    words = _check_keywords(keywords)
    label = check_int("label", label, low=0)
    field = _check_field(resolve_text_field(field))
    case_sensitive = bool(_check_flag("case_sensitive", case_sensitive))
    whole_word = bool(_check_flag("whole_word", whole_word))
    compared = words if case_sensitive else [w.lower() for w in words]
    alternation = "|".join(re.escape(w) for w in sorted(set(compared), key=lambda w: (-len(w), w)))
    pattern = rf"(?<!\w)(?:{alternation})(?!\w)" if whole_word else f"(?:{alternation})"
    default = "keyword_" + "_".join(_slug(w, 20) for w in words[:3]) + ("_etc" if len(words) > 3 else "")
    params = {"keywords": tuple(words), "label": label, "field": field,
              "case_sensitive": case_sensitive, "whole_word": whole_word}
    return _SearchLF(_check_name(name, default), "keyword_lf", params, field,
                     TextSearch(pattern), label, lower=not case_sensitive)


def regex_lf(
    pattern: str | re.Pattern[str],
    label: int,
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
    label : int
        Class id voted on a match; otherwise the LF abstains.
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
    label = check_int("label", label, low=0)
    field = _check_field(resolve_text_field(field))
    params = {"pattern": pattern, "flags": int(flags), "label": label, "field": field}
    return _SearchLF(_check_name(name, "regex_" + _slug(pattern)), "regex_lf", params, field,
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


# ---------------------------------------------------------------------------
# lookup_lf
# ---------------------------------------------------------------------------


class _LookupLF(_TemplateLF):
    _thread_safe = True

    def __init__(self, name: str, params: dict[str, Any], table: dict[Any, int],
                 normalize: Callable[[Any], Any] | None) -> None:
        super().__init__(name, "lookup_lf", params, (params["field"],))
        self._table = table
        self._normalize = normalize

    def _compute(self, batch: Batch) -> np.ndarray:
        codes, uniques = pd.factorize(batch.frame[self.params["field"]], use_na_sentinel=True)
        get = self._table.get
        norm = self._normalize
        keys = list(uniques) if norm is None else [norm(k) for k in uniques]
        found = np.fromiter((get(k, ABSTAIN) for k in keys), dtype=np.int64, count=len(keys))
        return np.where(codes >= 0, found[np.maximum(codes, 0)] if found.size else ABSTAIN, ABSTAIN)


def lookup_lf(
    kb: Mapping[Any, int] | Iterable[Any] | pd.DataFrame,
    *,
    field: str,
    label: int | None = None,
    name: str | None = None,
    normalize: str | Callable[[Any], Any] | None = None,
) -> LabelingFunction:
    """Distant supervision: vote the label a knowledge base gives the value of ``field``.

    Parameters
    ----------
    kb : dict, set/list of keys, or DataFrame
        A ``{value: class id}`` dict; or a collection of values that all get
        ``label``; or a DataFrame with a ``"key"`` column and either a
        ``"label"`` column or the ``label`` argument.
    field : str
        Column whose values are looked up; missing values abstain.
    label : int, optional
        Class id for every key (required for a collection, forbidden for a dict).
    name : str, optional
        Defaults to ``"lookup_<field>"``.
    normalize : {"lower", "casefold", "strip", "lower_strip"} or callable, optional
        Applied to the keys and to every value before the lookup (named
        normalizers change strings only).

    Returns
    -------
    LabelingFunction
        Vectorized; its vote on a row equals ``table.get(normalize(value), -1)``.
    """
    field = _check_field(field)
    norm = _check_normalize(normalize)
    table = _lookup_table(kb, label)
    if norm is not None:
        table = _normalized_table(table, norm)
    params = {"table": table, "field": field, "normalize": normalize}
    return _LookupLF(_check_name(name, f"lookup_{_slug(field)}"), params, table, norm)


def _lookup_table(kb: Any, label: Any) -> dict[Any, int]:
    if isinstance(kb, pd.DataFrame):
        return _frame_table(kb, label)
    if isinstance(kb, Mapping):
        if label is not None:
            raise fail("label", "None when kb is a dict (the dict gives the labels)", label)
        table = {k: check_int(f"kb[{k!r}]", v, low=0) for k, v in kb.items()}
    elif isinstance(kb, (set, frozenset, list, tuple, np.ndarray, pd.Series, pd.Index)):
        if label is None:
            raise fail("label", "a class id for the keys of kb", label)
        label = check_int("label", label, low=0)
        table = dict.fromkeys(list(kb), label)
    else:
        raise fail("kb", "a dict, a set/list of keys or a DataFrame with 'key' and 'label' columns", kb)
    missing = [k for k in table if k is None or (isinstance(k, float) and math.isnan(k))]
    if missing:
        raise fail("kb", "keys that are not missing values", got_text=f"the key {missing[0]!r}")
    return table


def _frame_table(kb: pd.DataFrame, label: Any) -> dict[Any, int]:
    if "key" not in kb.columns:
        raise fail("kb", "a DataFrame with a 'key' column", got_text=f"columns {list(kb.columns)}")
    if label is not None:
        if "label" in kb.columns:
            raise fail("label", "None when kb has a 'label' column", label)
        return _lookup_table(list(kb["key"]), label)
    if "label" not in kb.columns:
        raise fail("kb", "a 'label' column (or the label argument)", got_text=f"columns {list(kb.columns)}")
    pairs = kb[["key", "label"]].drop_duplicates()
    dupes = pairs["key"][pairs["key"].duplicated()]
    if len(dupes):
        raise fail("kb", "one label per key", got_text=f"several labels for the key {dupes.iloc[0]!r}")
    return _lookup_table(dict(zip(pairs["key"].tolist(), pairs["label"].tolist())), None)


def _check_normalize(normalize: Any) -> Callable[[Any], Any] | None:
    if normalize is None or callable(normalize):
        return normalize
    if isinstance(normalize, str) and normalize in _NORMALIZERS:
        func = _NORMALIZERS[normalize]
        return lambda v: func(v) if isinstance(v, str) else v
    raise fail("normalize", f"None, a callable or one of {sorted(_NORMALIZERS)}", normalize)


def _normalized_table(table: dict[Any, int], norm: Callable[[Any], Any]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for key, value in table.items():
        new = norm(key)
        if out.get(new, value) != value:
            raise fail("kb", "one label per key after normalize",
                       got_text=f"conflicting labels for {new!r}")
        out[new] = value
    return out


# ---------------------------------------------------------------------------
# threshold_lf
# ---------------------------------------------------------------------------


class _ThresholdLF(_TemplateLF):
    _thread_safe = True

    def _compute(self, batch: Batch) -> np.ndarray:
        field = self.params["field"]
        values = _numeric(batch.frame[field], field, self.name)
        above, below = self.params["above"], self.params["below"]
        hits = ~np.isnan(values)
        with np.errstate(invalid="ignore"):
            if above is not None:
                hits &= values > above
            if below is not None:
                hits &= values < below
        return _votes(hits, self.params["label"])


def threshold_lf(
    field: str,
    *,
    above: float | None = None,
    below: float | None = None,
    label: int,
    name: str | None = None,
) -> LabelingFunction:
    """Vote ``label`` when a numeric column lies beyond a threshold (exclusive).

    Parameters
    ----------
    field : str
        Numeric column; missing values (NaN, None, NA) abstain.
    above : float, optional
        Vote when ``value > above`` (strictly).
    below : float, optional
        Vote when ``value < below`` (strictly). With both, vote when
        ``above < value < below`` (requires ``above < below``).
    label : int
        Class id to vote.
    name : str, optional
        Defaults to ``"threshold_<field>_..."``.
    """
    field = _check_field(field)
    if above is None and below is None:
        raise fail("above/below", "at least one threshold", None)
    above = None if above is None else check_float("above", above)
    below = None if below is None else check_float("below", below)
    if above is not None and below is not None and not above < below:
        raise fail("above", f"a value below below={below:g} (the band is above < value < below)", above)
    label = check_int("label", label, low=0)
    parts = [f"above_{above:g}" if above is not None else "", f"below_{below:g}" if below is not None else ""]
    default = _slug(f"threshold_{field}_" + "_".join(p for p in parts if p), 60)
    params = {"field": field, "above": above, "below": below, "label": label}
    return _ThresholdLF(_check_name(name, default), "threshold_lf", params, (field,))


def _numeric(series: pd.Series, field: str, lf_name: str) -> np.ndarray:
    kind = pd.api.types.infer_dtype(series, skipna=True)
    numeric = pd.api.types.is_numeric_dtype(series.dtype) or kind in (
        "integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty",
    )
    if not numeric or pd.api.types.is_complex_dtype(series.dtype):
        raise FieldError(
            f"labeling function {lf_name!r}: column {field!r}: expected numbers or missing values, "
            f"got values of kind {kind!r} (dtype {series.dtype})"
        )
    return series.to_numpy(dtype=np.float64, na_value=np.nan)
