"""[data].fit_gold is recorded by item id at fit time: editing the data file afterwards (reordering rows, deleting
rows, changing gold) changes neither which items the run's review queues hold back nor what `weaklab doctor`
refits with, and `weaklab doctor` says what in the file no longer matches. A run recorded before the ids were kept
re-derives them (and says so), and `doctor --repair` records them while its data file is unchanged."""

from __future__ import annotations

import pytest

from weaklab.pipeline import Project
from weaklab.pipeline.doctor import doctor
from weaklab.pipeline.fit_gold import run_fit_gold
from weaklab.pipeline.review import gold_items, review_batch
from weaklab.store import connection

N_ITEMS, N_FIT = 60, 10


def _held_and_offered(project: Project, run_id: int) -> tuple[frozenset[str], set[str], str | None]:
    with project.open_store(read_only=True) as store:
        gold = gold_items(store, int(store.run(run_id)["dataset_id"]), run_id)
        items, _ = review_batch(store, run_id, limit=10 * N_ITEMS)
    return gold.ids, {str(i.item_id) for i in items}, gold.note


def test_editing_the_data_file_after_a_fit_changes_no_queue(tmp_path, fit_gold_project, fit_gold_file_edit):
    """After deleting drawn rows, clearing and flipping drawn gold and shuffling the file, the run's queue still
    holds back exactly the dev items and the 10 items whose gold fed its fit (deleted ones included), and offers
    every other item of the run."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    assert len(drawn) == N_FIT
    fit_gold_file_edit(project.config, drawn, dev)
    held, offered, note = _held_and_offered(Project(tmp_path), run_id)
    assert held == dev | drawn and note is None
    assert offered == everything - dev - drawn
    with project.open_store(read_only=True) as store:  # an item's lineage says the gold it gave the fit
        assert {i for i in everything if store.explain(i, run_id)["fit_gold"] is not None} == drawn


def test_doctor_reports_what_in_the_file_no_longer_matches_the_recorded_fit_gold(tmp_path, fit_gold_project,
                                                                                  fit_gold_file_edit):
    """`doctor` on an unedited project says nothing of fit gold; after the edit it names the deleted items and the
    two changed gold labels (then and now), and the store stays healthy (an edited file is no store fault)."""
    project, run_id, _, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    assert doctor(project.store_path).fit_gold == []
    edit = fit_gold_file_edit(project.config, drawn, dev)
    report = doctor(project.store_path)
    assert report.healthy and len(report.fit_gold) == 1
    check = report.fit_gold[0]
    assert check["run_id"] == run_id and check["status"] == "changed" and check["n_items"] == N_FIT
    assert set(check["gone"]) == edit["deleted"]
    cleared, flipped = edit["cleared"], edit["flipped"]
    assert sorted(map(tuple, check["relabelled"])) == sorted([(cleared[0], cleared[1], "(none)"), flipped])
    assert "2 gone from the file" in check["message"] and "--repair changes nothing" in check["message"]


def _forget_recorded_ids(project: Project) -> None:
    """Make the store look as one written before weaklab kept fit gold by id (its runs have no fit-gold set)."""
    with connection(project.store_path) as con:
        con.execute("DELETE FROM fit_gold_items")
        con.execute("DELETE FROM fit_gold_sets")


def test_a_run_recorded_before_ids_were_kept_is_re_derived_and_says_so(tmp_path, fit_gold_project,
                                                                        fit_gold_file_edit):
    """Without recorded ids the queue draws the items again from the unchanged file (the same 10) and its note
    says they are re-derived; doctor says the set is exact and --repair records it, after which an edit of the
    file no longer changes the queue."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    _forget_recorded_ids(project)
    held, _, note = _held_and_offered(project, run_id)
    assert held == dev | drawn and note is not None and "re-derived" in note
    assert [c["status"] for c in doctor(project.store_path).fit_gold] == ["re-derived"]
    repaired = doctor(project.store_path, repair=True)
    assert [c["status"] for c in repaired.fit_gold] == ["recorded by --repair"] and repaired.healthy
    with project.open_store(read_only=True) as store:
        fit = run_fit_gold(store, run_id)
        assert fit.ids == drawn and not fit.rederived
    fit_gold_file_edit(project.config, drawn, dev)
    held, offered, note = _held_and_offered(Project(tmp_path), run_id)
    assert held == dev | drawn and offered == everything - dev - drawn and note is None


def test_a_re_derived_run_whose_file_changed_is_not_recorded_by_repair(tmp_path, fit_gold_project,
                                                                        fit_gold_file_edit):
    """Without recorded ids and with the file edited since the run, doctor says nobody can tell what the fit had
    and --repair records nothing (it would record the wrong items)."""
    project, run_id, _, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    _forget_recorded_ids(project)
    fit_gold_file_edit(project.config, drawn, dev)
    report = doctor(project.store_path, repair=True)
    assert [c["status"] for c in report.fit_gold] == ["re-derived, file changed"]
    with project.open_store(read_only=True) as store:
        assert run_fit_gold(store, run_id).rederived


@pytest.mark.parametrize("fit_gold", [None, '"none"'])
def test_without_fit_gold_nothing_is_recorded_or_reported(tmp_path, fit_gold, fit_gold_project):
    """fit_gold unset or "none": the run records no fit-gold set and doctor says nothing of it."""
    project, run_id, *_ = fit_gold_project(tmp_path, N_ITEMS, fit_gold)
    with project.open_store(read_only=True) as store:
        assert store.fit_gold_record(run_id) is None and store.fit_gold(run_id).empty
        assert run_fit_gold(store, run_id).ids == frozenset()
    assert doctor(project.store_path).fit_gold == []
