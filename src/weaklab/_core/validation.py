"""Input and parameter validation with one error template.

Every message reads ``"<param>: expected <what>, got <what arrived>"`` so a
user can act on it without reading the source.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import ValidationError

__all__ = [
    "describe",
    "fail",
    "check_choice",
    "check_int",
    "check_float",
    "check_bool",
    "check_random_state",
    "check_proba",
    "check_labels",
    "check_class_balance",
    "check_1d",
    "check_same_length",
    "optional",
    "interval",
    "options",
    "instance_of",
    "validate_params",
    "plain_scalar",
    "check_seed",
    "Checker",
]

Checker = Callable[[str, Any], None]


def plain_scalar(value: Any) -> Any:
    """A numpy scalar as the equivalent Python scalar; any other value unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> type(plain_scalar(np.int64(3)))
    <class 'int'>
    """
    return value.item() if isinstance(value, np.generic) else value


def describe(value: Any) -> str:
    """Describe an arriving value briefly: type, and shape/dtype for arrays."""
    value = plain_scalar(value)
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, (bool, numbers.Number)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"{type(value).__name__} of length {len(value)}"
    return f"an object of type {type(value).__name__}"


def fail(name: str, expected: str, got: Any = None, *, got_text: str | None = None) -> ValidationError:
    """Build the standard :class:`ValidationError` for parameter ``name``."""
    arrived = got_text if got_text is not None else describe(got)
    return ValidationError(f"{name}: expected {expected}, got {arrived}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` and return it."""
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise fail(name, f"one of {listed}", value)
    return value


def check_int(
    name: str, value: Any, *, low: int | None = None, high: int | None = None
) -> int:
    """Check an integer (not bool) within ``[low, high]`` and return it as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise fail(name, f"an integer{_range_text(low, high)}", value)
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise fail(name, f"an integer{_range_text(low, high)}", value)
    return value


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check a finite real number within a range and return it as float."""
    rng = _interval_text(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(name, f"a real number{rng}", value)
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        raise fail(name, f"a finite real number{rng}", value)
    return value


def check_bool(name: str, value: Any) -> bool:
    """Check a boolean flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value)
    return bool(value)


def check_random_state(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """Turn ``None``, an int or a Generator into a ``numpy.random.Generator``."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, bool):
            raise fail(name, "None, a non-negative integer or a numpy Generator", random_state)
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise fail(name, "None, a non-negative integer or a numpy Generator", random_state)
        seed = None if random_state is None else random_state
        return np.random.default_rng(seed)  # type: ignore[arg-type]
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise fail(name, "None, a non-negative integer or a numpy Generator", random_state)


def check_1d(name: str, values: Any, *, length: int | None = None) -> np.ndarray:
    """Return ``values`` as a 1-d array, checking its length if given."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise fail(name, "a 1-d array", arr)
    if length is not None and arr.shape[0] != length:
        raise fail(name, f"length {length}", got_text=f"length {arr.shape[0]}")
    return arr


def check_same_length(**arrays: Sequence[Any] | np.ndarray) -> int:
    """Check that all named arrays have the same first dimension and return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise ValidationError(f"expected the same number of rows in every input, got {shown}")
    return next(iter(lengths.values()), 0)


def check_labels(
    name: str,
    labels: Any,
    n_classes: int,
    *,
    length: int | None = None,
    allow_abstain: bool = False,
) -> np.ndarray:
    """Check a vector of class ids in ``[0, n_classes)`` (``-1`` allowed if asked).

    Returns
    -------
    numpy.ndarray
        The labels as ``int64``.
    """
    arr = check_1d(name, labels, length=length)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise fail(name, "integer class ids", arr)
    arr = arr.astype(np.int64, copy=False)
    low = -1 if allow_abstain else 0
    if arr.size and (arr.min() < low or arr.max() >= n_classes):
        bad = arr[(arr < low) | (arr >= n_classes)]
        allowed = f"-1 (unknown) or 0..{n_classes - 1}" if allow_abstain else f"0..{n_classes - 1}"
        raise fail(
            name,
            f"class ids in {allowed}",
            got_text=f"{bad.size} value(s) out of range, e.g. {int(bad[0])}",
        )
    return arr


def check_proba(
    name: str,
    proba: Any,
    *,
    n_classes: int | None = None,
    n_rows: int | None = None,
    atol: float = 1e-6,
) -> np.ndarray:
    """Check an ``(n, k)`` matrix of probabilities whose rows sum to 1."""
    arr = np.asarray(proba)
    if arr.ndim != 2:
        raise fail(name, "a 2-d array of shape (n_items, n_classes)", arr)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise fail(name, "a real-valued array", arr)
    arr = arr.astype(np.float64, copy=False)
    if n_rows is not None and arr.shape[0] != n_rows:
        raise fail(name, f"{n_rows} rows", got_text=f"{arr.shape[0]} rows")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise fail(name, f"{n_classes} columns (one per class)", got_text=f"{arr.shape[1]} columns")
    if not np.all(np.isfinite(arr)):
        raise fail(name, "finite probabilities", got_text=f"{int((~np.isfinite(arr)).sum())} NaN or infinite value(s)")
    if arr.size and (arr.min() < -atol or arr.max() > 1 + atol):
        raise fail(name, "probabilities in [0, 1]", got_text=f"values in [{arr.min():.4g}, {arr.max():.4g}]")
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0) > max(atol, 1e-9) * max(1, arr.shape[1])
    if np.any(off):
        first = int(np.flatnonzero(off)[0])
        raise fail(
            name,
            "rows that sum to 1",
            got_text=f"{int(off.sum())} row(s) that do not, e.g. row {first} sums to {sums[first]:.6g}",
        )
    return arr


