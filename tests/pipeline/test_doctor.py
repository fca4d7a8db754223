"""A store with lost or damaged array files stays usable: fit rebuilds what it needs, reading commands
say what is unavailable, `weaklab doctor` reports and repairs what can be recomputed exactly, and a
damaged database file gets recovery steps."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.store import Store

NAMES = ("datasets", "applications", "label_model_runs", "soft_labels")


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("doctor") / "p"
    assert _invoke("init", str(root), "--items", "200").exit_code == 0
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    assert _invoke("fit", "-C", str(root)).exit_code == 0
    return root


@pytest.fixture()
def project(template, tmp_path, monkeypatch):
    target = tmp_path / "p"
    shutil.copytree(template, target)
    monkeypatch.chdir(target)
    return target


def _store(project):
    return project / ".weaklab" / "weaklab.duckdb"


def _array(project, table: str):
    """The array file of the first record of ``table`` (through the public listing of array files)."""
    from pathlib import Path

    with Store(_store(project), read_only=True) as st:
        files = st.array_files()
    for path, used in zip(files["path"], files["used_by"]):
        if any(t == table and record == 1 and what != "row map" for t, record, what in used):
            return Path(path)
    raise AssertionError(f"no array of {table}")


def _snapshot(project):
    with Store(_store(project), read_only=True) as st:
        return st.load_item_ids(1), st.load_matrix(1), st.load_soft_labels(1).proba, st.load_label_model_state(1)


def test_fit_rebuilds_lost_votes_and_item_ids(project):
    """With the vote and item-id files gone, `fit` applies the LFs again and the store is whole afterwards."""
    _, L, _, _ = _snapshot(project)
    _array(project, "applications").unlink()
    _array(project, "datasets").unlink()
    out = _invoke("fit", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["reused"]["apply"] is False
    assert _invoke("doctor").exit_code == 0
    with Store(_store(project), read_only=True) as st:
        assert np.array_equal(st.load_matrix(1).to_dense(), L.to_dense())


def test_reading_commands_work_without_the_lost_files(project):
    """`runs` lists the run and `explain` tells the rest of the story, naming what is unavailable."""
    ids, _, _, _ = _snapshot(project)
    _array(project, "applications").unlink()
    _array(project, "soft_labels").unlink()
    _array(project, "datasets").unlink()
    assert _invoke("runs").exit_code == 0
    out = _invoke("explain", str(ids[0]), "--json")
    assert out.exit_code == 0, out.output
    story = json.loads(out.stdout)
    assert [n.split(":")[0] for n in story["unavailable"]] == ["votes", "posterior"]
    text = _invoke("explain", str(ids[0]))
    assert text.exit_code == 0 and "unavailable" in text.output


def test_doctor_reports_then_repairs_exactly(project):
    """doctor exits 1 naming each damaged file and its record; --repair restores identical content."""
    ids, L, proba, state = _snapshot(project)
    for table in ("datasets", "applications", "label_model_runs"):
        _array(project, table).unlink()
    soft = _array(project, "soft_labels")
    soft.write_bytes(b"\0" * soft.stat().st_size)  # overwritten in place, same size
    found = _invoke("doctor", "--json")
    assert found.exit_code == 1
    problems = json.loads(found.stdout)["problems"]
    assert sorted(p["problem"] for p in problems) == ["missing", "missing", "missing", "unreadable"]
    assert {u[0] for p in problems for u in p["used_by"]} == set(NAMES)
    fixed = _invoke("doctor", "--repair")
    assert fixed.exit_code == 0, fixed.output
    assert "healthy" in fixed.output.splitlines()[-1]
    ids2, L2, proba2, state2 = _snapshot(project)
    assert np.array_equal(ids2, ids) and np.array_equal(L2.to_dense(), L.to_dense())
    assert np.array_equal(proba2, proba)
    assert all(np.array_equal(state2["arrays"][k], v) for k, v in state["arrays"].items())


def test_votes_are_not_rebuilt_from_changed_data(project):
    """When the data changed since, doctor leaves the votes alone and says why."""
    _array(project, "applications").unlink()
    data = project / "data" / "comments.csv"
    data.write_text(data.read_text().replace("song", "tune"))
    out = _invoke("doctor", "--repair")
    assert out.exit_code == 1
    assert "votes of application 1: the project's data changed" in out.output


def test_a_cut_short_database_file_gets_recovery_steps(project):
    """A truncated store file: every command says it is damaged and how to recover, in one line."""
    path = _store(project)
    path.write_bytes(path.read_bytes()[:4096])
    for args in (("runs",), ("doctor",)):
        out = _invoke(*args)
        assert out.exit_code == 1 and "Traceback" not in out.output
        assert "damaged or cut short" in out.output and "Recovery" in out.output and "mv " in out.output
