"""Lineage queries: runs, source history, explain, diff, issues, annotations and alerts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab import SoftLabels, ValidationError


def _record_run(store, ds, L, *, posterior=True):
    """Record one run of L with a majority-vote posterior; return the run id."""
    run = store.start_run(ds, {"label_model": "MajorityVote"})
    store.add_application(ds, L, run_id=run)
    if posterior:
        counts = L.class_counts() + 0.5
        S = SoftLabels(counts / counts.sum(axis=1, keepdims=True), item_ids=L.item_ids, producer=f"mv-{run}")
        store.add_soft_labels(ds, S, run_id=run)
    return run


def test_runs_are_listed_newest_first_with_pagination(store, spam):
    """runs() lists runs newest first, and offset/limit page through them."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    ids = [store.start_run(ds, {"i": i}) for i in range(5)]
    listed = store.runs()
    assert list(listed["run_id"]) == sorted(ids, reverse=True)
    assert list(listed["dataset"].unique()) == ["spam"]
    assert list(store.runs(offset=1, limit=2)["run_id"]) == sorted(ids, reverse=True)[1:3]
    assert store.latest_run_id(status=None) == max(ids)
    assert store.latest_run_id() is None  # the default is the newest *finished* run
    store.finish_run(ids[1])
    assert store.latest_run_id() == ids[1]


def test_explain_tells_the_whole_story(store, spam):
    """explain returns every vote and version, the posterior, corrections, answers and the final label."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run = _record_run(store, ds, L)
    dense = L.to_dense()
    item = L.item_ids[int(np.flatnonzero((dense >= 0).sum(axis=1) >= 2)[0])]
    story = store.explain(item, run)
    row = list(L.item_ids).index(item)
    voted = np.flatnonzero(dense[row] >= 0)
    expected = {(L.source_names[j], L.source_versions[j], int(dense[row, j])) for j in voted}
    assert {(v["source"], v["version"], v["label"]) for v in story["votes"]} == expected
    assert story["run_id"] == run and story["final_from"] == "label_model"
    assert story["final_label"] == int(np.argmax(story["posterior"]["proba"]))
    assert story["final_class"] == ["ham", "spam"][story["final_label"]]
    json.dumps(story)  # the CLI prints it as JSON

    store.add_corrections(run, [item], 1 - story["final_label"], old_labels=story["final_label"],
                          method="confident_learning", score=0.1, threshold=0.2, who="cleaner",
                          why="low quality")
    corrected = store.explain(item, run)
    assert corrected["final_from"] == "correction" and corrected["final_label"] == 1 - story["final_label"]
    store.add_annotation(ds, item, "alice", story["final_label"], run_id=run)
    answered = store.explain(item, run)
    assert answered["final_from"] == "annotation" and answered["final_label"] == story["final_label"]
    assert answered["annotations"][0]["annotator"] == "alice" and answered["annotations"][0]["used"]


def test_explain_rejects_unknown_items_and_empty_stores(store, spam):
    """explain names item_id for an unknown item and run_id when there is no run."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    with pytest.raises(ValidationError, match="run_id"):
        store.explain("c001")
    store.finish_run(_record_run(store, ds, L))
    with pytest.raises(ValidationError, match="item_id"):
        store.explain("nope")


def test_annotations_after_a_finished_run_are_not_used_by_it(store, spam):
    """An answer given after a run finished is shown but does not change that run's final label."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run = _record_run(store, ds, L)
    store.finish_run(run)
    before = store.explain("c010")
    store.add_annotation(ds, "c010", "bob", 1 - before["final_label"])
    after = store.explain("c010")
    assert after["final_label"] == before["final_label"] and after["annotations"][0]["used"] is False


def test_diff_names_exactly_the_items_a_changed_source_moved(store, spam):
    """With one source at a new version, diff lists exactly the items whose label changed, and why."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run_a = _record_run(store, ds, L)
    dense = L.to_dense().copy()
    flip = np.flatnonzero(dense[:, 2] >= 0)[:15]
    dense[flip, 2] = 1 - dense[flip, 2]
    versions = list(L.source_versions)
    versions[2] = "v2b"
    L_b = L.__class__(dense, n_classes=2, source_names=L.source_names, class_names=L.class_names,
                      item_ids=L.item_ids, source_versions=versions)
    run_b = _record_run(store, ds, L_b)
    changes = store.diff(run_a, run_b)
    expected_a = store.load_soft_labels(1).proba.argmax(axis=1)
    expected_b = store.load_soft_labels(2).proba.argmax(axis=1)
    moved = set(L.item_ids[expected_a != expected_b])
    assert set(changes["item_id"]) == moved and moved <= set(L.item_ids[flip])
    assert all(v == ["lf_2"] for v in changes["versions_changed"])
    assert all("new version of lf_2" in r for r in changes["reason"])
    for _, change in changes.iterrows():
        assert store.explain(change["item_id"], run_b)["final_label"] == change["label_b"]


