"""Checking the per-row values of the store's bulk writes (one value for all rows, or one per row)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from .._core.validation import fail
from ._db import utcnow

__all__ = ["broadcast", "float_values", "int_values", "text_values", "time_values"]


def broadcast(name: str, value: Any, n: int) -> list[Any]:
    """``value`` repeated ``n`` times (a scalar or None), or its ``n`` values as Python scalars."""
    if value is None or np.ndim(value) == 0:
        return [None if value is None else _py(value)] * n
    arr = list(np.asarray(value, dtype=object))
    if len(arr) != n:
        raise fail(name, f"one value or {n} values (one per item)", got_text=f"{len(arr)} values")
    return [_py(v) for v in arr]


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def int_values(name: str, value: Any, n: int) -> list[int | None]:
    """``n`` integers (or None)."""
    out = broadcast(name, value, n)
    for v in out:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise fail(name, "integer class ids", v)
    return out


def float_values(name: str, value: Any, n: int) -> list[float | None]:
    """``n`` floats (None for None or NaN)."""
    out = broadcast(name, value, n)
    try:
        return [None if v is None or v != v else float(v) for v in out]
    except (TypeError, ValueError):
        raise fail(name, "real numbers", value) from None


def text_values(name: str, value: Any, n: int) -> list[str | None]:
    """``n`` strings (or None)."""
    out = broadcast(name, value, n)
    bad = [v for v in out if v is not None and not isinstance(v, str)]
    if bad:
        raise fail(name, "strings", bad[0])
    return out


def time_values(name: str, value: Any, n: int) -> list[datetime]:
    """``n`` naive UTC datetimes (None means now)."""
    out = broadcast(name, value, n)
    now = utcnow()
    result = []
    for v in out:
        if v is None:
            result.append(now)
        elif isinstance(v, datetime):
            result.append(v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None))
        else:
            raise fail(name, "a datetime (UTC) or None", v)
    return result
