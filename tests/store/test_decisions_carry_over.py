"""Corrections and label-issue decisions belong to the dataset's name and item ids, like answers (issue 11)."""

from __future__ import annotations

import numpy as np

from weaklab import SoftLabels


def _run(store, ds, ids, classes=("ham", "spam")):
    run = store.start_run(ds)
    proba = np.tile([0.7, 0.3], (len(ids), 1))
    store.add_soft_labels(ds, SoftLabels(proba, item_ids=np.asarray(ids, dtype=object), class_names=list(classes)),
                          run_id=run)
    return run


def test_decisions_and_corrections_carry_over_to_a_new_version_of_the_data(store):
    """A rejected issue stays rejected, and an accepted one's correction applies, in a run over the edited data."""
    v1 = store.add_dataset("comments", item_ids=np.array(["a", "b", "c"], dtype=object), fingerprint="v1")
    run1 = _run(store, v1, ["a", "b", "c"])
    rejected, accepted = store.add_label_issues(run1, ["a", "b"], method="cl", given=0, suggested=1)
    store.resolve_issue(int(rejected), False, who="ana")
    store.resolve_issue(int(accepted), True, who="ana")
    store.finish_run(run1)
    v2 = store.add_dataset("comments", item_ids=np.array(["d", "b", "a", "c"], dtype=object), fingerprint="v2")
    run2 = _run(store, v2, ["d", "b", "a", "c"])
    store.add_label_issues(run2, ["a", "c"], method="cl", given=0, suggested=1)
    store.finish_run(run2)
    issues = store.label_issues(run2).set_index("item_id")
    assert issues.loc["a", "status"] == "rejected" and issues.loc["a", "decided_in_run"] == run1
    assert issues.loc["c", "status"] == "open"
    story = store.explain("b", run2)
    assert (story["final_from"], story["final_class"]) == ("correction", "spam")
    carried = store.carry_over(v2)
    assert carried["corrections_carried_over"] == 1 and carried["corrections_orphaned"] == 0


def test_a_correction_keeps_its_class_when_the_classes_are_reordered(store):
    """A correction to 'spam' is still 'spam' in a later run whose classes are in another order."""
    ds = store.add_dataset("comments", item_ids=np.array(["a", "b"], dtype=object))
    run1 = _run(store, ds, ["a", "b"])
    store.add_corrections(run1, ["a"], 1, old_labels=0, who="ana")  # 1 = spam in (ham, spam)
    store.finish_run(run1)
    run2 = _run(store, ds, ["a", "b"], classes=("spam", "ham"))
    store.finish_run(run2)
    story = store.explain("a", run2)
    assert (story["final_from"], story["final_class"], story["final_label"]) == ("correction", "spam", 0)


def test_carry_over_counts_skips_apart_from_answers(store):
    """A skipped item is recorded beside the answers, and carry_over says how many of them are skips."""
    ds = store.add_dataset("comments", item_ids=np.array(["a", "b", "c"], dtype=object))
    store.add_annotations(ds, ["a", "b", "c"], "ana", [0, None, 1])
    carried = store.carry_over(ds)
    assert (carried["answers"], carried["skipped"]) == (3, 1)
