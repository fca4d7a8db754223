"""The final label of an item no source voted on is the end model's, once a run trained one (the rule of explain)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import Project


def _final(root, run_id):
    with Project(root).open_store(read_only=True) as store:
        return store.final_labels(run_id), store


def test_unvoted_items_take_the_end_models_class_after_train_and_the_label_models_before(tmp_path,
                                                                                         msgs_project_writer):
    msgs_project_writer(tmp_path, 200, 5)
    fitted = Project(tmp_path).run("fit").run_id
    trained = Project(tmp_path).run("train").run_id
    before, _ = _final(tmp_path, fitted)
    after, _ = _final(tmp_path, trained)
    unvoted = after["n_votes"].to_numpy() == 0
    assert unvoted.any() and (~unvoted).any()
    assert set(before.loc[unvoted, "label_from"]) == {"label_model"}
    assert set(after.loc[unvoted, "label_from"]) == {"end_model"}
    assert set(after.loc[~unvoted, "label_from"]) == set(before.loc[~unvoted, "label_from"]) == {"label_model"}
    assert after.loc[~unvoted, "label"].tolist() == before.loc[~unvoted, "label"].tolist()

    with Project(tmp_path).open_store(read_only=True) as store:
        stories = [store.explain(item, trained) for item in after.loc[unvoted, "item_id"].head(5)]
    for story, label in zip(stories, after.loc[unvoted, "label"].head(5)):
        assert story["final_from"] == "end_model" and story["final_label"] == label
        assert story["final_label"] == int(np.argmax(story["end_model_posterior"]["proba"]))

    out = CliRunner().invoke(main, ["export", str(tmp_path / "labels.csv"), "--store",
                                    str(tmp_path / ".weaklab" / "weaklab.duckdb")])
    assert out.exit_code == 0, out.output
    assert "from end_model" in out.output
    exported = pd.read_csv(tmp_path / "labels.csv")
    end = exported.loc[exported["label_from"] == "end_model", [c for c in exported if c.startswith("end_p_")]]
    assert len(end) == int(unvoted.sum())
    assert (end.to_numpy().argmax(axis=1) == exported.loc[exported["label_from"] == "end_model", "label"]).all()


def test_a_human_answer_still_wins_over_the_end_model_on_an_unvoted_item(tmp_path, msgs_project_writer):
    msgs_project_writer(tmp_path, 200, 5)
    result = Project(tmp_path).run("train")
    with Project(tmp_path).open_store(read_only=True) as store:
        final = store.final_labels(result.run_id)
    row = final[final["n_votes"] == 0].iloc[0]
    other = 1 - int(row["label"])
    with Project(tmp_path).open_store() as store:
        store.add_annotation(result.dataset_id, row["item_id"], "ana", other, run_id=result.run_id)
    rerun = Project(tmp_path).run("train").run_id
    with Project(tmp_path).open_store(read_only=True) as store:
        final = store.final_labels(rerun).set_index("item_id")
        story = store.explain(row["item_id"], rerun)
    assert final.loc[row["item_id"], "label"] == other and final.loc[row["item_id"], "label_from"] == "annotation"
    assert story["final_from"] == "annotation" and story["final_label"] == other


def test_the_item_page_shows_the_end_model_that_labels_an_unvoted_item(tmp_path, msgs_project_writer):
    """The dashboard's lineage page of an item no source voted on says the end model gave its final label."""
    import pytest

    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app

    msgs_project_writer(tmp_path, 200, 5)
    run = Project(tmp_path).run("train").run_id
    final, _ = _final(tmp_path, run)
    unvoted, voted = (final.loc[final["n_votes"] == 0, "item_id"].iloc[0],
                      final.loc[final["n_votes"] > 0, "item_id"].iloc[0])
    with TestClient(create_app(tmp_path / ".weaklab" / "weaklab.duckdb"), base_url="http://127.0.0.1") as client:
        page = client.get(f"/items/{unvoted}?run={run}").text
        other = client.get(f"/items/{voted}?run={run}").text
    assert "(from end_model)" in page and 'id="end-model"' in page
    assert "(from label_model)" in other and 'id="end-model"' not in other
