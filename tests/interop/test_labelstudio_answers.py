"""Label Studio 1.23.2 exports stored by identity: edits supersede, disagreements never resolve by order,
skipped tasks are recorded, exported tasks stay pending, gold items are not exported (issue 11, items 3, 16-18)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.interop.labelstudio import export_label_studio, import_label_studio
from weaklab.pipeline import Project, init_project
from weaklab.store import Store

#: Items of the exports (task id -> comment id), see the README of the exports folder.
TASK = {1: "z122wfnzgt30fhubn04cdn3xfx2mxzngsl40k", 2: "z13bgdvyluihfv11i22rgxwhuvabzz1os04",
        3: "z13tj514otzlurfbc04ccjwhrnmej1iihqw0k", 6: "z13mcpkzpoz1hj3o304cfd3oouf2tj1rnk40k",
        7: "z121cnnzhsybzjkt122nsviacsekvvt1r", 9: "z12jud4o3n34v5wph04ce3db0y2njn55gog0k"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The `weaklab init` project (600 comments) after one fit with majority vote and no end model."""
    root = tmp_path_factory.mktemp("ls") / "project"
    init_project(root)
    config = root / "weaklab.toml"
    text = config.read_text() + '\n[label_model]\nname = "MajorityVote"\n'
    text = text.replace('name = "tfidf_logreg"', 'name = "none"')
    config.write_text(text.replace("params = { C = 4.0 }\n", ""))
    Project(root).run("fit")
    return root


