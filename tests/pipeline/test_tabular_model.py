"""The tabular end model ([end_model] name = "tabular"): a table project (numeric columns, no text) trains it on
the soft labels, records it as arrays, predicts new rows with the same columns, and names what is wrong with its
columns or parameters before any work is done."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.errors import ValidationError
from weaklab.pipeline import Project

_RULES = '''
import numpy as np
from weaklab.labeling import labeling_function, threshold_lf

@labeling_function(vectorized=True)
def lukewarm(df):
    return np.where((df.temp_c > 40) & (df.temp_c < 60), 1, -1)  # worn (broken in a two-class project)

lfs = [
    threshold_lf("temp_c", above=68.0, label="broken"),
    threshold_lf("temp_c", below=32.0, label="ok"),
    threshold_lf("vibration", above=2.2, label="broken"),
    threshold_lf("vibration", below=0.6, label="ok"),
    lukewarm,
]
'''


def _table(n: int = 360, seed: int = 0) -> pd.DataFrame:
    """Machines in three states (ok / worn / broken) read by sensors; some readings are missing."""
    rng = np.random.default_rng(seed)
    state = rng.integers(0, 3, n)
    temp = 25 + 22 * state + rng.normal(0, 9, n)
    vibration = 0.4 + 0.9 * state + rng.normal(0, 0.5, n)
    hours = rng.gamma(2.0, 500, n)
    hours[rng.random(n) < 0.1] = np.nan
    part = np.where(np.arange(n) % 5 == 0, "check", "pool")
    verdict = np.where(part == "check", np.array(["ok", "worn", "broken"])[state], "")
    return pd.DataFrame({"unit": [f"u{i:04d}" for i in range(n)], "temp_c": temp.round(2),
                         "vibration": vibration.round(3), "hours": hours.round(0),
                         "site": rng.choice(["north", "south"], n), "note": [f"seen by {i % 97}" for i in range(n)],
                         "verdict": verdict, "part": part})


def _project(root: Path, params: str = 'estimator = "hist_gradient_boosting", max_iter = 20, min_samples_leaf = 5',
             extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _table().to_csv(root / "machines.csv", index=False)
    (root / "rules.py").write_text(_RULES)
    (root / "weaklab.toml").write_text(
        '[data]\npath = "machines.csv"\nid_column = "unit"\ngold_column = "verdict"\nsplit_column = "part"\n'
        'dev_value = "check"\n\n[labels]\nclasses = ["ok", "worn", "broken"]\n\n[lfs]\nmodule = "rules.py"\n\n'
        f'[end_model]\nname = "tabular"\nparams = {{ {params} }}\n{extra}')
    return root


def _cli(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])


def _recorded(root: Path, run_id: int, role: str) -> np.ndarray:
    with Project(root).open_store(read_only=True) as store:
        soft = store.run_records(run_id)["soft_labels"]
        return store.load_soft_labels(int(soft.loc[soft["role"] == role, "soft_labels_id"].iloc[-1])).proba


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A table project trained once by `weaklab train` (boosted trees, three classes)."""
    root = _project(tmp_path_factory.mktemp("tabular") / "machines")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        out = CliRunner().invoke(main, ["train"])
    assert out.exit_code == 0, out.output
    return root


def _end_model_record(root: Path, run_id: int = 1) -> tuple[dict, dict]:
    with Project(root).open_store(read_only=True) as store:
        record = store.run_records(run_id)["end_model_runs"].iloc[-1]
        return dict(record["metrics"]), store.load_end_model_state(int(record["end_model_run_id"]))


def test_train_reads_every_numeric_column_but_the_projects_own_and_is_measured_on_dev(trained):
    """Default columns: the numeric ones and the few-category 'site' except id, gold and split (the free-text column
    'note' is left out and named, with why); the end model is measured (accuracy, ECE, reliability per slice) and
    recorded as numeric arrays only."""
    metrics, state = _end_model_record(trained)
    assert metrics["columns"] == ["temp_c", "vibration", "hours", "site"] and metrics["skipped_columns"] == ["note"]
    assert metrics["categories"] == {"site": 2} and "97 distinct values" in metrics["skipped_why"]["note"]
    assert metrics["estimator"] == "hist_gradient_boosting" and metrics["n_dev"] == 72
    assert 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["ece"] <= 1.0 and "recipe" in metrics
    with Project(trained).open_store(read_only=True) as store:
        calibration = store.run_records(1)["end_model_runs"].iloc[-1]["calibration"]
    assert set(calibration["slices"]) <= {"with a vote", "without a vote"} and calibration["bins"]
    assert state["class"] == "tabular" and state["columns"] == metrics["columns"]
    assert all(np.asarray(a).dtype != object for a in state["arrays"].values())  # nothing to unpickle


