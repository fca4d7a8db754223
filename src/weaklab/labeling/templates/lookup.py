"""The lookup template: ``lookup_lf`` votes the label a knowledge base gives a column's value."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..._core.constants import ABSTAIN
from ..._core.validation import fail
from .._batch import Batch
from ..lf import LabelingFunction
from ._base import TemplateLF, check_field, check_label, check_name, slug

__all__ = ["lookup_lf"]

_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "casefold": str.casefold,
    "strip": str.strip,
    "lower_strip": lambda s: s.strip().lower(),
}




class _LookupLF(TemplateLF):
    _thread_safe = True

    def __init__(self, name: str, params: dict[str, Any], table: dict[Any, int | str],
                 normalize: Callable[[Any], Any] | None) -> None:
        super().__init__(name, "lookup_lf", params, (params["field"],))
        self._labels = list(dict.fromkeys(table.values()))  # distinct labels: ids or class names
        position = {label: i for i, label in enumerate(self._labels)}
        self._table = {key: position[label] for key, label in table.items()}
        self._normalize = normalize

    def _votes_names(self) -> bool:
        return bool(self._labels) and all(isinstance(label, str) for label in self._labels)

    def _compute(self, batch: Batch) -> np.ndarray:
        codes, uniques = pd.factorize(batch.frame[self.params["field"]], use_na_sentinel=True)
        # the vote of each distinct label (a class name is looked up in the batch's class list); the last: abstain
        votes = np.array([batch.class_id(v, self.name) if isinstance(v, str) else v for v in self._labels]
                         + [ABSTAIN], dtype=np.int64)
        get, missing = self._table.get, len(self._labels)
        norm = self._normalize
        keys = list(uniques) if norm is None else [norm(k) for k in uniques]
        found = votes[np.fromiter((get(k, missing) for k in keys), dtype=np.int64, count=len(keys))]
        return np.where(codes >= 0, found[np.maximum(codes, 0)] if found.size else ABSTAIN, ABSTAIN)


def lookup_lf(
    kb: Mapping[Any, int | str] | Iterable[Any] | pd.DataFrame,
    *,
    field: str,
    label: int | str | None = None,
    name: str | None = None,
    normalize: str | Callable[[Any], Any] | None = None,
) -> LabelingFunction:
    """Distant supervision: vote the label a knowledge base gives the value of ``field``.

    Parameters
    ----------
    kb : dict, set/list of keys, or DataFrame
        A ``{value: class}`` dict; or a collection of values that all get
        ``label``; or a DataFrame with a ``"key"`` column and either a
        ``"label"`` column or the ``label`` argument. A class is an id or a
        class name, looked up in the class list when the LF is applied
        (``apply_lfs(..., class_names=...)``, ``[labels].classes`` in a
        project), as in :func:`keyword_lf`.
    field : str
        Column whose values are looked up; missing values abstain.
    label : int or str, optional
        Class (id or name) for every key (required for a collection,
        forbidden for a dict).
    name : str, optional
        Defaults to ``"lookup_<field>"``.
    normalize : {"lower", "casefold", "strip", "lower_strip"} or callable, optional
        Applied to the keys and to every value before the lookup (named
        normalizers change strings only).

    Returns
    -------
    LabelingFunction
        Vectorized; its vote on a row equals ``table.get(normalize(value), -1)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import apply_lfs, lookup_lf
    >>> known_spammers = {"promo_bot": 1, "Psy Official": 0}
    >>> lf = lookup_lf(known_spammers, field="author", normalize="casefold", name="known_authors")
    >>> data = pd.DataFrame({"author": ["PROMO_BOT", "psy official", "someone"]})
    >>> apply_lfs([lf], data, progress=False)[0].to_dense().ravel().tolist()
    [1, 0, -1]
    >>> by_name = lookup_lf({"promo_bot": "junk mail"}, field="author", normalize="casefold")
    >>> apply_lfs([by_name], data, class_names=["fine", "junk mail"], progress=False)[0].to_dense().ravel().tolist()
    [1, -1, -1]
    """
    field = check_field(field)
    norm = _check_normalize(normalize)
    table = _lookup_table(kb, label)
    if norm is not None:
        table = _normalized_table(table, norm)
    params = {"table": table, "field": field, "normalize": normalize}
    return _LookupLF(check_name(name, f"lookup_{slug(field)}"), params, table, norm)


def _lookup_table(kb: Any, label: Any) -> dict[Any, int | str]:
    if isinstance(kb, pd.DataFrame):
        return _frame_table(kb, label)
    if isinstance(kb, Mapping):
        if label is not None:
            raise fail("label", "None when kb is a dict (the dict gives the labels)", label)
        table = {k: check_label(v, f"kb[{k!r}]") for k, v in kb.items()}
    elif isinstance(kb, (set, frozenset, list, tuple, np.ndarray, pd.Series, pd.Index)):
        if label is None:
            raise fail("label", "a class id or name for the keys of kb", label)
        label = check_label(label)
        table = dict.fromkeys(list(kb), label)
    else:
        raise fail("kb", "a dict, a set/list of keys or a DataFrame with 'key' and 'label' columns", kb)
    missing = [k for k in table if k is None or (isinstance(k, float) and math.isnan(k))]
    if missing:
        raise fail("kb", "keys that are not missing values", got_text=f"the key {missing[0]!r}")
    return table


def _frame_table(kb: pd.DataFrame, label: Any) -> dict[Any, int | str]:
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


def _normalized_table(table: dict[Any, int | str], norm: Callable[[Any], Any]) -> dict[Any, int | str]:
    out: dict[Any, int | str] = {}
    for key, value in table.items():
        new = norm(key)
        if out.get(new, value) != value:
            raise fail("kb", "one label per key after normalize",
                       got_text=f"conflicting labels for {new!r}")
        out[new] = value
    return out


