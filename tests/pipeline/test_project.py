"""Project: config validation, recorded steps, reuse, annotations as gold, issues and queries."""

from __future__ import annotations

import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project, init_project, load_config
from weaklab.store import Store


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("project")
    init_project(path, n_items=240)
    return path


def _write(root, old, new):
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace(old, new))


def test_config_errors_name_file_and_key(tmp_path):
    """Missing files, bad TOML, unknown tables, wrong types and bad choices name the file and key."""
    with pytest.raises(ValidationError, match="weaklab init"):
        load_config(tmp_path)
    init_project(tmp_path, n_items=40)
    cases = {'[project]': ('[projekt]', "unknown table"),
             'id_column = "comment_id"': ('id_column = 3', "data.id_column"),
             'name = "tfidf_logreg"': ('name = "bert"', "end_model.name: expected one of"),
             '[labels]\nclasses = ["HAM", "SPAM"]': ('[labels]\nclasses = ["HAM"]', "labels.classes"),
             'path = "data/comments.csv"': ('path = "data/comments.csv', "valid TOML")}
    original = (tmp_path / "weaklab.toml").read_text()
    for old, (new, message) in cases.items():
        (tmp_path / "weaklab.toml").write_text(original.replace(old, new))
        with pytest.raises(ValidationError, match=message) as info:
            load_config(tmp_path)
        assert "weaklab.toml" in str(info.value)


def test_missing_columns_and_bad_gold_are_named(tmp_path):
    """A data column named in the config but absent, or an unknown gold label, is a clear error."""
    init_project(tmp_path, n_items=40)
    _write(tmp_path, 'text_field = "text"', 'text_field = "body"')
    with pytest.raises(ValidationError, match=r"data.text_field.*'body'"):
        Project(tmp_path).run("apply")
    _write(tmp_path, 'text_field = "body"', 'text_field = "text"')
    data = tmp_path / "data" / "comments.csv"
    lines = data.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 2)[0] + ",7," + lines[1].rsplit(",", 1)[1]
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError, match=r"column 'label'.*got '?7'? on row 0"):
        Project(tmp_path).run("apply")


def test_full_run_records_every_step(root):
    """A run up to query records matrix, label model, soft labels, end model, issues and a review queue."""
    result = Project(root).run("query")
    assert result.steps == ["apply", "analyse", "fit", "train", "issues", "query"]
    em = result.metrics["end_model"]
    assert em["accuracy"] > 0.75 and 0 <= em["ece_after"] <= 1
    if em["n_dev"] >= 30:  # enough dev gold: the recipe chose on it and says what and why (issue 15)
        assert em["recipe"]["choice"] in ("end_model", "combined", "label_model")
        assert "validation items" in em["recipe"]["reason"] and em["recipe"]["candidates"]
    assert len(result.query) == 20 and len(set(result.query)) == 20
    with Store(Project(root).store_path, read_only=True) as store:
        records = store.run_records(result.run_id)
        assert len(records["label_model_runs"]) == 1 and len(records["end_model_runs"]) == 1
        assert set(records["soft_labels"]["role"]) == {"label_model", "end_model", "end_model_raw", "issues_judge"}
        assert store.n_label_issues(result.run_id) == len(result.issues)
        assert set(store.source_history("kw_song").columns) >= {"coverage", "conflicts", "est_accuracy", "decides"}
    data = pd.read_csv(root / "data" / "comments.csv")
    dev_ids = set(data.loc[data["split"] == "dev", "comment_id"])
    assert dev_ids and not dev_ids & set(result.query)


def test_annotations_become_gold_of_the_next_fit(root):
    """Human answers stored for the dataset are counted as gold and force a refit."""
    project = Project(root)
    first = project.run("fit")
    with project.open_store() as store:
        ids = store.load_item_ids(first.dataset_id)[:3]
        store.add_annotations(first.dataset_id, ids, "ana", [1, 0, 1], origin="review")
    second = project.run("fit")
    assert second.reused == {"apply": True, "fit": False}
    assert second.metrics["label_model"]["n_gold_for_fit"] == 3
    assert second.metrics["label_model"]["gold_sampling"] == "active"  # review-queue answers: a ranked sample
    third = project.run("fit")
    assert third.reused == {"apply": True, "fit": True}


def test_imported_answers_are_fitted_as_a_random_sample(root):
    """Answers imported from a file (not chosen by the review ranking) reach the fit with gold_sampling='random'."""
    project = Project(root)
    first = project.run("fit")
    with project.open_store() as store:
        ids = store.load_item_ids(first.dataset_id)[:3]
        store.add_annotations(first.dataset_id, ids, "ana", [1, 0, 1], origin="import")
    second = project.run("fit")
    assert second.metrics["label_model"]["n_gold_for_fit"] == 3
    assert second.metrics["label_model"]["gold_sampling"] == "random"


def test_scaffold_follows_a_renamed_text_column(tmp_path):
    """After renaming the text column (data and [data].text_field), the scaffold's own functions are named in a
    clear error until its TEXT constant follows; the templates follow the config by themselves."""
    init_project(tmp_path, n_items=60)
    data = tmp_path / "data" / "comments.csv"
    pd.read_csv(data).rename(columns={"text": "body"}).to_csv(data, index=False)
    _write(tmp_path, 'text_field = "text"', 'text_field = "body"')
    with pytest.raises(ValidationError, match=r"'shouting'.*'text'.*text column is 'body'"):
        Project(tmp_path).run("apply")
    lfs = tmp_path / "lfs.py"
    lfs.write_text(lfs.read_text().replace('TEXT = "text"', 'TEXT = "body"'))
    result = Project(tmp_path).run("apply")
    with Store(Project(tmp_path).store_path, read_only=True) as store:
        matrix = store.load_matrix(result.metrics["application_id"])
    coverage = dict(zip(matrix.source_names, matrix.votes_per_source()))
    assert coverage["kw_my_channel"] > 0 and coverage["re_link"] > 0 and coverage["short_comment"] > 0


def test_empty_gold_cells_of_a_string_column_are_unknown(tmp_path, msgs_project_writer):
    """A gold column read as pandas strings (empty cells are pd.NA, as the Dask engine reads partitions) gives
    -1 there and the class id of each name elsewhere."""
    from weaklab.pipeline.loading import gold_labels

    msgs_project_writer(tmp_path, 8, 4)
    frame = pd.DataFrame({"truth": pd.array(["junk", pd.NA, "fine", None, ""], dtype="string")})
    assert gold_labels(load_config(tmp_path), frame, 2).tolist() == [1, -1, 0, -1, -1]