def test_the_end_model_beats_chance_and_uses_the_rows_no_rule_voted_on(trained):
    """On the dev rows, the end model's accuracy is well above the 1/3 of chance, also where no LF voted."""
    proba = _recorded(trained, 1, "end_model_raw")
    data = pd.read_csv(trained / "machines.csv", keep_default_na=False, na_values=[""])
    dev = (data["part"] == "check").to_numpy()
    gold = data["verdict"].map({"ok": 0, "worn": 1, "broken": 2}).to_numpy()
    assert np.mean(proba[dev].argmax(axis=1) == gold[dev]) > 0.6


def test_predict_on_the_projects_own_rows_gives_the_recorded_probabilities(trained, tmp_path):
    """The trees rebuilt from the stored arrays give the probabilities scikit-learn gave at train time."""
    for flag, role in (([], "end_model"), (["--raw"], "end_model_raw")):
        out = _cli(trained, "predict", str(trained / "machines.csv"), str(tmp_path / "p.csv"), *flag)
        assert out.exit_code == 0, out.output
        predicted = pd.read_csv(tmp_path / "p.csv")
        assert np.allclose(predicted[["p_ok", "p_worn", "p_broken"]].to_numpy(), _recorded(trained, 1, role),
                           atol=1e-9), role


def test_predict_reads_the_columns_by_name_in_any_order_and_ignores_others(trained, tmp_path):
    """A new table with the model's columns reordered, an extra column, missing cells and no id column works."""
    new = _table(n=30, seed=7)[["hours", "vibration", "site", "temp_c"]]
    new.loc[3, "temp_c"] = np.nan
    new.to_csv(tmp_path / "new.csv", index=False)
    out = _cli(trained, "predict", str(tmp_path / "new.csv"), str(tmp_path / "new_pred.csv"))
    assert out.exit_code == 0, out.output
    predicted = pd.read_csv(tmp_path / "new_pred.csv")
    assert list(predicted.columns) == ["label", "class", "p_ok", "p_worn", "p_broken"] and len(predicted) == 30
    assert np.allclose(predicted[["p_ok", "p_worn", "p_broken"]].sum(axis=1), 1.0)


def test_predict_without_the_models_columns_names_the_missing_ones(trained, tmp_path):
    """The error names each column the model reads that the new table lacks, and nothing is written."""
    _table(n=5)[["unit", "temp_c"]].to_csv(tmp_path / "short.csv", index=False)
    out = _cli(trained, "predict", str(tmp_path / "short.csv"), str(tmp_path / "x.csv"))
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "tabular end model" in line and "'vibration'" in line and "'hours'" in line, line
    assert "no column 'temp_c'" not in line and not (tmp_path / "x.csv").exists()


def test_predict_with_a_non_numeric_value_names_the_column_and_the_value(trained, tmp_path):
    """A cell that is not a number in a column the model reads is an error naming both."""
    new = _table(n=5).astype({"hours": object})
    new.loc[2, "hours"] = "unknown"
    new.to_csv(tmp_path / "bad.csv", index=False)
    out = _cli(trained, "predict", str(tmp_path / "bad.csv"), str(tmp_path / "x.csv"))
    assert out.exit_code == 1 and "'hours'" in out.output and "'unknown'" in out.output, out.output


def test_a_rerun_reuses_the_model_and_the_issues_and_query_steps_read_its_columns(trained):
    """Unchanged inputs reuse the recorded end model; the later steps run on a table project."""
    result = Project(trained).run("query")
    assert result.reused["train"] and result.metrics["end_model"]["reused_from"] == 1
    assert result.issues is not None and len(result.query) == 20


def test_without_an_estimator_the_tabular_end_model_is_logistic_regression(tmp_path):
    """A project that names no estimator trains logistic regression, the default since boosting lost to it
    on every table project measured."""
    result = Project(_project(tmp_path / "default", "")).run("train")
    metrics = result.metrics["end_model"]
    assert metrics["estimator"] == "logistic_regression"


