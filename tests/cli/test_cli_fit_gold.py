"""`weaklab fit` and [data].fit_gold: the CLI says what gold outside the dev split the fit used, or how to use it."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.store import Store


def _invoke(*args: str):
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return out


def test_fit_names_unused_gold_then_says_what_fit_gold_fed_the_fit(tmp_path, monkeypatch):
    """The example's train rows hold gold: `fit` counts them and names the key; with fit_gold = 30 it says 30 of them
    fed the fit, `runs` shows it, and the dev score stays measured on the same held-out rows."""
    monkeypatch.chdir(tmp_path)
    _invoke("init", "--items", "200")
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    data = pd.read_csv(tmp_path / "data" / "comments.csv")
    outside = int((data["label"].notna() & (data["split"] != "dev")).sum())
    assert outside > 30

    hint = _invoke("fit").output
    assert f'{outside} gold labels outside the dev split are not used by the fit: set fit_gold = "all"' in hint
    assert "under [data] in weaklab.toml" in hint

    config.write_text(config.read_text().replace("# fit_gold = 50 ", "fit_gold = 30 "))
    told = _invoke("fit").output
    assert f"label model fitted on 30 of the {outside} gold labels outside the dev split (a random sample: " \
           "[data].fit_gold = 30, seed 0; split train 30)" in told
    assert "not used by the fit" not in told

    runs = json.loads(_invoke("runs", "--json").stdout)
    before, after = runs[1]["metrics"]["label_model"], runs[0]["metrics"]["label_model"]
    assert (before["fit_gold"], before["n_file_gold_for_fit"]) == ("none", 0)
    assert (after["fit_gold"], after["n_file_gold_for_fit"], after["n_gold_for_fit"]) == (30, 30, 30)
    assert after["gold_sampling"] == "random" and after["n_dev"] == before["n_dev"]
    assert "fit on 30 file gold (random)" in _invoke("runs").output


def test_explain_says_in_text_when_an_items_gold_fed_the_fit(tmp_path, monkeypatch):
    """`weaklab explain` on an item whose data-file gold fed the run's fit prints that gold (not only in --json);
    an item whose gold did not feed the fit gets no such line."""
    monkeypatch.chdir(tmp_path)
    _invoke("init", "--items", "200")
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text().replace("# fit_gold = 50 ", "fit_gold = 10 "))
    _invoke("fit")
    run_id = json.loads(_invoke("runs", "--json").stdout)[0]["run_id"]
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        fed = store.fit_gold(run_id)
    assert len(fed) == 10
    item, gold = str(fed["item_id"].iloc[0]), fed["class_name"].iloc[0]
    plain = next(str(i) for i in pd.read_csv(tmp_path / "data" / "comments.csv")["comment_id"]
                 if i not in set(fed["item_id"]))
    assert json.loads(_invoke("explain", item, "--json").stdout)["fit_gold"]["class_name"] == gold
    text = _invoke("explain", item).output
    assert f"fit gold: {gold} from the data file fed this run's label-model fit" in text
    assert "fit gold:" not in _invoke("explain", plain).output
