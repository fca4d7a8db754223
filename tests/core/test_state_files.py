"""weaklab.save_state / weaklab.load_state: a model's state as JSON + .npz files, with errors naming the parameter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab import DawidSkene, MajorityVote, SchemaVersionError, ValidationError, load_state, save_state
from weaklab.models import LabelModel

VOTES = np.array([[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, -1, 1], [-1, -1, -1]])


@pytest.fixture
def state():
    return DawidSkene(random_state=0).fit(VOTES, n_classes=2).to_state()


def test_a_saved_model_predicts_the_same_after_loading(tmp_path, state):
    """A state written and read back rebuilds a model with the same posteriors, from the JSON path or the stem."""
    written = save_state(state, tmp_path / "ds")
    assert written == tmp_path / "ds.json" and (tmp_path / "ds.npz").exists()
    for path in (written, tmp_path / "ds", tmp_path / "ds.npz", str(written)):
        rebuilt = DawidSkene.from_state(load_state(path))
        assert np.array_equal(rebuilt.predict_proba(VOTES), DawidSkene.from_state(state).predict_proba(VOTES))
    assert type(LabelModel.load(written)) is DawidSkene


def test_a_dotted_name_keeps_its_dots(tmp_path, state):
    """Only a .json/.npz ending is dropped: "model.v2" writes model.v2.json, not model.json."""
    assert save_state(state, tmp_path / "model.v2").name == "model.v2.json"
    assert load_state(tmp_path / "model.v2")["class"] == "DawidSkene"


def test_a_model_instead_of_its_state_is_named(tmp_path):
    """Passing the model rather than model.to_state() says so."""
    with pytest.raises(ValidationError, match=r"^state: .*to_state\(\)"):
        save_state(MajorityVote().fit(VOTES, n_classes=2), tmp_path / "mv")


def test_incomplete_states_and_object_arrays_are_refused(tmp_path, state):
    """A dict without the state keys, or arrays that would need pickle, is refused before any file is written."""
    with pytest.raises(ValidationError, match=r"^state: .*missing \['attributes', 'arrays'\]"):
        save_state({"schema_version": 1, "class": "X", "params": {}}, tmp_path / "x")
    state["arrays"]["odd"] = np.array([{"a": 1}], dtype=object)
    with pytest.raises(ValidationError, match=r"state\['arrays'\]\['odd'\].*dtype object"):
        save_state(state, tmp_path / "x")
    assert not list(tmp_path.iterdir())


def test_a_path_in_a_missing_folder_or_of_the_wrong_kind_names_path(tmp_path, state):
    """path must be a str/PathLike in an existing folder."""
    with pytest.raises(ValidationError, match=r"^path: expected a path in an existing folder"):
        save_state(state, tmp_path / "absent" / "ds")
    with pytest.raises(ValidationError, match=r"^path: expected a file path"):
        save_state(state, 3)
    with pytest.raises(ValidationError, match=r"^path: expected a file path"):
        load_state(None)


def test_loading_what_is_not_a_state_names_path(tmp_path, state):
    """A missing file, foreign JSON, invalid JSON, or a missing arrays file is a ValidationError naming path."""
    with pytest.raises(ValidationError, match=r"^path: expected an existing state file, got .*nope\.json"):
        load_state(tmp_path / "nope")
    (tmp_path / "other.json").write_text(json.dumps({"a": 1}))
    with pytest.raises(ValidationError, match=r"^path: expected a weaklab model state.*without the keys"):
        load_state(tmp_path / "other")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValidationError, match=r"^path: expected a JSON state file"):
        load_state(tmp_path / "broken")
    save_state(state, tmp_path / "ds")
    (tmp_path / "ds.npz").unlink()
    with pytest.raises(ValidationError, match=r"^path: .*arrays file ds\.npz.*no such file"):
        load_state(tmp_path / "ds")


def test_a_state_from_a_newer_weaklab_is_a_schema_version_error(tmp_path, state):
    """A file whose schema_version this weaklab does not read raises SchemaVersionError naming the file."""
    written = save_state(state, tmp_path / "ds")
    meta = json.loads(written.read_text())
    written.write_text(json.dumps({**meta, "schema_version": 99}))
    with pytest.raises(SchemaVersionError, match=r"^path: expected schema_version 1\.\.\d+, got 99 in .*ds\.json"):
        load_state(written)
    with pytest.raises(SchemaVersionError, match=r"^state: "):
        save_state({**state, "schema_version": 99}, tmp_path / "newer")
