"""`weaklab diff` of two multilabel runs: items whose label set changed (added, removed, why), per-label counts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel_diff import diff_label_sets

from .conftest import RECIPE_LABELS, write_recipe_project


def _cli(root, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])


def _final(root, run_id: int) -> dict[str, set[str]]:
    """A run's label-model labels (P >= 0.5) per item id, read from the store directly."""
    with Project(root).open_store(read_only=True) as store:
        sets = store.label_sets(run_id)
        proba = store.load_label_proba(int(sets.loc[sets["role"] == "label_model", "label_set_id"].iloc[-1]))
        ids = store.load_item_ids(int(sets["dataset_id"].iloc[0]))
    return {str(i): {n for n, p in zip(RECIPE_LABELS, row) if p >= 0.5} for i, row in zip(ids, proba)}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory):
    """Run 1 with every LF; run 2 after has_spicy also fires on 'pan' (a new version of that LF)."""
    root = tmp_path_factory.mktemp("mldiff") / "recipes"
    write_recipe_project(root)
    first = Project(root).run("fit").run_id
    rules = root / "rules.py"
    rules.write_text(rules.read_text().replace('["chili", "harissa"]', '["chili", "harissa", "pan"]'))
    second = Project(root).run("fit").run_id
    return root, first, second


def test_diff_lists_exactly_the_items_whose_label_set_changed(two_runs) -> None:
    """The changed items are those whose final labels differ; added/removed are the set differences."""
    root, first, second = two_runs
    out = _cli(root, "diff", str(first), str(second), "--json")
    assert out.exit_code == 0, out.output
    found = json.loads(out.output)
    a, b = _final(root, first), _final(root, second)
    expected = {item for item in a if a[item] != b[item]}
    assert found["kind"] == "multilabel" and found["n_changed"] == len(expected) > 0
    assert {row["item_id"] for row in found["items"]} == expected
    for row in found["items"]:
        assert set(row["added"]) == b[row["item_id"]] - a[row["item_id"]]
        assert set(row["removed"]) == a[row["item_id"]] - b[row["item_id"]]
    assert any("new version of has_spicy" in row["reason"] for row in found["items"])


def test_per_label_counts_add_up(two_runs) -> None:
    """Per label: items carrying it in each run, and n_b = n_a + added - removed."""
    root, first, second = two_runs
    found = json.loads(_cli(root, "diff", str(first), str(second), "--json").output)
    a, b = _final(root, first), _final(root, second)
    by_label = {row["label"]: row for row in found["per_label"]}
    assert list(by_label) == list(RECIPE_LABELS)
    for label, row in by_label.items():
        assert row["n_a"] == sum(label in s for s in a.values()) and row["n_b"] == sum(label in s for s in b.values())
        assert row["n_b"] == row["n_a"] + row["added"] - row["removed"]
    assert by_label["spicy"]["added"] > 0


def test_diff_table_shows_both_label_sets_and_the_counts(two_runs) -> None:
    """The terminal output has the per-label table and one row per changed item, cut at --limit."""
    root, first, second = two_runs
    out = _cli(root, "diff", str(first), str(second), "--limit", "2")
    assert out.exit_code == 0, out.output
    assert f"Per label: items in run {first} -> run {second}" in out.output
    assert "changed label set" in out.output and "first 2 shown" in out.output


def test_an_answer_given_between_runs_is_a_change_from_annotation(tmp_path) -> None:
    """An item answered after run 1 finished takes the answer's labels in run 2; the reason names the annotation."""
    root = tmp_path / "recipes"
    write_recipe_project(root, n=60)
    first = Project(root).run("fit").run_id
    labels = _final(root, first)["r001"]
    answer = sorted(set(RECIPE_LABELS) - labels)[:1]  # a label set run 1 did not give
    with Project(root).open_store() as store:
        store.add_label_set_answer(int(store.run(first)["dataset_id"]), "r001", "ada", answer,
                                   label_names=list(RECIPE_LABELS))
    second = Project(root).run("fit").run_id
    with Project(root).open_store(read_only=True) as store:
        found = diff_label_sets(store, first, second)
    row = found.items[found.items["item_id"] == "r001"].iloc[0]
    assert row["labels_b"] == answer and row["from_a"] == "label_model" and row["from_b"] == "annotation"
    assert row["reason"].startswith("human annotation")
    assert len(found.items) == 1  # same votes, same label model: nothing else moved


def test_a_multilabel_and_a_single_label_run_are_refused(tmp_path) -> None:
    """diff of a multilabel run with a single-label run fails in one line naming the run that is not multilabel."""
    root = tmp_path / "recipes"
    write_recipe_project(root, n=60)
    multi = Project(root).run("fit").run_id
    with Project(root).open_store() as store:
        single = store.start_run(store.add_dataset("spam", item_ids=np.array(["x1", "x2"]), fingerprint="f"))
        store.finish_run(single)
    out = _cli(root, "diff", str(multi), str(single))
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert f"run_b: expected a multilabel run (both runs of a diff must be multilabel), got run {single}" in out.output


def test_a_run_that_did_not_fit_is_refused(tmp_path) -> None:
    """A multilabel run stopped after apply has no label sets to compare: the error says to run `weaklab fit`."""
    root = tmp_path / "recipes"
    write_recipe_project(root, n=60)
    applied = Project(root).run("apply").run_id
    fitted = Project(root).run("fit").run_id
    out = _cli(root, "diff", str(applied), str(fitted))
    assert out.exit_code == 1 and "weaklab fit" in out.output and f"run {applied}" in out.output
