"""Slices: named subsets of the items, and metrics with confidence intervals per slice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._core.hashing import fingerprint as _fingerprint
from .._core.validation import check_bool, check_float, check_int, check_labels, check_random_state, fail
from ._counts import averaged_f1, binned, confusion_counts, per_class
from ._inputs import as_predictions, checked_pair

__all__ = ["SlicingFunction", "slicing_function", "slice_report", "wilson_interval", "SLICE_METRICS"]


class _Row(dict):
    """One item as a mapping with attribute access (``x.text == x["text"]``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"row has no field {name!r}; its fields are {list(self)}") from None


class SlicingFunction:
    """A named subset of the items: a function of a row (or of a batch) returning True for members.

    Parameters
    ----------
    name : str
        Name of the slice (a row of :func:`slice_report`).
    function : callable
        Row-wise ``f(x) -> bool`` (``x`` has attribute and key access to the
        columns) or, with ``vectorized=True``, ``f(df) -> bool array`` of
        length ``len(df)``.
    vectorized : bool, default=False
        Whether ``function`` takes the whole DataFrame.
    fields : sequence of str, optional
        Columns the function reads, checked before it runs.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.evaluation import SlicingFunction, slice_report
    >>> short = SlicingFunction("short", lambda row: len(row["text"]) < 10)
    >>> items = pd.DataFrame({"text": ["short", "a much longer comment", "hi", "another long one"]})
    >>> short.mask(items).tolist()
    [True, False, True, False]
    >>> slice_report([0, 1, 1, 0], [0, 1, 0, 0], items, [short])[["slice", "n", "accuracy"]]
         slice  n  accuracy
    0  overall  4      0.75
    1    short  2      0.50
    """

    def __init__(self, name: str, function: Callable[..., Any], *, vectorized: bool = False,
                 fields: Sequence[str] | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise fail("name", "a non-empty string", name)
        if not callable(function):
            raise fail("function", "a callable", function)
        self.name = name
        self.function = function
        self.vectorized = check_bool("vectorized", vectorized)
        if fields is not None and (isinstance(fields, str) or not all(isinstance(f, str) for f in fields)):
            raise fail("fields", "a list of column names", fields)
        self.fields = tuple(fields) if fields is not None else None

    @cached_property
    def fingerprint(self) -> str:
        """Stable hash of the function's code and the slice's settings."""
        return _fingerprint("slicing_function", self.name, self.function, self.vectorized, self.fields)

    def __repr__(self) -> str:
        return f"SlicingFunction({self.name!r}, {'vectorized' if self.vectorized else 'row-wise'})"

    def __call__(self, x: Any) -> bool:
        """Whether one item (a mapping or object with attributes) is in the slice."""
        if self.vectorized:
            return bool(self.mask(pd.DataFrame([dict(x)]))[0])
        return bool(self.function(_Row(x) if isinstance(x, Mapping) else x))

    def mask(self, data: pd.DataFrame) -> np.ndarray:
        """Membership of every row of ``data``.

        Returns
        -------
        ndarray of shape (len(data),) and dtype bool
        """
        if not isinstance(data, pd.DataFrame):
            raise fail("data", "a pandas DataFrame", data)
        missing = [f for f in self.fields or () if f not in data.columns]
        if missing:
            raise fail("data", f"the column(s) {missing} read by slice {self.name!r}",
                       got_text=f"columns {list(data.columns)}")
        if self.vectorized:
            out = np.asarray(self.function(data))
        else:
            out = np.array([bool(self.function(_Row(r))) for r in data.to_dict("records")], dtype=bool)
        if out.shape != (len(data),) or (out.size and out.dtype.kind not in "bui"):
            raise fail(f"slice {self.name!r}", f"a boolean array of shape ({len(data)},)", out)
        return out.astype(bool)


def slicing_function(
    name: str | Callable[..., Any] | None = None,
    *,
    vectorized: bool = False,
    fields: Sequence[str] | None = None,
) -> Any:
    """Decorator turning a function into a :class:`SlicingFunction` (bare or with arguments).

    Parameters
    ----------
    name : str or callable, optional
        The slice's name (default: the function's name); the function itself when used bare (``@slicing_function``).
    vectorized : bool, default=False
        The function takes the whole DataFrame and returns a boolean array, instead of one row at a time.
    fields : sequence of str, optional
        Columns the function reads (checked before it runs).

    Returns
    -------
    SlicingFunction or callable
        The slicing function, or a decorator that makes one.

    Examples
    --------
    >>> @slicing_function
    ... def short(x):
    ...     return len(x.text) < 20
    >>> @slicing_function(vectorized=True)
    ... def has_link(df):
    ...     return df["text"].str.contains("http").to_numpy()
    """

    def wrap(func: Callable[..., Any]) -> SlicingFunction:
        label = name if isinstance(name, str) else getattr(func, "__name__", "")
        return SlicingFunction(label, func, vectorized=vectorized, fields=fields)

    if callable(name) and not isinstance(name, str):
        return wrap(name)
    if name is not None and not isinstance(name, str):
        raise fail("name", "a string or None", name)
    return wrap


# --------------------------------------------------------------------------------------- metrics


def _f1(average: str) -> Callable[..., float]:
    return lambda t, p, proba, k: averaged_f1(confusion_counts(t, p, k), average)


def _ece(t: np.ndarray, p: np.ndarray, proba: np.ndarray, k: int) -> float:
    count, conf, acc, _, _ = binned(proba, t, 15, "uniform")
    used = count > 0
    return float(np.sum(count[used] * np.abs(acc[used] - conf[used])) / count.sum())


def _brier(t: np.ndarray, p: np.ndarray, proba: np.ndarray, k: int) -> float:
    onehot = np.eye(proba.shape[1])[t]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def _nll(t: np.ndarray, p: np.ndarray, proba: np.ndarray, k: int) -> float:
    return float(-np.mean(np.log(np.clip(proba[np.arange(t.shape[0]), t], 1e-15, 1.0))))


_METRICS: dict[str, tuple[bool, Callable[..., float]]] = {
    "accuracy": (False, lambda t, p, proba, k: float(np.mean(t == p))),
    "coverage": (False, lambda t, p, proba, k: float(np.mean(p >= 0))),
    "macro_f1": (False, _f1("macro")),
    "micro_f1": (False, _f1("micro")),
    "weighted_f1": (False, _f1("weighted")),
    "f1": (False, lambda t, p, proba, k: float(per_class(confusion_counts(t, p, k))[2][1])),
    "ece": (True, _ece),
    "brier": (True, _brier),
    "nll": (True, _nll),
}
SLICE_METRICS: tuple[str, ...] = tuple(_METRICS)
"""Metric names :func:`slice_report` knows.

``"f1"`` is the F1 of class 1; ``"ece"`` uses 15 equal-width bins.
"""

_PROPORTIONS = ("accuracy", "coverage")


def wilson_interval(
    successes: Any, n: Any, *, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes, n : int or array-like of int
        Successes and trials (NaN bounds where ``n == 0``).
    confidence_level : float, default=0.95

    Returns
    -------
    tuple of two ndarrays
        Lower and upper bounds, each of the broadcast shape of the inputs.

    Examples
    --------
    >>> from weaklab.evaluation import wilson_interval
    >>> lower, upper = wilson_interval(8, 10)
    >>> round(float(lower), 3), round(float(upper), 3)
    (0.49, 0.943)
    """
    level = _check_level(confidence_level)
    s = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if np.any(m < 0) or np.any(s < 0) or np.any(s > m):
        raise fail("successes", "counts with 0 <= successes <= n", got_text=f"{s.tolist()} of {m.tolist()}")
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = s / m
        denom = 1 + z**2 / m
        center = (phat + z**2 / (2 * m)) / denom
        half = z * np.sqrt(phat * (1 - phat) / m + z**2 / (4 * m**2)) / denom
    return np.clip(center - half, 0.0, 1.0), np.clip(center + half, 0.0, 1.0)


def _check_level(level: Any) -> float:
    return check_float("confidence_level", level, low=0.0, high=1.0, low_open=True, high_open=True)


def _slice_masks(slices: Any, data: Any, n: int) -> dict[str, np.ndarray]:
    items = slices.items() if isinstance(slices, Mapping) else [(getattr(s, "name", None), s) for s in slices]
    masks: dict[str, np.ndarray] = {}
    for name, s in items:
        if isinstance(s, SlicingFunction):
            if not isinstance(data, pd.DataFrame) or len(data) != n:
                raise fail("data", f"a pandas DataFrame of {n} rows (slicing functions read it)", data)
            mask = s.mask(data)
        else:
            mask = np.asarray(s)
            if mask.shape != (n,) or mask.dtype != bool:
                raise fail(f"slices[{name!r}]", f"a SlicingFunction or a boolean mask of shape ({n},)", s)
        if not isinstance(name, str) or not name or name in masks or name == "overall":
            raise fail("slices", "unique, non-empty slice names other than 'overall'", got_text=repr(name))
        masks[name] = mask
    return masks


def _check_metrics(metrics: Any, has_proba: bool) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for m in names:
        if m not in _METRICS:
            raise fail("metrics", f"names from {list(_METRICS)}", got_text=repr(m))
        if _METRICS[m][0] and not has_proba:
            raise fail("proba_or_pred", f"probabilities of shape (n, k) for metric {m!r}",
                       got_text="hard predictions")
    if not names:
        raise fail("metrics", "at least one metric name", metrics)
    return names


def slice_report(
    y_true: Any,
    proba_or_pred: Any,
    data: Any,
    slices: Any,
    *,
    metrics: Sequence[str] | str = ("accuracy",),
    n_classes: int | None = None,
    confidence_level: float = 0.95,
    n_bootstrap: int = 0,
    random_state: Any = None,
) -> pd.DataFrame:
    """Metrics per slice, with item counts and confidence intervals.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Gold class ids in ``[0, k)``.
    proba_or_pred : array-like of shape (n, k) or (n,)
        Predicted probabilities (the argmax is the prediction) or predicted
        class ids (``-1`` = abstain).
    data : pandas.DataFrame of n rows, or None
        The items, read by slicing functions (None when every slice is a mask).
    slices : sequence of SlicingFunction, or mapping of name to SlicingFunction or bool mask (n,)
        The slices; the report also has an ``"overall"`` row first.
    metrics : sequence of str, default=("accuracy",)
        Names from :data:`SLICE_METRICS`; ``ece``, ``brier`` and ``nll`` need
        probabilities.
    n_classes : int, optional
        Number of classes; default from the probabilities' columns, else one
        more than the largest id seen.
    confidence_level : float, default=0.95
        Level of the intervals.
    n_bootstrap : int, default=0
        Resamples for percentile-bootstrap intervals of the metrics other than
        accuracy and coverage (whose intervals are Wilson score intervals);
        0 leaves those bounds NaN.
    random_state : None, int or numpy.random.Generator
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per slice (``"overall"`` first) with columns ``slice``, ``n``
        (items in the slice), ``share`` (``n / n_total``) and, per metric
        ``m``, ``m``, ``m_lower``, ``m_upper`` (NaN for an empty slice).

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.evaluation import slice_report
    >>> items = pd.DataFrame({"text": ["short", "a much longer comment here", "hi", "another long comment text"]})
    >>> report = slice_report([0, 1, 1, 0], [0, 1, 0, 1], items,
    ...                       {"long": items["text"].str.len().gt(10).to_numpy()})
    >>> report[["slice", "n", "accuracy"]]
         slice  n  accuracy
    0  overall  4       0.5
    1     long  2       0.5
    """
    t, pred, proba, k = _inputs(y_true, proba_or_pred, n_classes)
    names = _check_metrics(metrics, proba is not None)
    level = _check_level(confidence_level)
    n_boot = check_int("n_bootstrap", n_bootstrap, low=0)
    rng = check_random_state(random_state)
    masks = {"overall": np.ones(t.shape[0], dtype=bool), **_slice_masks(slices, data, t.shape[0])}
    rows = [_slice_row(name, m, t, pred, proba, k, names, level, n_boot, rng) for name, m in masks.items()]
    return pd.DataFrame(rows)


def _inputs(y_true: Any, proba_or_pred: Any, n_classes: Any) -> tuple[Any, ...]:
    arr = np.asarray(proba_or_pred)
    if arr.ndim == 2:
        k = arr.shape[1]
        if n_classes is not None and check_int("n_classes", n_classes, low=2) != k:
            raise fail("n_classes", f"{k} (the columns of proba_or_pred)", n_classes)
        t = check_labels("y_true", y_true, k, length=arr.shape[0])
        pred, proba = as_predictions(arr, t.shape[0], k)
        return t, pred, proba, k
    t, pred, k = checked_pair(y_true, arr, n_classes, pred_name="proba_or_pred")
    return t, pred, None, k


def _slice_row(name: str, mask: np.ndarray, t: np.ndarray, pred: np.ndarray, proba: np.ndarray | None,
               k: int, names: tuple[str, ...], level: float, n_boot: int,
               rng: np.random.Generator) -> dict[str, Any]:
    idx = np.flatnonzero(mask)
    row: dict[str, Any] = {"slice": name, "n": int(idx.size), "share": idx.size / max(t.shape[0], 1)}
    ts, ps = t[idx], pred[idx]
    pr = proba[idx] if proba is not None else None
    for m in names:
        value, lower, upper = np.nan, np.nan, np.nan
        if idx.size:
            value = _METRICS[m][1](ts, ps, pr, k)
            if m in _PROPORTIONS:
                lower, upper = (float(b) for b in wilson_interval(round(value * idx.size), idx.size,
                                                                    confidence_level=level))
            elif n_boot:
                lower, upper = _bootstrap(m, ts, ps, pr, k, level, n_boot, rng)
        row.update({m: value, f"{m}_lower": lower, f"{m}_upper": upper})
    return row


def _bootstrap(m: str, t: np.ndarray, p: np.ndarray, proba: np.ndarray | None, k: int, level: float,
               n_boot: int, rng: np.random.Generator) -> tuple[float, float]:
    fn = _METRICS[m][1]
    draws = rng.integers(0, t.shape[0], size=(n_boot, t.shape[0]))
    stats = np.array([fn(t[d], p[d], None if proba is None else proba[d], k) for d in draws])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return float(lo), float(hi)
