"""Saving and loading estimator state as JSON plus ``.npz`` arrays (no pickle).

:func:`save_state` and :func:`load_state` are public as ``weaklab.save_state``
and ``weaklab.load_state``. A *state* is a dict::

    {"schema_version": 1, "class": "DawidSkene", "module": "weaklab.models",
     "params": {...JSON...}, "attributes": {...JSON...},
     "arrays": {name: ndarray}}
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SchemaVersionError
from .constants import STATE_SCHEMA_VERSION
from .validation import fail, plain_scalar

__all__ = ["save_state", "load_state", "check_state", "to_jsonable", "state_params"]

#: The keys of every state dict.
_STATE_KEYS = ("schema_version", "class", "params", "attributes", "arrays")


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
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise fail("state", "the keys of to_state()", got_text=f"missing {missing}")
    _check_schema_version("state", state["schema_version"])
    if state["class"] != expected_class:
        raise fail("state", f"the state of a {expected_class}", got_text=f"the state of a {state['class']}")
    return state


def _check_schema_version(name: str, version: Any, where: str = "") -> None:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= STATE_SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{name}: expected schema_version 1..{STATE_SCHEMA_VERSION}, got {version!r}{where} "
            "(written by a newer weaklab?)"
        )


def _state_files(path: Any) -> tuple[Path, Path]:
    """``(<path>.json, <path>.npz)``; a ``.json`` or ``.npz`` ending of ``path`` is dropped first."""
    if not isinstance(path, (str, os.PathLike)) or not str(os.fspath(path)).strip():
        raise fail("path", "a file path (str or os.PathLike) without the .json/.npz ending", path)
    base = Path(path)
    if base.suffix in (".json", ".npz"):
        base = base.with_suffix("")
    return base.with_name(base.name + ".json"), base.with_name(base.name + ".npz")


def _checked_arrays(arrays: Any) -> dict[str, np.ndarray]:
    if not isinstance(arrays, dict):
        raise fail("state['arrays']", "a dict of name -> array", arrays)
    out = {}
    for name, value in arrays.items():
        array = np.asarray(value)
        if not isinstance(name, str) or array.dtype.hasobject:
            raise fail(f"state['arrays'][{name!r}]", "an array of numbers, booleans or strings keyed by a str "
                       "(saved without pickle)", got_text=f"an array of dtype {array.dtype}")
        out[name] = array
    return out


def save_state(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a model's state to ``<path>.json`` (metadata) and ``<path>.npz`` (arrays), without pickle.

    The state is the dict a fitted model's ``to_state()`` returns (any
    weaklab label model, end model, tagger or MIL model); read it back with
    :func:`load_state` and rebuild the model with ``Class.from_state``. The
    JSON file holds the class, parameters and small attributes; the arrays go
    to a compressed ``.npz`` beside it, loaded back without pickle.

    Parameters
    ----------
    state : dict
        ``model.to_state()``: keys ``schema_version``, ``class``, ``params``,
        ``attributes`` and ``arrays`` (name -> array of numbers, booleans or
        strings).
    path : str or os.PathLike
        The files' path without ending (``"models/dawid"`` writes
        ``models/dawid.json`` and ``models/dawid.npz``); a ``.json`` or
        ``.npz`` ending is dropped. The folder must exist.

    Returns
    -------
    Path
        The JSON file's path (pass it, or ``path``, to :func:`load_state`).

    Raises
    ------
    ValidationError
        ``state`` is not a state dict (a model passed instead of its
        ``to_state()``, keys missing, values that are not JSON or arrays of
        Python objects), or ``path`` is not a path in an existing folder.
    SchemaVersionError
        The state's ``schema_version`` is not one this weaklab writes.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from weaklab import MajorityVote, load_state, save_state
    >>> model = MajorityVote().fit([[0, 1], [1, 1], [0, -1]], n_classes=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = save_state(model.to_state(), Path(folder) / "votes")
    ...     same = MajorityVote.from_state(load_state(written))
    >>> written.name, same.predict_proba([[1, -1]]).tolist()
    ('votes.json', [[0.0, 1.0]])
    """
    if not isinstance(state, dict):
        hint = " (pass model.to_state())" if hasattr(state, "to_state") else ""
        raise fail("state", f"a dict produced by to_state(){hint}", state)
    json_path, npz_path = _state_files(path)
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise fail("state", "the keys of to_state()", got_text=f"a dict missing {missing}")
    _check_schema_version("state", state["schema_version"])
    arrays = _checked_arrays(state["arrays"])
    if not json_path.parent.is_dir():
        raise fail("path", "a path in an existing folder", got_text=f"{str(path)!r} (no folder {json_path.parent})")
    meta = {k: to_jsonable(v) for k, v in state.items() if k != "arrays"}
    meta["array_names"] = sorted(arrays)
    try:
        text = json.dumps(meta, indent=2, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise fail("state", "JSON-able params and attributes", got_text=f"{exc}") from None
    np.savez_compressed(npz_path, **arrays)  # type: ignore[arg-type]
    json_path.write_text(text)
    return json_path


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a state written by :func:`save_state` (arrays are loaded without pickle).

    Parameters
    ----------
    path : str or os.PathLike
        The path given to :func:`save_state`, or the JSON (or ``.npz``) path
        it returned.

    Returns
    -------
    dict
        The state (``schema_version``, ``class``, ``module``, ``params``,
        ``attributes``, ``arrays``); rebuild the model with
        ``Class.from_state(state)`` (a label model also with
        ``LabelModel.load(path)``, which finds the class itself).

    Raises
    ------
    ValidationError
        No state file at ``path``, a file that is not a weaklab state
        (invalid JSON, keys missing, no ``.npz`` beside it, arrays missing
        or holding Python objects).
    SchemaVersionError
        The state was written by a newer weaklab (a ``schema_version`` this
        one does not read).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from weaklab import DawidSkene, load_state, save_state
    >>> model = DawidSkene(random_state=0).fit([[0, 0, 1], [1, 1, 1], [0, 0, 0]], n_classes=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = save_state(model.to_state(), Path(folder) / "ds")
    ...     state = load_state(Path(folder) / "ds")
    >>> state["class"], sorted(state["arrays"])[:2]
    ('DawidSkene', ['class_balance_', 'confusion_'])
    >>> DawidSkene.from_state(state).predict([[0, 0, 1]]).tolist()
    [0]
    """
    json_path, npz_path = _state_files(path)
    try:
        meta = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise fail("path", "an existing state file", got_text=f"{str(json_path)!r} (no such file)") from None
    except (IsADirectoryError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail("path", "a JSON state file written by save_state",
                   got_text=f"{str(json_path)!r} ({type(exc).__name__}: {exc})") from None
    missing = [k for k in (*_STATE_KEYS[:-1], "array_names") if not isinstance(meta, dict) or k not in meta]
    if missing:
        raise fail("path", "a weaklab model state written by save_state",
                   got_text=f"{str(json_path)!r}, a JSON file without the keys {missing}")
    _check_schema_version("path", meta["schema_version"], f" in {json_path}")
    meta["arrays"] = _read_arrays(npz_path, list(meta.pop("array_names")))
    return meta


def _read_arrays(npz_path: Path, names: list[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            found = {name: npz[name] for name in names if name in npz.files}
    except FileNotFoundError:
        raise fail("path", f"a state with its arrays file {npz_path.name} beside the JSON file",
                   got_text=f"{str(npz_path)!r} (no such file)") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise fail("path", f"a state whose arrays file {npz_path.name} was written by save_state (no pickle)",
                   got_text=f"{str(npz_path)!r} ({type(exc).__name__}: {exc})") from None
    absent = [name for name in names if name not in found]
    if absent:
        raise fail("path", f"a state whose arrays file {npz_path.name} holds {names}",
                   got_text=f"{str(npz_path)!r} without {absent}")
    return found
