"""Label Studio exchange of a multilabel run: multiple-choice tasks out, label-set answers (with lineage) back."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.interop.labelstudio import parse_label_studio_multilabel
from weaklab.pipeline import Project

from .conftest import RECIPE_LABELS, write_recipe_project


def _cli(root, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])


@pytest.fixture()
def exported(tmp_path):
    """A fitted recipe project and a batch of 4 tasks exported from it."""
    root = tmp_path / "recipes"
    write_recipe_project(root, n=90)
    run = Project(root).run("fit").run_id
    out = _cli(root, "annotate", "export", "-o", str(tmp_path / "batch" / "tasks.json"), "--limit", "4")
    assert out.exit_code == 0, out.output
    return root, run, tmp_path / "batch"


def _answer(task: dict, user: int, labels: list[str], *, cancelled: bool = False) -> dict:
    """An annotation as Label Studio 1.23.2 writes it in a JSON export (integer user ids)."""
    result = [] if cancelled or not labels else [{"from_name": "labels", "to_name": "text", "type": "choices",
                                                  "value": {"choices": labels}}]
    return {"id": 100 + user, "completed_by": user, "was_cancelled": cancelled, "result": result,
            "created_at": "2026-12-07T10:00:00.000000Z", "updated_at": "2026-12-07T10:00:00.000000Z"}


def test_export_writes_multiple_choice_tasks_least_certain_first_without_dev_items(exported) -> None:
    """The config has Choices with choice="multiple" over the labels; tasks carry predictions of the labels at
    P >= 0.5; no item with a gold label set is sent; the exported items are pending (a second batch skips them)."""
    root, run, folder = exported
    config = (folder / "tasks.label_config.xml").read_text()
    assert 'choice="multiple"' in config and all(f'<Choice value="{n}"/>' in config for n in RECIPE_LABELS)
    assert 'value="$description"' in config
    tasks = json.loads((folder / "tasks.json").read_text())
    table = pd.read_csv(root / "data" / "recipes.csv", keep_default_na=False).set_index("recipe_no")
    assert len(tasks) == 4 and all(table.loc[t["data"]["item_id"], "tags"] == "" for t in tasks)
    assert tasks[0]["data"]["description"] == table.loc[tasks[0]["data"]["item_id"], "description"]
    scores = [t["predictions"][0]["score"] for t in tasks]
    assert scores == sorted(scores) and tasks[0]["meta"]["weaklab_run"] == run
    again = _cli(root, "annotate", "export", "-o", str(folder / "tasks2.json"), "--limit", "4")
    assert "4 sent in an earlier batch" in again.output
    second = {t["data"]["item_id"] for t in json.loads((folder / "tasks2.json").read_text())}
    assert not second & {t["data"]["item_id"] for t in tasks}


def test_import_stores_label_set_answers_with_lineage_once(exported) -> None:
    """Each annotation becomes a label-set answer (labels, annotator by name, origin, run, label set shown); a
    cancelled one a skip; an empty one 'none applies'; importing the same export again stores nothing."""
    root, run, folder = exported
    tasks = json.loads((folder / "tasks.json").read_text())
    tasks[0]["annotations"] = [_answer(tasks[0], 1, ["spicy", "vegan"])]
    tasks[1]["annotations"] = [_answer(tasks[1], 3, [], cancelled=True)]
    tasks[2]["annotations"] = [_answer(tasks[2], 1, [])]
    (folder / "export.json").write_text(json.dumps(tasks))
    (folder / "users.json").write_text(json.dumps({"1": "ada", "3": "bo"}))
    out = _cli(root, "annotate", "import", str(folder / "export.json"), "--users", str(folder / "users.json"))
    assert out.exit_code == 0, out.output
    assert "Stored 2 new answer(s) from annotator(s) ada, bo of the 2" in out.output
    assert "1 skip(s) recorded" in out.output
    with Project(root).open_store(read_only=True) as store:
        answers = store.label_set_answers(int(store.run(run)["dataset_id"]))
        sets = store.label_sets(run)
        shown = int(sets.loc[sets["role"] == "label_model", "label_set_id"].iloc[-1])
    by_item = {k: r for k, r in zip(answers["item_key"], answers.to_dict("records"))}
    first = by_item[str(tasks[0]["data"]["item_id"])]
    assert first["labels"] == ["vegan", "spicy"] and first["annotator"] == "ada" and first["status"] == "answered"
    assert first["origin"] == "label_studio" and first["run_id"] == run and first["label_set_id"] == shown
    assert by_item[str(tasks[1]["data"]["item_id"])]["status"] == "skipped"
    assert by_item[str(tasks[2]["data"]["item_id"])]["labels"] == []
    story = json.loads(_cli(root, "explain", str(tasks[0]["data"]["item_id"]), "--json").output)
    assert story["final_labels"] == ["vegan", "spicy"] and story["final_from"] == "annotation"
    again = _cli(root, "annotate", "import", str(folder / "export.json"), "--users", str(folder / "users.json"))
    assert "Stored 0 new answer(s)" in again.output and "Not stored again: 2 already stored" in again.output


def test_import_reads_json_min_single_and_multiple_choices(exported) -> None:
    """JSON_MIN writes one ticked choice as a string and several as {"choices": [...]}; both are read."""
    root, run, folder = exported
    tasks = json.loads((folder / "tasks.json").read_text())
    rows = [{"item_id": tasks[0]["data"]["item_id"], "description": "x", "labels": "quick", "annotator": 1,
             "annotation_id": 5},
            {"item_id": tasks[1]["data"]["item_id"], "description": "y",
             "labels": {"choices": ["quick", "spicy"]}, "annotator": 1, "annotation_id": 6},
            {"item_id": tasks[2]["data"]["item_id"], "description": "z", "annotator": None, "annotation_id": None}]
    (folder / "min.json").write_text(json.dumps(rows))
    out = _cli(root, "annotate", "import", str(folder / "min.json"), "--annotator", "cy")
    assert out.exit_code == 0, out.output
    with Project(root).open_store(read_only=True) as store:
        answers = store.label_set_answers(int(store.run(run)["dataset_id"]))
    assert dict(zip(answers["item_key"], answers["labels"].map(tuple))) == {
        str(tasks[0]["data"]["item_id"]): ("quick",), str(tasks[1]["data"]["item_id"]): ("spicy", "quick")}
    assert set(answers["annotator"]) == {"cy"}


def test_an_unknown_label_is_refused_naming_its_place_and_nothing_is_stored(exported) -> None:
    """A ticked choice that is not a label of the run fails in one line naming where it is; no answer is stored."""
    root, run, folder = exported
    tasks = json.loads((folder / "tasks.json").read_text())
    tasks[0]["annotations"] = [_answer(tasks[0], 1, ["vegan"])]
    tasks[1]["annotations"] = [_answer(tasks[1], 1, ["sweet"])]
    (folder / "bad.json").write_text(json.dumps(tasks))
    out = _cli(root, "annotate", "import", str(folder / "bad.json"), "--annotator", "ada")
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "[1].annotations[0].result[0].value.choices: expected label names of ['vegan', 'spicy', 'quick'], " \
           "got 'sweet'" in out.output
    with Project(root).open_store(read_only=True) as store:
        assert store.label_set_answers(int(store.run(run)["dataset_id"])).empty


def test_parse_leaves_out_tasks_nobody_annotated() -> None:
    """A JSON task without annotations, and a JSON_MIN row without annotation or choice, give no answer."""
    tasks = [{"data": {"item_id": 1, "text": "t"}, "annotations": []},
             {"item_id": 2, "text": "t", "annotator": None, "annotation_id": None}]
    assert parse_label_studio_multilabel(tasks, label_names=list(RECIPE_LABELS)) == []
