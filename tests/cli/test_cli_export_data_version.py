"""`weaklab export` never mixes a run's labels with texts of a data file edited since the run."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from weaklab import Store
from weaklab.cli import main
from weaklab.pipeline import load_config
from weaklab.pipeline.loading import data_fingerprint, load_data

_TOML = '''\
[data]
path = "notes.csv"
id_column = "note_id"
text_field = "body"

[labels]
classes = ["ok", "not ok"]

[lfs]
module = "lfs.py"

[label_model]
name = "MajorityVote"

[end_model]
name = "none"
'''

_LFS = '''\
from weaklab import keyword_lf

lfs = [keyword_lf(["fine", "good"], "ok"), keyword_lf(["broken", "bad"], "not ok")]
'''


def _project(tmp_path, monkeypatch):
    root = tmp_path / "notes"
    root.mkdir()
    texts = ["all fine", "broken again", "good stuff", "bad day", "meh"] * 4
    pd.DataFrame({"note_id": [f"n{i}" for i in range(len(texts))], "body": texts}).to_csv(root / "notes.csv",
                                                                                          index=False)
    (root / "weaklab.toml").write_text(_TOML)
    (root / "lfs.py").write_text(_LFS)
    monkeypatch.chdir(root)
    return root


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_export_refuses_texts_of_a_data_file_changed_since_the_run(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    assert _run("fit").exit_code == 0
    assert _run("export", "a.csv").exit_code == 0
    assert pd.read_csv(root / "a.csv")["body"].iloc[1] == "broken again"
    data = pd.read_csv(root / "notes.csv")
    data.loc[1, "body"] = "fixed now"
    data.to_csv(root / "notes.csv", index=False)
    out = _run("export", "b.csv")
    assert out.exit_code == 1 and not (root / "b.csv").exists()
    line = out.output.strip().splitlines()[-1]
    assert "run 1 labelled notes.csv with data fingerprint" in line and "changed since the run" in line, line
    assert "weaklab fit" in line and "--no-text" in line, line


def test_export_names_both_data_fingerprints_and_no_text_exports_the_runs_labels(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    run_id = json.loads(_run("fit", "--json").stdout)["run_id"]
    data = pd.read_csv(root / "notes.csv")
    data.loc[1, "body"] = "fixed now"
    data.to_csv(root / "notes.csv", index=False)
    out = _run("export", "b.csv")
    config = load_config(root)
    current = data_fingerprint(config, load_data(config))
    with Store(config.store_path, read_only=True) as store:
        before = store.dataset(store.run(run_id)["dataset_id"])["fingerprint"]
    assert before[:16] in out.output and current[:16] in out.output and before != current
    out = _run("export", "b.csv", "--no-text")
    assert out.exit_code == 0, out.output
    exported = pd.read_csv(root / "b.csv")
    assert "body" not in exported.columns and exported.loc[1, "class"] == "not ok"


def test_after_a_new_fit_the_export_has_the_current_texts(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    assert _run("fit").exit_code == 0
    data = pd.read_csv(root / "notes.csv")
    data.loc[1, "body"] = "good now"
    data.to_csv(root / "notes.csv", index=False)
    assert _run("fit").exit_code == 0
    out = _run("export", "c.csv")
    assert out.exit_code == 0, out.output
    exported = pd.read_csv(root / "c.csv")
    assert exported.loc[1, "body"] == "good now" and exported.loc[1, "class"] == "ok"
    assert _run("export", "old.csv", "--run", "1").exit_code == 1  # run 1 labelled the old version
