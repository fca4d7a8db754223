"""Preprocessors: transforms applied to items before a labeling function sees them.

A row-wise preprocessor maps one row to a row (``f(x, **resources) -> x``); a
vectorized one maps a batch DataFrame to a DataFrame of the same length
(``f(df, **resources) -> df``). Within a batch each chain of preprocessors runs
once and its result is shared by every labeling function that uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, overload

import pandas as pd

from .._core.hashing import fingerprint as _fingerprint
from .._core.validation import check_bool, fail
from ._batch import Batch, BatchFailure, Failed, Row, frame_rows
from ._stable import Fingerprinted, stable_state

__all__ = ["Preprocessor", "preprocessor", "frame_for", "rows_for", "check_named_function", "check_resources"]


class Preprocessor(Fingerprinted):
    """A named transform run before labeling functions.

    Parameters
    ----------
    name : str
        Name shown in errors.
    function : callable
        Row-wise ``f(x, **resources) -> x`` or, with ``vectorized=True``,
        ``f(df, **resources) -> DataFrame`` of the same length.
    resources : dict, optional
        Keyword arguments passed to ``function`` on every call.
    vectorized : bool, default=False
        Whether ``function`` works on whole batches.

    Notes
    -----
    Row-wise preprocessors receive a shallow copy of the row and vectorized ones
    a shallow copy of the batch, so setting fields does not leak into labeling
    functions that do not use the preprocessor.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import LabelingFunction, apply_lfs
    >>> from weaklab.labeling import Preprocessor
    >>> def add_words(x):
    ...     x.words = x.text.lower().split()
    ...     return x
    >>> words = Preprocessor("words", add_words)
    >>> lf = LabelingFunction("short", lambda x: 0 if len(x.words) < 3 else -1, pre=words)
    >>> L, _ = apply_lfs([lf], pd.DataFrame({"text": ["Nice one", "this is a longer comment"]}), progress=False)
    >>> L.to_dense().ravel().tolist()
    [0, -1]
    """

    def __init__(
        self,
        name: str,
        function: Callable[..., Any],
        *,
        resources: Mapping[str, Any] | None = None,
        vectorized: bool = False,
    ) -> None:
        check_named_function(name, function)
        self.name = name
        self.function = function
        self.resources = check_resources(resources)
        self.vectorized = check_bool("vectorized", vectorized)

    @cached_property
    def fingerprint(self) -> str:
        """Stable hash of the code, resources and kind of this preprocessor."""
        return _fingerprint(
            "preprocessor", stable_state(self.function), self.vectorized, stable_state(self.resources)
        )

    def __call__(self, x: Any) -> Any:
        """Apply to one row (row-wise) or to a DataFrame (vectorized)."""
        if self.vectorized:
            return self._frame(x)
        return self._row(x)

    def _row(self, x: Any) -> Any:
        copy = Row(x) if isinstance(x, Mapping) else x.copy() if hasattr(x, "copy") else x
        out = self.function(copy, **self.resources)
        if out is None:
            raise TypeError(f"preprocessor {self.name!r} returned None (expected the row)")
        return Row(out) if isinstance(out, Mapping) and not isinstance(out, Row) else out

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = self.function(frame.copy(deep=False), **self.resources)
        if not isinstance(out, pd.DataFrame) or len(out) != len(frame):
            raise TypeError(
                f"preprocessor {self.name!r} returned {type(out).__name__} "
                f"(expected a DataFrame of {len(frame)} rows)"
            )
        return out

    def __repr__(self) -> str:
        kind = "vectorized" if self.vectorized else "row-wise"
        return f"Preprocessor({self.name!r}, {kind})"


def check_named_function(name: Any, function: Any) -> None:
    """Validate the name and callable of a labeling function or preprocessor."""
    if not isinstance(name, str) or not name:
        raise fail("name", "a non-empty string", name)
    if not callable(function):
        raise fail("function", "a callable", function)


def check_resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate keyword resources passed to a function; returns a new dict."""
    if resources is None:
        return {}
    if not isinstance(resources, Mapping) or not all(isinstance(k, str) for k in resources):
        raise fail("resources", "a dict of keyword arguments (str keys)", resources)
    return dict(resources)


@overload
def preprocessor(function: Callable[..., Any], /) -> Preprocessor: ...


@overload
def preprocessor(
    function: None = None,
    /,
    *,
    name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    vectorized: bool = False,
) -> Callable[[Callable[..., Any]], Preprocessor]: ...


def preprocessor(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    vectorized: bool = False,
) -> Preprocessor | Callable[[Callable[..., Any]], Preprocessor]:
    """Turn a function into a :class:`Preprocessor` (usable bare or with arguments).

    Parameters
    ----------
    name : str, optional
        Defaults to the function's name.
    resources : dict, optional
        Keyword arguments passed on every call.
    vectorized : bool, default=False
        ``True`` when the function maps a DataFrame to a DataFrame.

    Examples
    --------
    >>> @preprocessor
    ... def add_lower(x):
    ...     x.lower = x.text.lower()
    ...     return x
    """

    def wrap(func: Callable[..., Any]) -> Preprocessor:
        if not callable(func):
            raise fail("function", "a callable", func)
        return Preprocessor(name or func.__name__, func, resources=resources, vectorized=vectorized)

    return wrap(function) if function is not None else wrap


# ---------------------------------------------------------------------------
# Memoised application of preprocessor chains to a batch.
# ---------------------------------------------------------------------------


def frame_for(batch: Batch, chain: tuple[Preprocessor, ...]) -> pd.DataFrame:
    """The batch after the vectorized preprocessors ``chain`` (memoised).

    Raises
    ------
    BatchFailure
        When one of the preprocessors raised on this batch.
    """
    if not chain:
        return batch.frame
    result = batch.memo(("frame", chain), lambda: _run_frame(batch, chain))
    if isinstance(result, Failed):
        raise BatchFailure(result.error, f"preprocessor {chain[-1].name!r}")
    return result


def _run_frame(batch: Batch, chain: tuple[Preprocessor, ...]) -> pd.DataFrame | Failed:
    previous = frame_for(batch, chain[:-1])
    try:
        return chain[-1]._frame(previous)
    except Exception as exc:  # recorded as a fault of every LF using this chain
        return Failed(exc, f"preprocessor {chain[-1].name!r}")


def rows_for(batch: Batch, chain: tuple[Preprocessor, ...]) -> list[Any]:
    """The batch as rows after ``chain`` (vectorized steps first, then row-wise).

    Rows whose row-wise preprocessing raised are :class:`Failed` markers.
    """
    split = next((i for i, p in enumerate(chain) if not p.vectorized), len(chain))
    frame = frame_for(batch, chain[:split])
    rows: list[Any] = batch.memo(("rows", chain[:split]), lambda: frame_rows(frame))
    for end in range(split + 1, len(chain) + 1):
        rows = batch.memo(("rows", chain[:end]), _row_step(chain[end - 1], rows))
    return rows


def _row_step(step: Preprocessor, rows: list[Any]) -> Callable[[], list[Any]]:
    def run() -> list[Any]:
        out: list[Any] = []
        for row in rows:
            if isinstance(row, Failed):
                out.append(row)
                continue
            try:
                out.append(step._row(row))
            except Exception as exc:  # recorded as a fault of every LF using this chain
                out.append(Failed(exc, f"preprocessor {step.name!r}"))
        return out

    return run
