"""`weaklab predict` applies a run's recorded end model (rebuilt from arrays, no pickle) to new items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from weaklab.cli import main
from weaklab.endmodel import vote_features
from weaklab.pipeline import Project, init_project
from weaklab.pipeline.end_model_state import TextEndModel, text_model_state, text_vectorizer


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict") / "p"
    init_project(root, n_items=200)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    Project(root).run(until="fit")
    Project(root).run(until="train")
    return root


def _run(root, *args):
    return CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])


def _recorded_end_proba(root, run_id, role="end_model"):
    with Project(root).open_store(read_only=True) as store:
        soft = store.run_records(run_id)["soft_labels"]
        return store.load_soft_labels(int(soft.loc[soft["role"] == role, "soft_labels_id"].iloc[-1])).proba


def test_predict_on_the_projects_own_items_gives_the_probabilities_the_run_recorded(project, tmp_path):
    out = _run(project, "predict", str(project / "data" / "comments.csv"), str(tmp_path / "pred.parquet"))
    assert out.exit_code == 0, out.output
    assert "Wrote 200 prediction(s) of run 2's end model (tfidf_logreg, calibrated probabilities)" in out.output
    predicted = pd.read_parquet(tmp_path / "pred.parquet")
    data = pd.read_csv(project / "data" / "comments.csv")
    assert predicted["comment_id"].tolist() == data["comment_id"].tolist()
    proba = predicted[["p_HAM", "p_SPAM"]].to_numpy()
    assert np.allclose(proba, _recorded_end_proba(project, 2), atol=1e-9)
    assert (predicted["class"] == np.where(proba.argmax(axis=1) == 1, "SPAM", "HAM")).all()


def test_predict_raw_gives_the_end_models_own_probabilities_and_the_same_classes(project, tmp_path):
    out = _run(project, "predict", str(project / "data" / "comments.csv"), str(tmp_path / "raw.parquet"), "--raw")
    assert out.exit_code == 0, out.output
    assert "raw probabilities" in out.output
    raw = pd.read_parquet(tmp_path / "raw.parquet")[["p_HAM", "p_SPAM"]].to_numpy()
    assert np.allclose(raw, _recorded_end_proba(project, 2, "end_model_raw"), atol=1e-9)
    calibrated = _recorded_end_proba(project, 2)
    assert not np.allclose(raw, calibrated, atol=1e-3)  # the calibrator changed the probabilities ...
    assert (raw.argmax(axis=1) == calibrated.argmax(axis=1)).all()  # ... but no predicted class


def test_predict_on_new_texts_without_ids(project, tmp_path):
    pd.DataFrame({"text": ["subscribe to my channel http://spam.example", "what a lovely song"]}).to_csv(
        tmp_path / "new.csv", index=False)
    out = _run(project, "predict", str(tmp_path / "new.csv"), str(tmp_path / "new_pred.csv"))
    assert out.exit_code == 0, out.output
    predicted = pd.read_csv(tmp_path / "new_pred.csv")
    assert list(predicted.columns) == ["label", "class", "p_HAM", "p_SPAM"]
    assert predicted["class"].tolist() == ["SPAM", "HAM"]


def test_predict_without_the_text_column_names_it_and_the_columns_given(project, tmp_path):
    pd.DataFrame({"body": ["hello"]}).to_csv(tmp_path / "wrong.csv", index=False)
    out = _run(project, "predict", str(tmp_path / "wrong.csv"), str(tmp_path / "x.csv"))
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "a column 'text'" in line and "[data].text_field" in line and "['body']" in line, line
    assert not (tmp_path / "x.csv").exists()


def test_predict_with_a_run_without_an_end_model_says_how_to_get_one(project, tmp_path):
    out = _run(project, "predict", str(project / "data" / "comments.csv"), str(tmp_path / "y.csv"), "--run", "1")
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "run 1, which has none" in line and "weaklab train" in line, line


def test_a_store_without_any_end_model_says_to_train(tmp_path):
    root = tmp_path / "q"
    init_project(root, n_items=60)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    Project(root).run(until="fit")
    out = _run(root, "predict", str(root / "data" / "comments.csv"), str(tmp_path / "z.csv"))
    assert out.exit_code == 1 and "got none in the store (`weaklab train` trains one)" in out.output


def test_a_model_reading_votes_is_rebuilt_exactly_from_its_state():
    """The X+votes layout (TF-IDF beside one-hot votes) predicts what the fitted classifier predicts."""
    texts = pd.Series(["free money", "nice song", "free prize now", "good song", "money money", "song of songs"])
    votes = np.array([[1, -1], [-1, 0], [1, 1], [0, -1], [-1, 1], [0, 0]])
    y = [1, 0, 1, 0, 1, 0]
    vec = text_vectorizer({"ngram_max": 2, "min_df": 1})
    import scipy.sparse as sp

    X = sp.hstack([vec.fit_transform(texts), vote_features(votes, 2)], format="csr")
    clf = LogisticRegression(C=4.0).fit(X, y)
    state = text_model_state(vec, clf, params={"ngram_max": 2, "min_df": 1}, features="X+votes", n_classes=2,
                             class_names=["ham", "spam"], source_names=["a", "b"], source_versions=["1", "2"])
    model = TextEndModel.from_state(state)
    assert model.reads_votes
    assert np.allclose(model.predict_proba(texts, votes), clf.predict_proba(X), atol=1e-12)
    with pytest.raises(ValueError, match="votes"):
        model.predict_proba(texts, None)


def test_a_warning_is_one_line_without_a_file_path(tmp_path, monkeypatch):
    """When the run's LFs cannot run on the new table (an LF reads a column it lacks), predict still writes the
    predictions and says why the calibrator pooled the items in one 'warning: ...' line, not as Python's
    file:line UserWarning pointing into click."""
    root = tmp_path / "p"
    init_project(root, n_items=200)
    with open(root / "lfs.py", "a") as fh:
        fh.write('\n\n@labeling_function(fields=["author"])\ndef by_author(x):\n'
                 '    return SPAM if str(x.author).startswith("Gs") else ABSTAIN\n\n\nlfs.append(by_author)\n')
    Project(root).run(until="train")
    pd.DataFrame({"text": ["check out my channel", "nice song"]}).to_csv(tmp_path / "new.csv", index=False)
    monkeypatch.chdir(root)
    out = CliRunner().invoke(main, ["predict", str(tmp_path / "new.csv"), str(tmp_path / "out.csv")])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.output.splitlines() if "by_author" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: run "), out.output
    assert "UserWarning" not in out.output and ".py:" not in out.output