def test_logistic_regression_with_chosen_columns_on_two_classes(tmp_path):
    """estimator = "logistic_regression" reads only the named columns (missing cells take the median) and
    predict gives its recorded probabilities."""
    root = _project(tmp_path / "lr", 'estimator = "logistic_regression", columns = ["hours", "temp_c"], C = 0.5')
    data = pd.read_csv(root / "machines.csv", keep_default_na=False, na_values=[""])
    data["verdict"] = data["verdict"].replace({"worn": "broken"})
    data.to_csv(root / "machines.csv", index=False)
    config = (root / "weaklab.toml").read_text().replace('["ok", "worn", "broken"]', '["ok", "broken"]')
    (root / "weaklab.toml").write_text(config)
    result = Project(root).run("train")
    assert result.metrics["end_model"]["columns"] == ["hours", "temp_c"]
    assert result.metrics["end_model"]["estimator"] == "logistic_regression"
    with Project(root).open_store(read_only=True) as store:
        from weaklab.pipeline.predict import predict_items

        raw = predict_items(store, result.run_id, data, calibrated=False)[["p_ok", "p_broken"]].to_numpy()
    assert np.allclose(raw, _recorded(root, result.run_id, "end_model_raw"), atol=1e-9)


@pytest.mark.parametrize(("params", "extra", "message"), [
    ('columns = ["temp_c", "pressure"]', "", r"end_model\.params\.columns: expected columns of machines\.csv, "
                                             r"got no column 'pressure'"),
    ('columns = ["temp_c", "note"]', "", r"expected numeric columns or columns of at most 20 categories "
                                         r"\(max_categories\), got 'note', text or ids: 97 distinct values"),
    ('columns = ["temp_c", "site"], max_categories = 1', "", r"got 'site', text or ids: 2 distinct values"),
    ('columns = ["temp_c", "verdict"]', "", r"got 'verdict', the project's \[data\]\.gold_column"),
    ('exclude = ["temp_c", "vibration", "hours", "site"]', "", r"expected at least one numeric or category column "
                                                               r"of machines\.csv.*not read: 'note', text or ids"),
    ('exclude = ["humidity"]', "", r"end_model\.params\.exclude: expected columns of machines\.csv, got no column "
                                   r"'humidity'"),
    ("learning_rate = 0.2", "", r"end_model\.params\.learning_rate: expected a parameter of the logistic_regression "
                                r"estimator.*set estimator = 'hist_gradient_boosting'"),
    ('estimator = "hist_gradient_boosting", C = 2.0', "", r"end_model\.params\.C: expected a parameter of the "
                                                         r"hist_gradient_boosting estimator.*set estimator = "
                                                         r"'logistic_regression'"),
    ('columns = ["temp_c"], exclude = ["hours"]', "", r"either columns .* or exclude .*, not both"),
    ('estimator = "forest"', "", r"end_model\.params\.estimator: expected one of \['hist_gradient_boosting', "
                                 r"'logistic_regression'\], got str 'forest'"),
    ("max_leaf_nodes = 1", "", r"end_model\.params\.max_leaf_nodes: expected an integer >= 2"),
    ("ngram_max = 2", "", r"end_model\.params\.ngram_max: expected one of the keys .* of the tabular end model"),
    ("", '\n[engine]\nkind = "dask"\n', r"end_model\.name: expected 'tfidf_logreg' or 'none' on the Dask engine.*"
                                         r'set \[engine\]\.kind = "local"'),
])
def test_bad_columns_or_parameters_are_named_before_any_work(tmp_path, params, extra, message):
    """Each mistake is a ValidationError naming the key, what was expected and what was found; no run starts."""
    root = _project(tmp_path / "bad", params, extra)
    with pytest.raises(ValidationError, match=message):
        Project(root).run("train")
    assert not (root / ".weaklab" / "weaklab.duckdb").exists() or Project(root).open_store().runs().empty


def test_a_fit_only_run_does_not_check_the_end_models_columns(tmp_path):
    """`weaklab fit` works while the tabular end model's columns are still wrong (train is where they matter)."""
    root = _project(tmp_path / "fit", 'columns = ["pressure"]')
    assert Project(root).run("fit").steps == ["apply", "analyse", "fit"]


