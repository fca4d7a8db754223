"""Labeling functions: a named function that votes a class id or abstains.

A row-wise labeling function is called as ``f(x, **resources)`` on one item
(a :class:`~weaklab.labeling._batch.Row`: attribute and key access to the
columns); a vectorized one as ``f(df, **resources)`` on a batch DataFrame and
returns an int array of ``len(df)`` votes. ``-1`` (``ABSTAIN``) means no vote.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
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
from ._batch import (
    Batch,
    BatchFailure,
    Failed,
    FaultLog,
    FieldError,
    Row,
    check_votes,
    field_error,
    require_fields,
)
from .preprocess import Preprocessor, check_named_function, check_resources, frame_for, rows_for

__all__ = ["LabelingFunction", "labeling_function", "stable_state"]


class LabelingFunction:
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
            _function_context(self.function),
        )

    def __repr__(self) -> str:
        kind = "vectorized" if self.vectorized else "row-wise"
        return f"LabelingFunction({self.name!r}, {kind})"

    # ------------------------------------------------------------- calling
    def __call__(self, x: Any) -> int:
        """Vote on one item (a Row, mapping, pandas Series or object with attributes).

        Exceptions raised by the function propagate unchanged; an invalid
        return value raises :class:`~weaklab.errors.LFExecutionError`.
        """
        if not self.vectorized and not any(p.vectorized for p in self.pre):
            row = Row(x) if isinstance(x, Mapping) and not isinstance(x, Row) else x
            for step in self.pre:
                row = step._row(row)
            return _single_vote(self.name, self.function(row, **self.resources))
        return int(self.batch_votes(_one_row_frame(x))[0])

    def batch_votes(self, data: pd.DataFrame) -> np.ndarray:
        """Votes on every row of ``data``, shape ``(len(data),)``, ``int64``.

        Raises
        ------
        LFExecutionError
            If the function raises or returns something that is not a vote.
        """
        if not isinstance(data, pd.DataFrame):
            raise fail("data", "a pandas DataFrame", data)
        votes, _ = self._run(Batch(data))
        return votes

    def _prepare(self, batch: Batch) -> None:
        """Called for every LF of a run before any runs on ``batch`` (templates share work through it)."""

    def _run(self, batch: Batch) -> tuple[np.ndarray, FaultLog]:
        """Votes and faults on one batch, following ``batch.on_error``."""
        log = FaultLog(self.name, batch)
        try:
            raw = self._raw_votes(batch, log)
        except (FieldError, LFExecutionError):
            raise
        except BatchFailure as exc:
            log.add(None, exc.error, n_votes=len(batch), via=exc.where)
            raw = None
        except Exception as exc:  # a vectorized LF failing on the whole batch
            log.add(None, exc, n_votes=len(batch))
            raw = None
        if raw is None:
            return np.full(len(batch), ABSTAIN, dtype=np.int64), log
        return check_votes(raw, log), log

    def _raw_votes(self, batch: Batch, log: FaultLog) -> Any:
        if self.vectorized:
            frame = frame_for(batch, self.pre)
            if self.fields:
                require_fields(frame, self.fields, self.name)
            try:
                return self.function(frame.copy(deep=False), **self.resources)
            except KeyError as exc:  # df["missing"]: a configuration error, not a fault
                missing = exc.args[0] if exc.args else None
                if isinstance(missing, str) and missing not in frame.columns:
                    raise field_error(self.name, missing, list(frame.columns)) from exc
                raise
        if self.fields and not self.pre:
            require_fields(batch.frame, self.fields, self.name)
        return self._row_votes(rows_for(batch, self.pre), log)

    def _row_votes(self, rows: list[Any], log: FaultLog) -> list[Any]:
        call = functools.partial(self.function, **self.resources) if self.resources else self.function
        same_fields = all(p.vectorized for p in self.pre)  # then every row has the batch's columns
        out: list[Any] = [ABSTAIN] * len(rows)
        for i, row in enumerate(rows):
            if row.__class__ is Failed:
                log.add(i, row.error, via=row.where)
                continue
            try:
                out[i] = call(row)
            except Exception as exc:  # user code: becomes a fault of this LF on this item
                missing = isinstance(exc, AttributeError) and exc.obj is row and isinstance(row, Row)
                if same_fields and missing:  # x.typo: a configuration error, not a fault
                    raise field_error(self.name, str(getattr(exc, "name", "")), list(row)) from exc
                log.add(i, exc)
        return out

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


def _single_vote(name: str, vote: Any) -> int:
    if isinstance(vote, (bool, np.bool_)) or not isinstance(vote, (int, np.integer)):
        raise LFExecutionError(
            f"labeling function {name!r} returned {vote!r} of type {type(vote).__name__} "
            "(expected an int class id or -1 to abstain)",
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


# ---------------------------------------------------------------------------
# Stable, content-based description of arbitrary objects for fingerprints.
# ---------------------------------------------------------------------------

_MAX_DEPTH = 25
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def stable_state(obj: Any, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> Any:
    """Describe ``obj`` by content so that :func:`weaklab.fingerprint` is stable.

    Containers are walked; functions are kept (hashed by source); fitted
    estimators and other objects are described by their class and their
    ``__getstate__`` (parameters and fitted arrays, not pickle bytes); objects
    whose only description is a memory address are described by their class.
    """
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, np.ndarray)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
        return obj
    if _depth > _MAX_DEPTH or id(obj) in _seen:
        return _type_name(obj)
    seen = _seen | {id(obj)}
    return _stable_compound(obj, _depth + 1, seen)


def _stable_compound(obj: Any, depth: int, seen: frozenset[int]) -> Any:
    def recurse(value: Any) -> Any:
        return stable_state(value, depth, seen)

    if isinstance(obj, Mapping):
        return {_key(k): recurse(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(recurse(v) for v in obj) if type(obj) in (list, tuple) else [recurse(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return ("set", sorted((recurse(v) for v in obj), key=repr))
    if isinstance(obj, re.Pattern):
        return ("re", obj.pattern, obj.flags)
    if isinstance(obj, functools.partial):
        return ("partial", recurse(obj.func), recurse(obj.args), recurse(obj.keywords))
    if isinstance(obj, (LabelingFunction, Preprocessor)):
        return ("fingerprint", obj.fingerprint)
    if inspect.isroutine(obj) or inspect.isclass(obj):
        return ("code", function_source(obj), _function_context(obj, depth, seen))
    if inspect.ismodule(obj):
        return ("module", obj.__name__)
    return _object_state(obj, recurse)


def _object_state(obj: Any, recurse: Callable[[Any], Any]) -> Any:
    getstate = getattr(obj, "__getstate__", None)
    try:
        state = getstate() if getstate is not None else None
    except (TypeError, ValueError, AttributeError):
        state = None
    if isinstance(state, (dict, tuple, list)) and state:
        return ("object", _type_name(obj), recurse(state))
    text = repr(obj)
    return ("object", _type_name(obj)) if _ADDRESS.search(text) else ("object", _type_name(obj), text)


def _function_context(func: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> Any:
    """Closure values and defaults of a function (part of what it computes)."""
    target = inspect.unwrap(func) if callable(func) else func
    closure = getattr(target, "__closure__", None) or ()
    cells = []
    for cell in closure:
        try:
            cells.append(stable_state(cell.cell_contents, depth + 1, seen))
        except ValueError:  # empty cell
            cells.append(None)
    defaults = stable_state(getattr(target, "__defaults__", None), depth + 1, seen)
    kwdefaults = stable_state(getattr(target, "__kwdefaults__", None), depth + 1, seen)
    return (cells, defaults, kwdefaults)


def _key(key: Any) -> Any:
    return key if isinstance(key, (str, int, float, bool, type(None))) else repr(key)


def _type_name(obj: Any) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"