@pytest.fixture
def project(template, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(template, root)
    return root


@pytest.fixture
def ls(dataset):
    return dataset("labelstudio_1.23.2")


def _import(root, *files):
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        return [import_label_studio(store, f, dataset_id=1) for f in files]


def _final(root, item, story=None):
    """The final label of an item after a new fit (the answers are its gold)."""
    run = Project(root).run("fit")
    with Store(root / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        found = store.explain(item, run.run_id)
    if story is not None:
        story.update(found)
    return found["final_class"], found["final_from"], run


def test_an_edit_in_place_supersedes_the_answer_and_a_revert_restores_it(project, ls):
    """Same annotation id with a newer updated_at replaces the old answer (kept in history), also when reverted."""
    _import(project, ls / "p1_json.json", ls / "s_update_json.json")
    assert _final(project, TASK[2])[:2] == ("SPAM", "annotation")
    _import(project, ls / "s_revert_json.json")
    label, origin, run = _final(project, TASK[2])
    assert (label, origin) == ("HAM", "annotation")
    with Store(project / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        history = store.annotations(1, item_id=TASK[2])
    assert history["class_name"].tolist() == ["HAM", "SPAM", "HAM"]
    assert history["current"].tolist() == [False, False, True]
    assert run.metrics["label_model"]["n_gold_for_fit"] == 5   # tasks 1-5; 6 skipped, 7 a 1-1 tie


def test_imports_in_any_order_and_format_give_the_same_answers(template, tmp_path, ls):
    """JSON and JSON_MIN of one project, in either order, store the same current answers once."""
    finals = []
    for order in [("s_update_json.json", "s_update_jsonmin.json"), ("s_update_jsonmin.json", "s_update_json.json"),
                  ("s_revert_json.json", "s_update_json.json"), ("s_update_json.json", "s_revert_json.json")]:
        root = tmp_path / "-".join(order)
        shutil.copytree(template, root)
        _import(root, *(ls / name for name in order))
        with Store(root / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
            current = store.annotations(1)
        current = current[current["current"]]
        finals.append(sorted(zip(current["item_id"], current["annotator"], current["class_name"])))
    assert finals[0] == finals[1]
    assert finals[2] == finals[3]
    assert (TASK[2], "1", "HAM") in finals[2] and (TASK[2], "1", "SPAM") in finals[0]


def test_a_disagreement_is_left_open_and_flagged_whatever_the_format(template, tmp_path, ls):
    """A 1-1 disagreement is not gold in JSON nor JSON_MIN (no storage-order winner) and is listed."""
    outcomes = []
    for name in ("s_disagree_json.json", "s_disagree_jsonmin.json"):
        root = tmp_path / name
        shutil.copytree(template, root)
        _import(root, ls / name)
        label, origin, run = _final(root, TASK[7])
        outcomes.append((label, origin, run.metrics["label_model"]["n_gold_for_fit"]))
        out = CliRunner().invoke(main, ["annotate", "disagreements", "--json", "--store",
                                        str(root / ".weaklab" / "weaklab.duckdb")])
        assert out.exit_code == 0, out.output
        flagged = json.loads(out.stdout)
        assert [d["item_id"] for d in flagged["items"]] == [TASK[7]]
        assert flagged["items"][0]["status"] == "tie"
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] != "annotation" and outcomes[0][2] == 5


def test_a_third_answer_resolves_a_disagreement_by_plurality(project, ls):
    """Two annotators against one: the plurality is gold, and the item stays listed as a disagreement."""
    _import(project, ls / "s_disagree_json.json")
    with Store(project / ".weaklab" / "weaklab.duckdb") as store:
        store.add_annotations(1, [TASK[7]], "carol", ["SPAM"])
    label, origin, _ = _final(project, TASK[7])
    assert (label, origin) == ("SPAM", "annotation")
    with Store(project / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        flagged = store.disagreements(1)
    assert flagged["item_id"].tolist() == [TASK[7]] and flagged["status"].tolist() == ["majority"]


def test_skipped_tasks_are_recorded_as_skipped(project, ls):
    """A cancelled annotation is stored as a skip (no label) and is neither gold nor sent again."""
    _import(project, ls / "s_skip_json.json")
    with Store(project / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        skipped = store.annotations(1, item_id=TASK[6])
    assert skipped["status"].tolist() == ["skipped"] and skipped["class_name"].isna().all()
    assert _final(project, TASK[6])[1] != "annotation"


def test_exported_items_stay_pending_and_gold_items_are_not_exported(project, tmp_path):
    """A second export sends other items than the first (still unanswered), and never a dev item with gold."""
    store_path = project / ".weaklab" / "weaklab.duckdb"
    data = pd.read_csv(project / "data" / "comments.csv")
    dev_ids = set(data.loc[data["split"] == "dev", "comment_id"])
    with Store(store_path) as store:
        first = export_label_studio(store, 1, tmp_path / "a.json", limit=20)
        second = export_label_studio(store, 1, tmp_path / "b.json", limit=20)
        pending = set(store.pending_items(1))
    a = [t["data"]["item_id"] for t in json.loads((tmp_path / "a.json").read_text())]
    b = [t["data"]["item_id"] for t in json.loads((tmp_path / "b.json").read_text())]
    assert first.n_tasks == second.n_tasks == 20 and int(first) == 20
    assert not set(a) & set(b)
    assert not (set(a) | set(b)) & dev_ids
    assert pending == set(a) | set(b)


def test_answered_items_are_no_longer_pending(project, ls, tmp_path):
    """Importing the answers of an exported batch takes those items off the pending list."""
    with Store(project / ".weaklab" / "weaklab.duckdb") as store:
        export_label_studio(store, 1, tmp_path / "a.json", item_ids=[TASK[1], TASK[2], TASK[3], TASK[6]])
        assert set(store.pending_items(1)) == {TASK[1], TASK[2], TASK[3], TASK[6]}
        import_label_studio(store, ls / "s_skip_json.json", dataset_id=1)
        assert store.pending_items(1) == []


def test_a_label_studio_import_through_the_cli_keeps_its_meaning_when_classes_are_reordered(project, ls):
    """Answers imported with `weaklab annotate import` keep their class names after [labels].classes changes."""
    out = CliRunner().invoke(main, ["annotate", "import", str(ls / "p1_json.json"), "--store",
                                    str(project / ".weaklab" / "weaklab.duckdb")])
    assert out.exit_code == 0, out.output
    config = project / "weaklab.toml"
    config.write_text(config.read_text().replace('classes = ["HAM", "SPAM"]', 'classes = ["SPAM", "HAM"]'))
    story: dict = {}
    assert _final(project, TASK[3], story)[:2] == ("SPAM", "annotation")
    assert story["class_names"] == ["SPAM", "HAM"]
    assert _final(project, TASK[2])[:2] == ("HAM", "annotation")