def test_diff_attributes_corrections_and_annotations(store, spam):
    """diff attributes a change to a correction or an annotation when that is what moved the label."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run_a = _record_run(store, ds, L)
    store.finish_run(run_a)
    run_b = _record_run(store, ds, L)
    a5, a6 = store.explain("c005", run_a)["final_label"], store.explain("c006", run_a)["final_label"]
    store.add_corrections(run_b, ["c005"], 1 - a5, who="x")
    store.add_annotation(ds, "c006", "alice", 1 - a6)
    changes = store.diff(run_a, run_b).set_index("item_id")
    assert set(changes.index) == {"c005", "c006"}
    assert changes.loc["c005", "from_b"] == "correction" and "correction" in changes.loc["c005", "reason"]
    assert changes.loc["c006", "from_b"] == "annotation"


def test_source_history_tracks_coverage_and_accuracy_across_versions(store, spam):
    """source_history gives one row per run with coverage, recorded accuracies and the version used."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run_a = _record_run(store, ds, L)
    store.add_source_stats(run_a, {"lf_0": {"estimated_accuracy": 0.8, "empirical_accuracy": 0.75}})
    run_b = _record_run(store, ds, L.replace(source_versions=["new", *L.source_versions[1:]]))
    store.add_source_stats(run_b, {"lf_0": {"estimated_accuracy": 0.7}})
    history = store.source_history("lf_0")
    assert list(history["run_id"]) == [run_a, run_b] and list(history["version"]) == ["v0a", "new"]
    coverage = float((L.to_dense()[:, 0] >= 0).mean())
    np.testing.assert_allclose(history["coverage"], [coverage, coverage])
    np.testing.assert_allclose(history["estimated_accuracy"], [0.8, 0.7])
    assert history["empirical_accuracy"].isna().tolist() == [False, True]


def test_label_issues_are_paginated_and_resolved(store, spam):
    """label_issues pages by rank; accepting one records a correction, rejecting one records the decision."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run = _record_run(store, ds, L)
    items = L.item_ids[:30]
    ids = store.add_label_issues(run, items, method="confident_learning", given=np.zeros(30, int),
                                 suggested=np.ones(30, int), score=np.linspace(0, 1, 30))
    assert store.n_label_issues(run) == 30
    page = store.label_issues(run, offset=10, limit=10)
    assert list(page["rank"]) == list(range(11, 21)) and list(page["item_id"]) == list(items[10:20])
    correction = store.resolve_issue(int(ids[0]), True, who="alice", why="clearly spam")
    store.resolve_issue(int(ids[1]), False, who="bob")
    first = store.label_issues(run, limit=2)
    assert list(first["status"]) == ["accepted", "rejected"] and first["correction_id"][0] == correction
    assert store.explain(items[0], run)["final_from"] == "correction"
    assert store.corrections(run)["item_id"].tolist() == [items[0]]


def test_annotations_and_alerts_are_listed_and_filtered(store, spam):
    """annotations() and alerts() filter by item, annotator and run; labels are checked against classes."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run = _record_run(store, ds, L)
    store.add_annotations(ds, ["c001", "c002", "c001"], ["ann", "ann", "bea"], [0, 1, 1],
                          origin="label_studio")
    assert len(store.annotations(ds, item_id="c001")) == 2
    assert store.annotations(annotator="bea")["item_id"].tolist() == ["c001"]
    with pytest.raises(ValidationError, match="label"):
        store.add_annotation(ds, "c003", "ann", 2, run_id=run)
    store.add_alert(run, "coverage_drop", "lf_1 coverage fell from 0.5 to 0.1", source="lf_1", value=0.1)
    store.add_alert(None, "note", "store created", severity="info")
    assert store.alerts(run)["kind"].tolist() == ["coverage_drop"]
    assert len(store.alerts()) == 2
