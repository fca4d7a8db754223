"""Saving and loading estimator state as JSON plus ``.npz`` arrays (no pickle).

A *state* is a dict::

    {"schema_version": 1, "class": "DawidSkene", "module": "weaklab.models",
     "params": {...JSON...}, "attributes": {...JSON...},
     "arrays": {name: ndarray}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SchemaVersionError, ValidationError
from .constants import STATE_SCHEMA_VERSION
from .validation import fail, plain_scalar

__all__ = ["save_state", "load_state", "check_state", "to_jsonable", "state_params"]


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples inside ``value`` to JSON types."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return plain_scalar(value)


def state_params(params: dict[str, Any]) -> Any:
    """``params`` as a state keeps them: JSON types, a ``random_state`` that is not an int saved as None.

    A numpy Generator cannot be written as JSON; the rebuilt model then has
    ``random_state=None`` (its fitted arrays do not depend on it).

    Examples
    --------
    >>> import numpy as np
    >>> state_params({"random_state": np.random.default_rng(0), "hidden": (8,)})
    {'random_state': None, 'hidden': [8]}
    """
    params = dict(params)
    if not (params.get("random_state") is None or isinstance(params["random_state"], int)):
        params["random_state"] = None
    return to_jsonable(params)


def check_state(state: Any, expected_class: str) -> dict[str, Any]:
    """Validate a state dict for ``from_state`` of class ``expected_class``."""
    if not isinstance(state, dict):
        raise fail("state", "a dict produced by to_state()", state)
    missing = [k for k in ("schema_version", "class", "params", "attributes", "arrays") if k not in state]
    if missing:
        raise fail("state", "the keys of to_state()", got_text=f"missing {missing}")
    version = state["schema_version"]
    if not isinstance(version, int) or version > STATE_SCHEMA_VERSION or version < 1:
        raise SchemaVersionError(
            f"state: expected schema_version 1..{STATE_SCHEMA_VERSION}, got {version!r} "
            "(written by a newer weaklab?)"
        )
    if state["class"] != expected_class:
        raise fail("state", f"the state of a {expected_class}", got_text=f"the state of a {state['class']}")
    return state


def save_state(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``state`` to ``<path>.json`` and ``<path>.npz``; return the JSON path."""
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    meta = {k: to_jsonable(v) for k, v in state.items() if k != "arrays"}
    arrays = state.get("arrays", {})
    meta["array_names"] = sorted(arrays)
    json_path = base.with_suffix(".json")
    json_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    np.savez_compressed(base.with_suffix(".npz"), **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
    return json_path


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a state written by :func:`save_state` (arrays loaded without pickle)."""
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    json_path, npz_path = base.with_suffix(".json"), base.with_suffix(".npz")
    try:
        meta = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise ValidationError(f"path: expected an existing state file, got {str(json_path)!r}") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"path: expected a JSON state file, got invalid JSON in {json_path} ({exc})") from None
    names = meta.pop("array_names", [])
    with np.load(npz_path, allow_pickle=False) as npz:
        meta["arrays"] = {name: npz[name] for name in names}
    return meta
