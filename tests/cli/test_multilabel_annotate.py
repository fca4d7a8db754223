"""Terminal `weaklab annotate` on a multilabel run: a line of label numbers or names per item, stored as it is given."""

from __future__ import annotations

import json

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.cli.terminal_labels import parse_label_answer
from weaklab.pipeline import Project

from .conftest import RECIPE_LABELS, write_recipe_project


@pytest.fixture()
def fitted(tmp_path):
    root = tmp_path / "recipes"
    write_recipe_project(root, n=90)
    return root, Project(root).run("fit").run_id


def _annotate(root, text: str, *args: str):
    return CliRunner().invoke(main, ["annotate", "--annotator", "ada", *args, "--store",
                                     str(root / ".weaklab" / "weaklab.duckdb")], input=text)


def _answers(root, run):
    with Project(root).open_store(read_only=True) as store:
        return store.label_set_answers(int(store.run(run)["dataset_id"]))


def test_each_line_is_stored_as_a_label_set_answer_with_lineage(fitted) -> None:
    """Numbers, names, Enter (the marked labels), '-' (none) and s (skip) each store one answer as given."""
    root, run = fitted
    out = _annotate(root, "1 3\nspicy\n\n-\ns\nq\n", "--limit", "6")
    assert out.exit_code == 0, out.output
    assert "Saved 4 answer(s) as ada (1 skipped)" in out.output
    answers = _answers(root, run)
    assert answers["status"].tolist() == ["answered"] * 4 + ["skipped"]
    assert answers["labels"].map(list).tolist()[:2] == [["vegan", "quick"], ["spicy"]]
    assert answers["labels"].map(list).tolist()[3] == []
    assert set(answers["origin"]) == {"terminal"} and set(answers["run_id"]) == {run}
    assert set(answers["annotator"]) == {"ada"} and answers["label_set_id"].notna().all()
    third = str(answers["item_key"].iloc[2])
    story = json.loads(CliRunner().invoke(main, ["explain", third, "--json", "--store",
                                                  str(root / ".weaklab" / "weaklab.duckdb")]).output)
    marked = [n for n, p in story["label_model"]["proba"].items() if p is not None and p >= 0.5]
    assert answers["labels"].map(list).iloc[2] == marked  # Enter accepted what was marked


def test_answered_items_are_not_offered_again_and_dev_items_only_on_request(fitted) -> None:
    """A second session starts after the answered items; items with gold come only with --include-gold."""
    root, run = fitted
    _annotate(root, "1\n2\nq\n", "--limit", "5")
    first = set(_answers(root, run)["item_key"].astype(str))
    _annotate(root, "3\nq\n", "--limit", "5")
    answers = _answers(root, run)
    assert len(answers) == 3 and str(answers["item_key"].iloc[2]) not in first
    tags = pd.read_csv(root / "data" / "recipes.csv", keep_default_na=False).set_index("recipe_no")["tags"]
    assert all(tags[k] == "" for k in answers["item_key"])  # no dev item (the rows with gold) was offered
    out = _annotate(root, "q\n", "--include-gold", "--limit", "200")
    assert "item" in out.output and "Saved 0 answer(s)" in out.output


def test_a_wrong_word_is_explained_and_asked_again(fitted) -> None:
    """A word that is not a label number or name prints what is expected, stores nothing, and asks again."""
    root, run = fitted
    out = _annotate(root, "sweet\n2\nq\n", "--limit", "3")
    assert f"expected label numbers 1-{len(RECIPE_LABELS)} or names of" in out.output and "got 'sweet'" in out.output
    assert _answers(root, run)["labels"].map(list).tolist() == [["spicy"]]


def test_back_answers_the_previous_item_again_and_the_latest_answer_counts(fitted) -> None:
    """b returns to the previous item; its new answer is stored after the first and is the one explain uses."""
    root, run = fitted
    _annotate(root, "1\nb\n2 3\nq\n", "--limit", "3")
    answers = _answers(root, run)
    assert answers["item_key"].nunique() == 1 and answers["labels"].map(list).tolist() == [["vegan"], ["spicy",
                                                                                                      "quick"]]
    story = json.loads(CliRunner().invoke(main, ["explain", str(answers["item_key"].iloc[0]), "--json", "--store",
                                                  str(root / ".weaklab" / "weaklab.duckdb")]).output)
    assert story["final_labels"] == ["spicy", "quick"]


def test_parse_label_answer_names_commands_and_refuses_out_of_range_numbers() -> None:
    """Numbers outside 1..K are refused like unknown names; s, b and q are commands."""
    assert [parse_label_answer(c, ["a"], []) for c in ("s", "B", "q")] == ["skip", "back", "quit"]
    with pytest.raises(click.BadParameter, match="got '3'"):
        parse_label_answer("3", ["a", "b"], [])


def _cli(root, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])


def test_disagreements_list_differing_label_sets_until_adjudicated(fitted) -> None:
    """Two annotators' different label sets on an item are listed (open, with the labels that differ); an
    adjudication settles it and becomes the item's final label set; agreeing answers are not listed."""
    root, run = fitted
    with Project(root).open_store() as store:
        dataset = int(store.run(run)["dataset_id"])
        for who, item, labels in (("ada", "r001", ["vegan"]), ("bo", "r001", ["vegan", "spicy"]),
                                  ("ada", "r002", ["quick"]), ("bo", "r002", ["quick"])):
            store.add_label_set_answer(dataset, item, who, labels, label_names=list(RECIPE_LABELS))
    found = json.loads(_cli(root, "annotate", "disagreements", "--json").output)
    assert found["kind"] == "multilabel" and [r["item_id"] for r in found["items"]] == ["r001"]
    row = found["items"][0]
    assert row["status"] == "open" and row["labels_differ"] == ["spicy"]
    assert {a["annotator"]: a["labels"] for a in row["answers"]} == {"ada": ["vegan"], "bo": ["vegan", "spicy"]}
    out = _cli(root, "annotate", "adjudicate", "r001", "spicy|vegan", "--by", "cy")
    assert out.exit_code == 0 and "adjudicated as vegan|spicy by cy" in out.output
    settled = json.loads(_cli(root, "annotate", "disagreements", "--json").output)["items"][0]
    assert settled["status"] == "adjudicated"
    story = json.loads(_cli(root, "explain", "r001", "--json").output)
    assert story["final_labels"] == ["vegan", "spicy"] and story["final_from"] == "annotation"


def test_adjudicate_refuses_a_label_the_run_does_not_have(fitted) -> None:
    """A label set naming an unknown label fails in one line listing the labels; nothing is stored."""
    root, run = fitted
    out = _cli(root, "annotate", "adjudicate", "r001", "vegan|sweet", "--by", "cy")
    assert out.exit_code == 1 and "expected label names of ['vegan', 'spicy', 'quick']" in out.output
    assert _answers(root, run).empty


def test_blind_review_hides_voters_and_probabilities_and_wants_an_explicit_answer(fitted) -> None:
    """With [review].show_suggestion = false no P or voters show, nothing is marked, and an empty line is refused
    (it would otherwise pass the unseen suggestion off as an answer); typed labels are stored."""
    root, run = fitted
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + "\n[review]\nshow_suggestion = false\n")
    out = _annotate(root, "\n2\nq\n", "--limit", "3")
    assert out.exit_code == 0, out.output
    assert "blind review" in out.output and " P " not in out.output and "present:" not in out.output
    assert "[review].show_suggestion = false" in out.output
    assert "[x]" not in out.output and "got an empty line" in out.output
    assert _answers(root, run)["labels"].map(list).tolist() == [["spicy"]]
