"""Category columns of the tabular end model: a column of a few strings reaches the model one-hot, its categories
are kept in the recorded state as plain strings, a category the model never saw reads as a missing one (and
`weaklab predict` counts such rows), and text or id columns are left out with why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import Project
from weaklab.pipeline.tabular_encoding import input_matrix, unseen_categories
from weaklab.pipeline.tabular_model import tabular_params, train_tabular_model
from weaklab.pipeline.tabular_state import TabularEndModel, column_stats, tabular_model_state

_SITES = ["east", "north", "south"]


def _site_table(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows whose class is set by the site ('east' -> 1) more than by a weak numeric reading."""
    rng = np.random.default_rng(seed)
    site = rng.choice(_SITES, n)
    y = np.where(rng.random(n) < 0.9, site == "east", rng.random(n) < 0.5).astype(int)
    return pd.DataFrame({"reading": rng.normal(y * 0.3, 1.0, n), "site": site}), y


@pytest.mark.parametrize("estimator", ["hist_gradient_boosting", "logistic_regression"])
def test_a_category_column_decides_the_class_when_the_labels_follow_it(estimator):
    """Trained on soft labels that follow the site, both estimators read it: rows that differ only in their site get
    the site's class, and the recorded copy predicts what scikit-learn predicted."""
    frame, y = _site_table()
    categories = {"site": _SITES}
    X = input_matrix(frame, ["reading", "site"], categories, where="data")
    params = tabular_params({"estimator": estimator, "max_iter": 30, "min_samples_leaf": 5}
                            if estimator == "hist_gradient_boosting" else {"estimator": estimator})
    result = train_tabular_model(X, ["reading", "site"], np.eye(2)[y], np.ones(len(y), dtype=bool),
                                 np.full(len(y), -1), params, categories=categories)
    model = TabularEndModel.from_state(result.state)
    assert model.categories == categories and result.metrics["categories"] == {"site": 3}
    probe = pd.DataFrame({"reading": [0.0] * 3, "site": _SITES})
    assert model.predict_proba(probe, None).argmax(axis=1).tolist() == [1, 0, 0]
    assert np.allclose(model.predict_proba(frame, None), result.proba, atol=1e-9)


def test_an_unseen_category_reads_as_a_missing_one():
    """A site the model never saw gives the probabilities of the same row with its site left empty."""
    frame, y = _site_table()
    categories = {"site": _SITES}
    X = input_matrix(frame, ["reading", "site"], categories, where="data")
    result = train_tabular_model(X, ["reading", "site"], np.eye(2)[y], np.ones(len(y), dtype=bool),
                                 np.full(len(y), -1), tabular_params({"estimator": "hist_gradient_boosting",
                                                                      "max_iter": 20, "min_samples_leaf": 5}),
                                 categories=categories)
    model = TabularEndModel.from_state(result.state)
    new, empty = pd.DataFrame({"reading": [-1.0, 0.5], "site": ["west", "west"]}), \
        pd.DataFrame({"reading": [-1.0, 0.5], "site": [None, None]})
    assert np.array_equal(model.predict_proba(new, None), model.predict_proba(empty, None))


def test_a_state_recorded_before_categories_still_loads_and_predicts():
    """A version-1 state (numeric columns only, no categories key: runs recorded before this change) is read."""
    from sklearn.linear_model import LogisticRegression

    frame, y = _site_table()
    X = frame[["reading"]].to_numpy()
    clf = LogisticRegression().fit(X, y)
    state = tabular_model_state(clf, kind="logistic_regression", columns=["reading"], stats=column_stats(X),
                                params={}, features="X", n_classes=2)
    state.pop("categories")
    state["version"] = 1
    model = TabularEndModel.from_state(state)
    assert model.categories == {} and model.predict_proba(frame, None).shape == (len(frame), 2)


_RULES = '''
from weaklab.labeling import threshold_lf
lfs = [threshold_lf("reading", above=0.8, label="1"), threshold_lf("reading", below=-0.8, label="0")]
'''


def test_predict_counts_rows_whose_category_the_model_never_saw(tmp_path, monkeypatch):
    """`weaklab predict` on rows with a new site says how many rows of which column it read as no category."""
    frame, y = _site_table()
    frame.insert(0, "row", [f"r{i}" for i in range(len(frame))])
    frame["gold"] = np.where(np.arange(len(y)) % 4 == 0, y.astype(str), "")
    frame["part"] = np.where(np.arange(len(y)) % 4 == 0, "dev", "train")
    frame.to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "rules.py").write_text(_RULES)
    (tmp_path / "weaklab.toml").write_text(
        '[data]\npath = "rows.csv"\nid_column = "row"\ngold_column = "gold"\nsplit_column = "part"\n'
        'dev_value = "dev"\n\n[labels]\nclasses = ["0", "1"]\n\n[lfs]\nmodule = "rules.py"\n\n'
        '[end_model]\nname = "tabular"\n'
        'params = { estimator = "hist_gradient_boosting", max_iter = 10, min_samples_leaf = 5 }\n')
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["train"]).exit_code == 0
    new = frame.head(6).assign(site=["west", "west", "east", "", "mars", "north"])
    new.to_csv(tmp_path / "new.csv", index=False)
    out = CliRunner().invoke(main, ["predict", "new.csv", "out.csv"])
    assert out.exit_code == 0, out.output
    assert "never saw (read as none of the column's categories): 3 in 'site'" in out.output
    with Project(tmp_path).open_store(read_only=True) as store:
        metrics = store.run_records(1)["end_model_runs"].iloc[-1]["metrics"]
    assert metrics["columns"] == ["reading", "site"] and metrics["categories"] == {"site": 3}


def test_a_code_category_read_as_numbers_in_a_new_table_is_the_same_category():
    """A code column read as text when trained on ('2' beside 'unknown') and as numbers in a new table (2, or 2.0 when
    an empty cell makes the column floats) reaches the model as the same categories, and no row is called unseen."""
    known = {"grade": ["1", "2", "unknown"]}
    as_text = pd.DataFrame({"grade": ["2", "1", None]})
    as_floats = pd.DataFrame({"grade": [2.0, 1.0, np.nan]})
    as_ints = pd.DataFrame({"grade": [2, 1, 7]})
    expected = input_matrix(as_text, ["grade"], known, where="data")
    assert expected.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert np.array_equal(input_matrix(as_floats, ["grade"], known, where="data"), expected)
    assert np.array_equal(input_matrix(as_ints, ["grade"], known, where="data")[:2], expected[:2])
    assert unseen_categories(as_floats, known) == {}
    assert unseen_categories(as_ints, known) == {"grade": 1}