def test_the_dashboards_model_health_page_shows_the_tabular_end_model(trained):
    """The health page of a table project's run renders its calibration and names the end model."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app

    with TestClient(create_app(trained / ".weaklab" / "weaklab.duckdb"), base_url="http://127.0.0.1") as web:
        page = web.get("/health?run=1")
    assert page.status_code == 200 and "tabular" in page.text and "Reliability diagram" in page.text


def test_review_and_lineage_show_a_rows_columns_but_not_its_gold(trained):
    """A table project has no text column: the review queue and the item page show the row's cells instead
    (without the id, gold and split columns)."""
    from weaklab.pipeline.review import TextLookup

    with Project(trained).open_store(read_only=True) as store:
        shown = TextLookup(store, 1).get("u0000")
    row = pd.read_csv(trained / "machines.csv", keep_default_na=False, na_values=[""]).iloc[0]
    assert shown is not None and shown.startswith(f"temp_c: {row['temp_c']} · vibration: {row['vibration']}")
    assert "site: " in shown and "verdict" not in shown and "part" not in shown and "u0000" not in shown


def _tampered(state: dict, change) -> dict:
    copy = {**state, "arrays": {k: np.array(v, copy=True) for k, v in state["arrays"].items()}}
    change(copy)
    return copy


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s["arrays"].pop("tree/left"), "'tree/left'"),
    (lambda s: s["arrays"]["tree/left"].__setitem__(int(np.flatnonzero(~s["arrays"]["tree/is_leaf"])[0]), 0),
     "children after it"),  # a loop: the walk would never reach a leaf
    (lambda s: s["arrays"]["tree/right"].__setitem__(int(np.flatnonzero(~s["arrays"]["tree/is_leaf"])[0]), 10**6),
     "children after it"),
    (lambda s: s.update(columns=s["columns"][1:]), "values in 'column/median'"),
    (lambda s: s.update(categories={"site": ["north", "north"]}), "distinct strings"),
    (lambda s: s["arrays"].update(baseline=s["arrays"]["baseline"][:1]), "values in 'baseline'"),
    (lambda s: s["arrays"].update(classes=np.array([0, 5, 1])), "distinct classes"),
], ids=["missing-array", "looping-tree", "child-outside-tree", "columns-vs-stats", "categories", "baseline-size",
        "classes"])
def test_a_damaged_recorded_state_is_refused_on_load_naming_the_part(trained, change, message):
    """A recorded tabular state that is incomplete or inconsistent (a missing array, a tree whose walk loops or
    leaves it, arrays of the wrong size) is a ValidationError on load, not a KeyError, an IndexError or a hang."""
    from weaklab.pipeline.tabular_state import TabularEndModel

    _, state = _end_model_record(trained)
    TabularEndModel.from_state(state)  # the recorded state itself passes
    with pytest.raises(ValidationError, match="state: expected") as caught:
        TabularEndModel.from_state(_tampered(state, change))
    assert message in str(caught.value)


def test_a_state_whose_trees_read_more_inputs_than_its_columns_is_refused_at_predict(trained):
    """A tree splitting on an input the recorded columns do not give is named, not an IndexError."""
    from weaklab.pipeline.tabular_state import TabularEndModel

    _, state = _end_model_record(trained)
    inner = int(np.flatnonzero(~np.asarray(state["arrays"]["tree/is_leaf"]))[0])
    model = TabularEndModel.from_state(_tampered(state, lambda s: s["arrays"]["tree/feature_idx"].__setitem__(
        inner, 40)))
    with pytest.raises(ValidationError, match="reads 41"):
        model.predict_proba(_table(n=5), None)


def _fit_boosted(n: int = 120, seed: int = 0):
    from weaklab.pipeline.tabular_model import tabular_params, train_tabular_model

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    soft = np.eye(2)[(X[:, 0] > 0).astype(int)]
    return train_tabular_model(X, ["a", "b"], soft, np.ones(n, dtype=bool), np.full(n, -1),
                               tabular_params({"estimator": "hist_gradient_boosting", "max_iter": 5,
                                               "min_samples_leaf": 5}))


def test_a_scikit_learn_whose_trees_predict_otherwise_than_their_copy_is_refused_at_train(monkeypatch):
    """When scikit-learn's own probabilities differ from those of the trees weaklab copied out of it (a version that
    walks or lays out its trees differently), training stops with an error naming the estimator, rather than
    recording a model that predicts something else."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    assert _fit_boosted().state["estimator"] == "hist_gradient_boosting"  # the copy reproduces this version
    own = HistGradientBoostingClassifier.predict_proba
    monkeypatch.setattr(HistGradientBoostingClassifier, "predict_proba", lambda self, X: own(self, X)[:, ::-1])
    with pytest.raises(ValidationError, match=r"end_model\.params\.estimator: .*logistic_regression"):
        _fit_boosted()


