"""Fingerprints are stable and content-based; states round-trip without pickle."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from weaklab import SchemaVersionError, ValidationError, fingerprint, load_state, save_state


def test_fingerprint_is_stable_across_processes():
    """The same content hashes to the same value in a fresh interpreter."""
    here = fingerprint({"a": [1, 2.5, "x"]}, np.arange(5), pd.Series([1, 2]))
    code = (
        "import numpy as np, pandas as pd; from weaklab import fingerprint; "
        "print(fingerprint({'a': [1, 2.5, 'x']}, np.arange(5), pd.Series([1, 2])))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_fingerprint_distinguishes_types_and_order():
    """Lists differ from tuples, dict key order does not matter, dtype matters."""
    assert fingerprint([1, 2]) != fingerprint((1, 2))
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint(np.arange(3, dtype=np.int32)) != fingerprint(np.arange(3, dtype=np.int64))
    assert fingerprint("ab", "c") != fingerprint("a", "bc")


def test_state_round_trip(tmp_path):
    """save_state/load_state keep JSON metadata and arrays exactly."""
    state = {"schema_version": 1, "class": "X", "params": {"a": 1}, "attributes": {"b": [1, 2]},
             "arrays": {"w": np.arange(6.0).reshape(2, 3)}}
    path = save_state(state, tmp_path / "model")
    back = load_state(path)
    assert back["params"] == {"a": 1} and back["attributes"] == {"b": [1, 2]}
    assert np.array_equal(back["arrays"]["w"], state["arrays"]["w"])


def test_missing_state_file_is_a_clear_error(tmp_path):
    """Loading a missing state names the file."""
    with pytest.raises(ValidationError, match="existing state file"):
        load_state(tmp_path / "nope")


def test_newer_schema_is_refused():
    """A state from a newer schema raises SchemaVersionError."""
    from weaklab.models import MajorityVote

    state = MajorityVote().fit([[0, 1], [1, 1]]).to_state()
    state["schema_version"] = 99
    with pytest.raises(SchemaVersionError):
        MajorityVote.from_state(state)


def test_fingerprint_of_empty_arrays():
    """Arrays with a zero-size dimension hash without error and by shape."""
    assert fingerprint(np.zeros((0, 3))) != fingerprint(np.zeros((3, 0)))
    assert fingerprint(np.zeros((0, 3))) == fingerprint(np.zeros((0, 3)))
