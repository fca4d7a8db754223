"""Labeling functions: a named function that votes a class id or abstains.

This module holds the value object (name, function, resources,
preprocessors, fingerprint) and the decorator; running it on batches and
recording its faults is :mod:`weaklab.labeling._execute`'s job.

A row-wise labeling function is called as ``f(x, **resources)`` on one item
(a :class:`~weaklab.labeling._batch.Row`: attribute and key access to the
columns); a vectorized one as ``f(df, **resources)`` on a batch DataFrame and
returns an int array of ``len(df)`` votes. ``-1`` (``ABSTAIN``) means no vote.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .._core.constants import ABSTAIN, MAX_CLASSES
from .._core.hashing import fingerprint as _fingerprint
from .._core.hashing import function_source
from .._core.validation import check_bool, fail
from ..errors import LFExecutionError
from ._batch import Batch, FaultLog, Row
from ._execute import function_votes, run_batch
from ._stable import Fingerprinted, function_context, stable_state
from .preprocess import Preprocessor, check_named_function, check_resources

__all__ = ["LabelingFunction", "labeling_function", "stable_state"]


class LabelingFunction(Fingerprinted):
    """A source written in code: votes a class id in ``[0, k)`` or abstains (``-1``).

    Parameters
    ----------
    name : str
        Unique name; becomes the source name in the label matrix.
    function : callable
        Row-wise ``f(x, **resources) -> int`` or, with ``vectorized=True``,
        ``f(df, **resources) -> array of int`` of length ``len(df)``.
    resources : dict, optional
        Keyword arguments passed on every call (knowledge bases, models...).
    pre : sequence of Preprocessor, optional
        Applied in order before ``function``; vectorized preprocessors must
        come first, and a vectorized LF takes only vectorized ones.
    vectorized : bool, default=False
        Whether ``function`` works on whole batches (the fast path).
    fields : sequence of str, optional
        Columns the function reads; checked before it runs, so a missing
        column is a clear error rather than an exception inside the LF.

    Attributes
    ----------
    fingerprint : str
        Stable hash of the code, parameters, resources and preprocessors.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import LabelingFunction, apply_lfs
    >>> def many_caps(x, share):
    ...     letters = [c for c in x.text if c.isalpha()]
    ...     return 1 if letters and sum(c.isupper() for c in letters) / len(letters) > share else -1
    >>> lf = LabelingFunction("many_caps", many_caps, resources={"share": 0.5})
    >>> lf(pd.Series({"text": "FREE MONEY"})), lf(pd.Series({"text": "see you"}))
    (1, -1)
    >>> L, report = apply_lfs([lf], pd.DataFrame({"text": ["FREE MONEY", "see you"]}), progress=False)
    >>> L.to_dense().ravel().tolist(), L.source_names
    ([1, -1], ('many_caps',))
    """

    _kind = "labeling_function"
    _thread_safe = False  # built-in templates may run in threads when n_jobs > 1

    def __init__(
        self,
        name: str,
        function: Callable[..., Any],
        *,
        resources: Mapping[str, Any] | None = None,
        pre: Sequence[Preprocessor] | Preprocessor | None = None,
        vectorized: bool = False,
        fields: Sequence[str] | str | None = None,
    ) -> None:
        check_named_function(name, function)
        self.name = name
        self.function = function
        self.resources = check_resources(resources)
        self.vectorized = check_bool("vectorized", vectorized)
        self.pre = _check_pre(pre, self.vectorized)
        self.fields = _check_fields(fields)

    # ------------------------------------------------------------ identity
    @cached_property
    def fingerprint(self) -> str:
        """Stable hash of code, parameters and resources (same in every process)."""
        return _fingerprint(self._kind, *self._fingerprint_parts(), [p.fingerprint for p in self.pre])

    def _fingerprint_parts(self) -> tuple[Any, ...]:
        return (
            function_source(self.function),
            self.vectorized,
            stable_state(self.resources),
            function_context(self.function),
        )

    def __repr__(self) -> str:
        kind = "vectorized" if self.vectorized else "row-wise"
        return f"LabelingFunction({self.name!r}, {kind})"

    # ------------------------------------------------------------- calling
    def __call__(self, x: Any) -> int | str:
        """Vote on one item (a Row, mapping, pandas Series or object with attributes).

        A class id, ``-1``, or the class name a row-wise function returned
        (names become ids when applied with a class list). Exceptions raised
        by the function propagate unchanged; an invalid return value raises
        :class:`~weaklab.errors.LFExecutionError`.
        """
        if not self.vectorized and not any(p.vectorized for p in self.pre):
            row = Row(x) if isinstance(x, Mapping) and not isinstance(x, Row) else x
            for step in self.pre:
                row = step._row(row)
            return _single_vote(self.name, self.function(row, **self.resources))
        return int(self.batch_votes(_one_row_frame(x))[0])

    def batch_votes(self, data: pd.DataFrame, *, class_names: Sequence[str] | None = None) -> np.ndarray:
        """Votes on every row of ``data``, shape ``(len(data),)``, ``int64``.

        ``class_names`` turns the class names the LF votes into ids.

        Raises
        ------
        LFExecutionError
            If the function raises or returns something that is not a vote.
        """
        if not isinstance(data, pd.DataFrame):
            raise fail("data", "a pandas DataFrame", data)
        votes, _ = run_batch(self, Batch(data, class_names=class_names))
        return votes

    def _prepare(self, batch: Batch) -> None:
        """Called for every LF of a run before any runs on ``batch`` (templates share work through it)."""

    def _raw_votes(self, batch: Batch, log: FaultLog) -> Any:
        """The function's votes on ``batch`` before checking (templates override this)."""
        return function_votes(self, batch, log)

    # ------------------------------------------------------------ pickling
    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickle a module-level decorated LF by reference (its function is shadowed).

        LFs of ``__main__`` (scripts, notebooks) are pickled by value instead,
        since another process's ``__main__`` is not theirs.
        """
        module = getattr(self.function, "__module__", None)
        qualname = getattr(self.function, "__qualname__", "")
        by_reference = module not in (None, "__main__") and qualname and "<" not in qualname
        if by_reference and _resolve_or_none(str(module), qualname) is self:
            return (_resolve, (module, qualname))
        return super().__reduce_ex__(protocol)


def _resolve(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _resolve_or_none(module: str, qualname: str) -> Any:
    try:
        return _resolve(module, qualname)
    except (ImportError, AttributeError):
        return None


def labeling_function(
    name: str | Callable[..., Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    pre: Sequence[Preprocessor] | Preprocessor | None = None,
    vectorized: bool = False,
    *,
    fields: Sequence[str] | str | None = None,
) -> Any:
    """Decorator turning a function into a :class:`LabelingFunction`.

    Usable bare (``@labeling_function``) or with arguments.

    Parameters
    ----------
    name : str, optional
        Defaults to the function's name.
    resources : dict, optional
        Keyword arguments passed on every call.
    pre : sequence of Preprocessor, optional
        Preprocessors applied before the function.
    vectorized : bool, default=False
        ``True`` when the function takes a DataFrame batch and returns an
        int array of ``len(batch)`` votes.
    fields : sequence of str, optional
        Columns the function reads (checked up front).

    Examples
    --------
    >>> @labeling_function(resources={"kb": {"spammer"}})
    ... def lf_author(x, kb):
    ...     return 1 if x.author in kb else -1
    """

    def wrap(func: Callable[..., Any]) -> LabelingFunction:
        if not callable(func):
            raise fail("function", "a callable", func)
        lf_name = name if isinstance(name, str) else getattr(func, "__name__", None)
        return LabelingFunction(
            lf_name or "", func, resources=resources, pre=pre, vectorized=vectorized, fields=fields
        )

    if callable(name) and not isinstance(name, str):
        return wrap(name)
    if name is not None and not isinstance(name, str):
        raise fail("name", "a string or None", name)
    return wrap


# ---------------------------------------------------------------------------
# Validation helpers.
# ---------------------------------------------------------------------------


def _check_pre(pre: Any, vectorized: bool) -> tuple[Preprocessor, ...]:
    if pre is None:
        return ()
    steps = (pre,) if isinstance(pre, Preprocessor) else pre
    if not isinstance(steps, (list, tuple)) or not all(isinstance(p, Preprocessor) for p in steps):
        raise fail("pre", "a Preprocessor or a list of them (see @preprocessor)", pre)
    steps = tuple(steps)
    if vectorized and not all(p.vectorized for p in steps):
        raise fail("pre", "only vectorized preprocessors for a vectorized labeling function",
                    got_text=str([p.name for p in steps if not p.vectorized]))
    kinds = [p.vectorized for p in steps]
    if kinds != sorted(kinds, reverse=True):
        raise fail("pre", "vectorized preprocessors before row-wise ones", got_text=str(list(steps)))
    return steps


def _check_fields(fields: Any) -> tuple[str, ...] | None:
    if fields is None:
        return None
    items = (fields,) if isinstance(fields, str) else fields
    if not isinstance(items, (list, tuple)) or not all(isinstance(f, str) for f in items):
        raise fail("fields", "a column name or a list of column names", fields)
    return tuple(items)


def _single_vote(name: str, vote: Any) -> int | str:
    if isinstance(vote, str) and vote:
        return vote
    if isinstance(vote, (bool, np.bool_)) or not isinstance(vote, (int, np.integer)):
        raise LFExecutionError(
            f"labeling function {name!r} returned {vote!r} of type {type(vote).__name__} "
            "(expected an int class id, a class name or -1 to abstain)",
            lf_name=name,
        )
    if not ABSTAIN <= vote < MAX_CLASSES:
        raise LFExecutionError(
            f"labeling function {name!r} returned the vote {vote} (expected a class id or -1)",
            lf_name=name,
        )
    return int(vote)


def _one_row_frame(x: Any) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        if len(x) != 1:
            raise fail("x", "one item (use batch_votes for a DataFrame)", x)
        return x
    if isinstance(x, pd.Series):
        return pd.DataFrame([x.to_dict()])
    if isinstance(x, Mapping):
        return pd.DataFrame([dict(x)])
    if hasattr(x, "_asdict"):
        return pd.DataFrame([x._asdict()])
    if hasattr(x, "__dict__"):
        return pd.DataFrame([vars(x)])
    raise fail("x", "one item: a mapping, pandas Series or object with attributes", x)
