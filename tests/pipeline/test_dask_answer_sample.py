"""A Dask run whose AutoLabelModel fits on a sample (above max_fit_items) records, and the CLI's `weaklab runs` and
the dashboard show, how many human answers reached its fit: imported answers (a random sample) are all forced into
the sample; answers to a review queue are not (a ranked sample, which AutoLabelModel does not use, in a sample or in
memory), so the fit is the same whichever of them fall in the sample, and the pages say none was used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import Project

from .conftest import renamed_project

pytest.importorskip("distributed")
pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app

N_ANSWERS = 40


def _project(tmp_path, cluster):
    """The example project (own column names), 240 items in 4 partitions, AutoLabelModel on at most 100 voted items."""
    root = renamed_project(tmp_path / "p", scheduler=cluster.scheduler_address, partition_rows=60)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "AutoLabelModel"\n'
                      'params = { random_state = 0, max_fit_items = 100 }\n')
    return root


def _answer(root, run, origin):
    data = pd.read_csv(root / "data" / "messages.csv", keep_default_na=False, na_values=[""])
    train = data[data["part"] != "holdout"]
    with Project(root).open_store() as store:
        for item, verdict in zip(train["msg_key"].iloc[::3][:N_ANSWERS], train["verdict"].iloc[::3][:N_ANSWERS]):
            store.add_annotation(run.dataset_id, str(item), "ann", verdict, origin=origin)


def _soft(root, run):
    with Project(root).open_store(read_only=True) as store:
        soft = store.open_partitioned(run.run_id, "soft_labels")
        return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])


def _pages(root, run_id):
    with TestClient(create_app(Project(root).store_path), base_url="http://127.0.0.1") as client:
        page = client.get(f"/label-model?run={run_id}").text
        listed = {r["run_id"]: r for r in client.get("/api/runs").json()["runs"]}[run_id]
    return page, listed["answers_in_fit"]


def _runs_table(root, monkeypatch):
    monkeypatch.chdir(root)
    out = CliRunner().invoke(main, ["runs"], terminal_width=250)
    assert out.exit_code == 0, out.output
    return out.output


def test_ranked_answers_outside_the_sample_are_counted_true_and_change_nothing(dask_cluster, tmp_path, monkeypatch):
    """40 answers to a review queue, a sample of 100 voted items: the run records the 40 given and, as reaching
    the fit, only those in its sample (n_answers_for_fit = n_gold_for_fit = fit_sample n_gold_in_sample < 40, was
    40); the soft labels equal the fit without any answer (AutoLabelModel leaves ranked answers out); `weaklab runs`
    and the dashboard's runs API say 'k of 40' and its label-model page says none was used."""
    root = _project(tmp_path, dask_cluster)
    before = Project(root).run("fit")
    _answer(root, before, "review")
    run = Project(root).run("fit")
    lm = run.metrics["label_model"]
    seen = lm["fit_sample"]
    assert seen["sampled"] and seen["n_gold"] == N_ANSWERS
    assert lm["n_gold_for_fit"] == seen["n_gold_in_sample"] < N_ANSWERS
    assert lm["n_answers_for_fit"] == lm["n_gold_for_fit"] and lm["n_answers"] == N_ANSWERS
    assert lm["gold_sampling"] == "active" and seen["n_random_gold"] == 0
    np.testing.assert_allclose(_soft(root, run), _soft(root, before), atol=1e-12)
    page, counts = _pages(root, run.run_id)
    assert counts == {"given": N_ANSWERS, "in_fit": lm["n_answers_for_fit"]}
    assert f"human answers: {N_ANSWERS}, none used by the fit of AutoLabelModel" in page
    assert f"{lm['n_answers_for_fit']} of {N_ANSWERS}" in _runs_table(root, monkeypatch)


def test_imported_answers_all_reach_a_sampled_fit(dask_cluster, tmp_path, monkeypatch):
    """40 imported answers (a random sample): all are forced into the sample of 100 voted items and reach the fit
    as gold; the record, `weaklab runs`, the runs API and the label-model page say all 40."""
    root = _project(tmp_path, dask_cluster)
    applied = Project(root).run("apply")
    _answer(root, applied, "import")
    run = Project(root).run("fit")
    lm = run.metrics["label_model"]
    assert lm["fit_sample"]["sampled"] and lm["gold_sampling"] == "random"
    assert lm["n_answers"] == lm["n_answers_for_fit"] == lm["n_gold_for_fit"] == N_ANSWERS
    assert lm["fit_sample"]["n_random_gold_in_sample"] == N_ANSWERS
    page, counts = _pages(root, run.run_id)
    assert counts == {"given": N_ANSWERS, "in_fit": N_ANSWERS}
    assert f"human answers: all {N_ANSWERS} reached the fit of AutoLabelModel as gold" in page
    assert f"{N_ANSWERS} of {N_ANSWERS}" in _runs_table(root, monkeypatch)
