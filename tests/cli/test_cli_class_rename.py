"""A class renamed in a newcomer's project (``[labels.rename]``) keeps the meaning of everything that used the old
name: labeling functions that vote it (templates, row-wise and vectorized), gold cells and human answers."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main

_LFS_BY_NAME = '''\
import numpy as np

from weaklab import ABSTAIN, keyword_lf, labeling_function


@labeling_function()
def songs(x):
    return "fine" if "song" in x.message_body.lower() else ABSTAIN


@labeling_function(vectorized=True)
def links(df):
    return np.where(df.message_body.str.contains("http"), "junk", None)


lfs = [keyword_lf(["subscribe", "check out"], "junk", name="kw_junk"), songs, links]
'''
_RENAMED = '''\
[labels]
classes = ["fine", "junk mail"]

[labels.rename]
junk = "junk mail"
'''


def _cli(*args: str):
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout) if "--json" in args else out.output


def _labels(root) -> pd.DataFrame:
    _cli("export", "labels.csv", "--no-text")
    return pd.read_csv(root / "labels.csv", keep_default_na=False).set_index("msg_no")


def _project(tmp_path, monkeypatch, msgs_project_writer):
    msgs_project_writer(tmp_path, 80, 4, lfs=_LFS_BY_NAME)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _rename(root, labels: str = _RENAMED) -> None:
    config = root / "weaklab.toml"
    text = config.read_text()
    config.write_text(text.replace('[labels]\nclasses = ["fine", "junk"]\n', labels))


def test_a_renamed_class_keeps_every_vote_gold_cell_and_answer(tmp_path, monkeypatch, msgs_project_writer):
    """After junk -> "junk mail", LFs still voting "junk", the gold column's "junk" and an answer given as "junk"
    all mean "junk mail": every item keeps its label (renamed), the dev gold count is unchanged."""
    root = _project(tmp_path, monkeypatch, msgs_project_writer)
    before = _cli("fit", "--json")
    assert set(before["metrics"]["sources_by_name"]) == {"kw_junk", "songs", "links"}
    answered = CliRunner().invoke(main, ["annotate", "--annotator", "ann", "--limit", "2"], input="2\n1\nq\n")
    assert answered.exit_code == 0, answered.output
    before = _cli("fit", "--json")  # the answers (given as "junk"/"fine") are gold of this fit
    old = _labels(root)
    _rename(root)
    after = _cli("fit", "--json")
    assert after["metrics"]["label_model"]["n_dev"] == before["metrics"]["label_model"]["n_dev"] == 20
    assert after["metrics"]["label_model"]["n_gold_for_fit"] == before["metrics"]["label_model"]["n_gold_for_fit"] == 2
    new = _labels(root)
    assert (old["class"] == "junk").sum() > 10
    assert new["class"].tolist() == old["class"].replace({"junk": "junk mail"}).tolist()
    votes = {v["source"]: v["class_name"] for v in _cli("explain", "m001", "--json")["votes"]}
    assert votes and set(votes.values()) <= {"fine", "junk mail"}


def test_a_rename_whose_old_name_is_still_a_class_is_an_error_naming_both(tmp_path, monkeypatch,
                                                                          msgs_project_writer):
    """classes fine/junk/"junk mail" with junk -> "junk mail": a vote "junk" could mean either; fit stops."""
    root = _project(tmp_path, monkeypatch, msgs_project_writer)
    _rename(root, _RENAMED.replace('["fine", "junk mail"]', '["fine", "junk", "junk mail"]'))
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "labels.rename.junk" in line and "'junk'" in line and "'junk mail'" in line, line


def test_explain_shows_a_human_answer_in_the_runs_classes_after_they_are_reordered_and_renamed(
        tmp_path, monkeypatch, msgs_project_writer):
    """An answer given as "junk" (class 1) reads "junk mail" in a run whose classes became ["junk mail", "fine"]:
    the CLI's and the JSON story's answer agree with the final label, and the run before still shows "junk"."""
    root = _project(tmp_path, monkeypatch, msgs_project_writer)
    first = _cli("fit", "--json")["run_id"]
    answered = CliRunner().invoke(main, ["annotate", "--annotator", "ann", "--limit", "1"], input="2\n")
    assert answered.exit_code == 0, answered.output
    key = answered.output.split("] item ", 1)[1].split()[0]
    _rename(root, _RENAMED.replace('["fine", "junk mail"]', '["junk mail", "fine"]'))
    second = _cli("fit", "--json")["run_id"]
    story = _cli("explain", key, "--run", str(second), "--json")
    (answer,) = story["annotations"]
    assert (answer["class_name"], answer["run_class"], answer["run_label"]) == ("junk", "junk mail", 0)
    assert (story["final_from"], story["final_label"]) == ("annotation", 0)
    text = _cli("explain", key, "--run", str(second))
    assert "human answer: junk mail (0) (given as 'junk') by ann" in text, text
    earlier = _cli("explain", key, "--run", str(first))
    assert "human answer: junk (1) by ann via" in earlier, earlier


def test_explain_shows_a_correction_in_the_runs_classes_after_they_are_reordered(tmp_path, monkeypatch,
                                                                                 msgs_project_writer):
    """A correction fine -> junk recorded on the first run reads "junk mail" in a run whose classes are
    ["junk mail", "fine"] (not class id 1 of the new list, "fine")."""
    from weaklab.store import Store

    root = _project(tmp_path, monkeypatch, msgs_project_writer)
    first = _cli("fit", "--json")["run_id"]
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        store.add_corrections(first, ["m001"], [1], old_labels=[0], who="ann", why="checked")
    _rename(root, _RENAMED.replace('["fine", "junk mail"]', '["junk mail", "fine"]'))
    second = _cli("fit", "--json")["run_id"]
    text = _cli("explain", "m001", "--run", str(second))
    assert "correction: fine (1) -> junk mail (0) by ann (checked)" in text, text
    story = _cli("explain", "m001", "--run", str(second), "--json")
    assert (story["final_from"], story["final_label"]) == ("correction", 0)
