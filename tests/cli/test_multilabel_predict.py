"""`weaklab predict` on a multilabel run: every label's probability and the predicted label set of new items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab import ValidationError
from weaklab.cli import main
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel_predict import predict_multilabel_items

from .conftest import RECIPE_LABELS as LABELS
from .conftest import write_recipe_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mlpredict") / "recipes"
    write_recipe_project(root)
    run = Project(root).run("train")
    return root, run.run_id


def _cli(root, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])


def _recorded(root, run_id: int, role: str) -> np.ndarray:
    with Project(root).open_store(read_only=True) as store:
        sets = store.label_sets(run_id)
        return store.load_label_proba(int(sets.loc[sets["role"] == role, "label_set_id"].iloc[-1]))


def test_predict_on_the_projects_items_gives_the_probabilities_the_run_recorded(project, tmp_path) -> None:
    """Each p_<label> equals the end model's recorded P(label applies); labels are those at 0.5 or more."""
    root, run_id = project
    out = _cli(root, "predict", str(root / "data" / "recipes.csv"), str(tmp_path / "pred.parquet"))
    assert out.exit_code == 0, out.output
    assert f"of run {run_id}'s end model (tfidf_logreg, raw probabilities" in out.output
    assert "multilabel runs fit no calibrator" in out.output
    predicted = pd.read_parquet(tmp_path / "pred.parquet")
    assert list(predicted.columns) == ["recipe_no", "labels", "n_labels", "p_vegan", "p_spicy", "p_quick"]
    proba = predicted[["p_vegan", "p_spicy", "p_quick"]].to_numpy()
    assert np.allclose(proba, _recorded(root, run_id, "end_model"), atol=1e-6)
    expected = ["|".join(n for n, p in zip(LABELS, row) if p >= 0.5) or "-" for row in proba]
    assert predicted["labels"].tolist() == expected
    assert (predicted["n_labels"] == (proba >= 0.5).sum(axis=1)).all()
    for label in LABELS:  # the summary line counts each label's predicted items
        assert f"{int((proba[:, LABELS.index(label)] >= 0.5).sum())} {label}" in out.output


def test_predict_on_new_texts_without_ids_writes_jsonl(project, tmp_path) -> None:
    """New recipes without the id column get label sets that follow their words (JSON lines output)."""
    root, _ = project
    pd.DataFrame({"description": ["tofu lentils chili harissa", "salt water bowl"]}).to_csv(
        tmp_path / "new.csv", index=False)
    out = _cli(root, "predict", str(tmp_path / "new.csv"), str(tmp_path / "new.jsonl"))
    assert out.exit_code == 0, out.output
    predicted = pd.read_json(tmp_path / "new.jsonl", lines=True)
    assert "recipe_no" not in predicted.columns and len(predicted) == 2
    assert {"vegan", "spicy"} <= set(predicted["labels"][0].split("|"))
    assert predicted["p_vegan"][0] > predicted["p_vegan"][1] and predicted["p_spicy"][0] > predicted["p_spicy"][1]


def test_predict_without_the_text_column_names_it(project, tmp_path) -> None:
    """Data without [data].text_field fails in one line naming the column expected and the columns given."""
    root, _ = project
    pd.DataFrame({"text": ["tofu"]}).to_csv(tmp_path / "wrong.csv", index=False)
    out = _cli(root, "predict", str(tmp_path / "wrong.csv"), str(tmp_path / "x.csv"))
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "a column 'description'" in line and "['text']" in line, line
    assert not (tmp_path / "x.csv").exists()


def test_predict_on_a_run_without_an_end_model_says_how_to_get_one(tmp_path) -> None:
    """A multilabel run that stopped at fit has no end model: the error names the run and `weaklab train`."""
    root = tmp_path / "recipes"
    write_recipe_project(root, n=60)
    run = Project(root).run("fit")
    out = _cli(root, "predict", str(root / "data" / "recipes.csv"), str(tmp_path / "p.csv"),
               "--run", str(run.run_id))
    assert out.exit_code == 1 and f"run {run.run_id}, which has none" in out.output
    assert "weaklab train" in out.output


def test_threshold_outside_zero_one_is_refused(project) -> None:
    """predict_multilabel_items' threshold must lie in (0, 1); the message names the parameter and the value."""
    root, run_id = project
    with Project(root).open_store(read_only=True) as store, \
            pytest.raises(ValidationError, match=r"threshold: expected a number in \(0, 1\), got 1.5"):
        predict_multilabel_items(store, run_id, pd.DataFrame({"description": ["x"]}), threshold=1.5)
