"""Review queues and [data].fit_gold: an item whose gold in the data file fed a run's label-model fit is not
offered for review in that run's queues (it counts as gold, as the dev items do), by what the run recorded."""

from __future__ import annotations

import json

import pytest

from weaklab.interop.labelstudio import export_label_studio
from weaklab.pipeline import Project, load_config
from weaklab.pipeline.review import gold_items, review_batch

N_ITEMS, N_FIT = 60, 10


def _queue(project: Project, run_id: int) -> set[str]:
    with project.open_store(read_only=True) as store:
        items, _ = review_batch(store, run_id, limit=10 * N_ITEMS)
    return {str(item.item_id) for item in items}


def test_items_whose_gold_fed_the_fit_are_not_in_the_review_batch_or_a_label_studio_batch(tmp_path, fit_gold_project):
    """With fit_gold = N the N drawn items join the dev items as gold: the review batch (what `weaklab annotate`
    and the dashboard rank) and a Label Studio batch offer every other item once and none of them."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    assert len(drawn) == N_FIT and not drawn & dev
    assert _queue(project, run_id) == everything - dev - drawn
    with project.open_store() as store:
        summary = export_label_studio(store, run_id, tmp_path / "tasks.json")
        held = gold_items(store, run_id=run_id, dataset_id=int(store.run(run_id)["dataset_id"]))
    sent = {t["data"]["item_id"] for t in json.loads((tmp_path / "tasks.json").read_text())}
    assert sent == everything - dev - drawn and summary.n_gold == len(dev) + N_FIT
    assert set(held.ids) == dev | drawn


def test_a_later_fit_gold_edit_does_not_change_an_old_runs_queue(tmp_path, fit_gold_project):
    """The queue of a run holds back the rows that run drew (its recorded option and seed), whatever the config
    says now: raising fit_gold afterwards, or setting it back to "none", leaves the run's queue as it was."""
    _, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    config = tmp_path / "weaklab.toml"
    original = config.read_text()
    for now, read in (("40", 40), ('"none"', "none")):
        config.write_text(original.replace(f"fit_gold = {N_FIT} ", f"fit_gold = {now} "))
        assert load_config(tmp_path).fit_gold == read
        assert _queue(Project(tmp_path), run_id) == everything - dev - drawn


@pytest.mark.parametrize("fit_gold", [None, '"none"'])
def test_without_fit_gold_the_queues_hold_back_the_dev_items_only(tmp_path, fit_gold, fit_gold_project):
    """fit_gold unset (or "none"): the queue is what it was before fit_gold, every item outside dev."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, fit_gold)
    assert not drawn
    assert _queue(project, run_id) == everything - dev
    with project.open_store(read_only=True) as store:
        dataset_id = int(store.run(run_id)["dataset_id"])
        assert gold_items(store, dataset_id, run_id) == gold_items(store, dataset_id)