def test_trees_without_the_node_fields_the_walk_reads_are_refused_naming_them():
    """A booster whose tree nodes lack a field the walk reads is a ValidationError naming it (not numpy's error)."""
    from types import SimpleNamespace

    from weaklab.pipeline.tabular_state import tabular_model_state

    nodes = np.zeros(1, dtype=[("feature_idx", np.int64), ("value", np.float64), ("is_leaf", np.uint8)])
    booster = SimpleNamespace(classes_=np.array([0, 1]), _baseline_prediction=np.zeros((1, 1)),
                              _predictors=[[SimpleNamespace(nodes=nodes)]])
    with pytest.raises(ValidationError, match="num_threshold"):
        tabular_model_state(booster, kind="hist_gradient_boosting", columns=["a"], stats={}, params={},
                            features="X", n_classes=2)


def _with_empty_and_infinite(root: Path) -> Path:
    data = pd.read_csv(root / "machines.csv", keep_default_na=False, na_values=[""])
    data["humidity"] = np.nan  # a sensor that never reported: an empty column in the file
    data["load"] = np.linspace(0.0, 1.0, len(data))
    data.loc[7, "load"] = np.inf  # read back from the CSV as a float column holding inf
    data.to_csv(root / "machines.csv", index=False)
    return root


def test_an_empty_column_and_one_holding_infinity_are_left_out_of_the_default_and_named(tmp_path):
    """A column with no value (which the booster cannot bin) and one holding inf are skipped by the default rule
    and named under skipped_columns; the run trains on the others."""
    root = _with_empty_and_infinite(_project(tmp_path / "gaps"))
    metrics = Project(root).run("train").metrics["end_model"]
    assert metrics["columns"] == ["temp_c", "vibration", "hours", "site"]
    assert metrics["skipped_columns"] == ["note", "humidity", "load"]
    assert metrics["skipped_why"]["humidity"] == "empty: no value" and "inf" in metrics["skipped_why"]["load"]


@pytest.mark.parametrize(("column", "message"), [("humidity", r"got 'humidity', empty: no value"),
                                                 ("load", r"got 'load', holds inf")])
def test_naming_an_empty_or_infinite_column_is_an_error_before_any_work(tmp_path, column, message):
    """columns = [...] naming an empty column or one holding inf is a ValidationError naming it."""
    root = _with_empty_and_infinite(_project(tmp_path / "named", f'columns = ["temp_c", "{column}"]'))
    with pytest.raises(ValidationError, match=r"end_model\.params\.columns: expected .*" + message):
        Project(root).run("train")


def test_predict_with_infinity_in_a_column_names_the_column(trained, tmp_path):
    """A new table holding inf in a column the model reads is an error naming the column and the value."""
    new = _table(n=5)
    new.loc[1, "vibration"] = np.inf
    new.to_csv(tmp_path / "inf.csv", index=False)
    out = _cli(trained, "predict", str(tmp_path / "inf.csv"), str(tmp_path / "x.csv"))
    assert out.exit_code == 1 and "'vibration'" in out.output and "inf" in out.output, out.output


def test_weaklab_train_names_the_columns_read_and_those_left_out(tmp_path, monkeypatch):
    """`weaklab train` says which columns the tabular end model read and which its default rule left out (here the
    free-text column 'note', with why), so no column is dropped without a word."""
    root = _project(tmp_path / "said")
    monkeypatch.chdir(root)
    out = CliRunner().invoke(main, ["train"])
    assert out.exit_code == 0, out.output
    assert "end model columns: temp_c, vibration, hours, site (2 categories, one-hot)" in out.output
    assert "left out of the end model: 'note' (text or ids: 97 distinct values" in out.output


def test_a_column_with_values_only_on_dev_rows_is_an_error_naming_it(tmp_path):
    """A column holding values only on the dev (gold) rows teaches nothing and crashed scikit-learn's binning with
    an unrelated message: `train` is a ValidationError naming the column and what to do."""
    root = _project(tmp_path / "devonly")
    data = pd.read_csv(root / "machines.csv", keep_default_na=False, na_values=[""])
    data["inspection"] = np.where(data["part"] == "check", np.arange(len(data)) % 4, np.nan)
    data.to_csv(root / "machines.csv", index=False)
    with pytest.raises(ValidationError, match=r"end_model\.params: expected columns with a value on at least one "
                                              r"training item.*\['inspection'\].*exclude"):
        Project(root).run("train")