def check_class_balance(name: str, class_balance: Any, n_classes: int) -> np.ndarray | None:
    """Check an optional class prior of length ``n_classes`` (normalised)."""
    if class_balance is None:
        return None
    arr = np.asarray(class_balance, dtype=np.float64) if _is_numeric(class_balance) else None
    if arr is None or arr.ndim != 1:
        raise fail(name, f"a 1-d array of {n_classes} class probabilities", class_balance)
    if arr.shape[0] != n_classes:
        raise fail(name, f"{n_classes} class probabilities", got_text=f"{arr.shape[0]} values")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise fail(name, "finite non-negative class probabilities with a positive sum", got_text=str(arr.tolist()))
    if abs(arr.sum() - 1.0) > 1e-6:
        raise fail(name, "class probabilities that sum to 1", got_text=f"a sum of {arr.sum():.6g}")
    return arr / arr.sum()


def _is_numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _range_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _interval_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return ""
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f" in {left}{lo}, {hi}{right}"


# ---------------------------------------------------------------------------
# Declarative parameter constraints (checked in ``fit``, as in scikit-learn).
# ---------------------------------------------------------------------------


def interval(
    kind: type,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Checker:
    """A checker for an ``int`` or ``float`` parameter within a range."""
    if kind is int:
        if low_open or high_open:
            raise TypeError("integer intervals are closed")

        def check_integer(name: str, v: Any) -> None:
            check_int(name, v, low=None if low is None else int(low), high=None if high is None else int(high))

        return check_integer

    def check_real(name: str, v: Any) -> None:
        check_float(name, v, low=low, high=high, low_open=low_open, high_open=high_open)

    return check_real


def options(*choices: Any) -> Checker:
    """A checker for a parameter that takes one of a fixed set of values."""

    def check(name: str, v: Any) -> None:
        check_choice(name, v, choices)

    return check


def instance_of(*types: type, text: str | None = None) -> Checker:
    """A checker for a parameter of given type(s)."""

    def check(name: str, v: Any) -> None:
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            names = text or " or ".join(t.__name__ for t in types)
            raise fail(name, names, v)

    return check


def check_seed(name: str, value: Any) -> None:
    """Parameter checker: ``value`` must be a valid ``random_state`` (None, an int >= 0 or a Generator).

    Examples
    --------
    >>> check_seed("random_state", 0)
    """
    check_random_state(value, name)


def optional(checker: Checker) -> Checker:
    """Allow ``None`` in addition to what ``checker`` accepts."""
    return lambda name, v: None if v is None else checker(name, v)


def validate_params(obj: Any, spec: dict[str, Checker]) -> None:
    """Validate the parameters of an estimator ``obj`` against ``spec``.

    Each key is an attribute name set in ``__init__``; each value a checker
    such as :func:`interval` or :func:`options`. Error messages name the
    parameter as ``ClassName(param)``. A ``random_state`` attribute is
    checked even when ``spec`` leaves it out.
    """
    cls = type(obj).__name__
    for name, checker in spec.items():
        checker(f"{cls}({name}=...)", getattr(obj, name))
    if "random_state" not in spec and hasattr(obj, "random_state"):  # every estimator's seed is checked
        check_random_state(obj.random_state, f"{cls}(random_state=...)")
