"""A stable, content-based description of arbitrary objects, for fingerprints.

:func:`stable_state` describes what a labeling function or preprocessor
depends on (resources, closures, defaults, fitted estimators) by content, so
that its fingerprint is the same in every process.
"""

from __future__ import annotations

import dis
import functools
import inspect
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._core.hashing import function_source

__all__ = ["Fingerprinted", "stable_state", "function_context"]



class Fingerprinted:
    """Base of the objects that :func:`stable_state` describes by their ``fingerprint`` attribute.

    :class:`~weaklab.labeling.LabelingFunction` and
    :class:`~weaklab.labeling.Preprocessor` derive from it.
    """

    @property
    def fingerprint(self) -> str:
        """Stable hash of what the object computes (each subclass defines it)."""
        raise NotImplementedError


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
    if isinstance(obj, Fingerprinted):
        return ("fingerprint", obj.fingerprint)
    if inspect.isroutine(obj) or inspect.isclass(obj):
        return ("code", function_source(obj), function_context(obj, depth, seen))
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


def function_context(func: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> Any:
    """Closure values, defaults and the module-level values a function reads (part of what it computes).

    A module-level name the function reads (``TARGET = 2`` then ``return TARGET``) counts by its
    value when it holds data (numbers, strings, containers of them, patterns, arrays, tables), a
    source, or a function or class of the function's own module: editing ``TARGET`` in an LF module
    gives its functions a new version. Imported modules and objects of other modules are left out
    (pass those as ``resources=`` to version them).
    """
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
    module_values = _module_values(target, depth, seen | {id(target)})
    return (cells, defaults, kwdefaults, module_values) if module_values else (cells, defaults, kwdefaults)


_DATA = (type(None), bool, int, float, complex, str, bytes, np.ndarray, np.generic, pd.DataFrame, pd.Series,
         pd.Index, re.Pattern, list, tuple, dict, set, frozenset)


def _module_values(target: Any, depth: int, seen: frozenset[int]) -> list[Any]:
    """``[name, description]`` of the module-level names ``target``'s code reads that describe what it computes."""
    code = getattr(target, "__code__", None)
    namespace = getattr(target, "__globals__", None)
    if not isinstance(code, types.CodeType) or not isinstance(namespace, dict) or depth > _MAX_DEPTH:
        return []
    out = []
    for name in sorted(_global_names(code)):
        if name not in namespace:
            continue  # a builtin, or not defined yet
        value = namespace[name]
        if id(value) in seen or inspect.ismodule(value):
            continue
        own_code = ((inspect.isroutine(value) or inspect.isclass(value))
                    and getattr(value, "__module__", None) == getattr(target, "__module__", None))
        if isinstance(value, (_DATA, Fingerprinted)) or own_code:
            out.append([name, stable_state(value, depth + 1, seen)])
    return out


def _global_names(code: types.CodeType) -> set[str]:
    """Names a code object (and the code nested in it) loads from its module."""
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return {n for n in names if isinstance(n, str)}


def _key(key: Any) -> Any:
    return key if isinstance(key, (str, int, float, bool, type(None))) else repr(key)


def _type_name(obj: Any) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"
