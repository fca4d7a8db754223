"""Stable content fingerprints for data, arrays, code and parameters.

A fingerprint is a short hex digest that stays the same across processes and
Python sessions for equal content; it is what the store uses as a version.
"""

from __future__ import annotations

import hashlib
import inspect
import numbers
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["fingerprint", "function_source"]

_DIGEST_SIZE = 16


def fingerprint(*parts: Any) -> str:
    """Return a stable 32-hex-digit fingerprint of ``parts``.

    Supports None, bools, numbers, strings, bytes, numpy arrays, pandas
    objects, mappings, sequences, sets and callables (hashed by source code).

    Parameters
    ----------
    *parts : object
        What to hash, in order; the same parts give the same fingerprint in any process.

    Returns
    -------
    str
        32 hexadecimal digits.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import fingerprint
    >>> key = fingerprint("DawidSkene", {"max_iter": 100}, np.array([[0, 1], [1, -1]]))
    >>> len(key), key == fingerprint("DawidSkene", {"max_iter": 100}, np.array([[0, 1], [1, -1]]))
    (32, True)
    >>> key == fingerprint("DawidSkene", {"max_iter": 200}, np.array([[0, 1], [1, -1]]))
    False
    """
    h = hashlib.blake2b(digest_size=_DIGEST_SIZE)
    for part in parts:
        _update(h, part)
    return h.hexdigest()


def function_source(func: Callable[..., Any]) -> str:
    """Return the dedented source of ``func``, or a bytecode description."""
    target = inspect.unwrap(func)
    try:
        return textwrap.dedent(inspect.getsource(target))
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is None:
            return f"<{type(target).__module__}.{type(target).__qualname__}>"
        return f"<bytecode {code.co_code.hex()} consts {code.co_consts!r}>"


def _update(h: Any, obj: Any) -> None:  # noqa: C901 - one branch per type
    if obj is None:
        h.update(b"N")
    elif isinstance(obj, (bool, np.bool_)):
        h.update(b"B1" if obj else b"B0")
    elif isinstance(obj, numbers.Number):
        h.update(b"#" + repr(obj.item() if isinstance(obj, np.generic) else obj).encode())
    elif isinstance(obj, str):
        _tagged(h, b"S", obj.encode("utf-8"))
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _tagged(h, b"Y", bytes(obj))
    elif isinstance(obj, np.ndarray):
        _update_array(h, obj)
    elif _is_pandas(obj):
        _update_pandas(h, obj)
    elif isinstance(obj, Mapping):
        h.update(b"{")
        for key in sorted(obj, key=repr):
            _update(h, key)
            _update(h, obj[key])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[" if isinstance(obj, list) else b"(")
        for item in obj:
            _update(h, item)
        h.update(b"]")
    elif isinstance(obj, (set, frozenset)):
        h.update(b"<")
        for item in sorted(obj, key=repr):
            _update(h, item)
        h.update(b">")
    elif callable(obj):
        _tagged(h, b"F", function_source(obj).encode("utf-8"))
    elif hasattr(obj, "fingerprint") and isinstance(obj.fingerprint, str):
        _tagged(h, b"P", obj.fingerprint.encode())
    else:
        _tagged(h, b"R", repr(obj).encode("utf-8"))


def _tagged(h: Any, tag: bytes, payload: bytes) -> None:
    h.update(tag + len(payload).to_bytes(8, "little"))
    h.update(payload)


def _update_array(h: Any, arr: np.ndarray) -> None:
    if arr.dtype == object:
        h.update(b"O" + repr(arr.shape).encode())
        hashed = _hash_strings(arr.ravel())
        if hashed is not None:
            h.update(b"s" + hashed.tobytes())
            return
        for item in arr.ravel():
            _update(h, item)
        return
    arr = np.ascontiguousarray(arr)
    h.update(b"A" + arr.dtype.str.encode() + repr(arr.shape).encode())
    if arr.size:
        h.update(memoryview(arr).cast("B"))  # type: ignore[arg-type]


def _hash_strings(values: np.ndarray) -> np.ndarray | None:
    """Vectorised, process-stable 64-bit hashes of an all-string object array."""
    import pandas as pd

    if not all(isinstance(v, str) for v in values[:64]):
        return None
    try:
        return pd.util.hash_array(values, categorize=False)
    except TypeError:
        return None


def _is_pandas(obj: Any) -> bool:
    module = type(obj).__module__
    return module.startswith("pandas") and hasattr(obj, "index")


def _update_pandas(h: Any, obj: Any) -> None:
    import pandas as pd

    values = pd.util.hash_pandas_object(obj, index=True).to_numpy()
    cols = list(obj.columns) if isinstance(obj, pd.DataFrame) else [obj.name]
    h.update(b"D")
    _update(h, [str(c) for c in cols])
    _update_array(h, values)
