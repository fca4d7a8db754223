"""A tagging run's review batch goes to Label Studio as NER tasks and people's spans come back as span answers."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.errors import ValidationError
from weaklab.interop.labelstudio import (
    export_label_studio_ner,
    import_label_studio_ner,
    is_tagging_run,
    proposed_spans,
    span_decisions,
)
from weaklab.store import Store


@pytest.fixture(scope="module")
def tagging_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated tagging example (60 sentences) run up to fit, once per module."""
    from weaklab.demo.tagging import init_tagging_project
    from weaklab.pipeline import Project

    root = tmp_path_factory.mktemp("ner_exchange") / "ner"
    init_tagging_project(root, n_items=60)
    Project(root).run("fit")
    return root


@pytest.fixture
def project(tagging_template: Path, tmp_path: Path) -> Path:
    """A private copy of the project (tests write exports and answers)."""
    target = tmp_path / "ner"
    shutil.copytree(tagging_template, target)
    return target


def _store(project: Path, read_only: bool = False) -> Store:
    return Store(project / ".weaklab" / "weaklab.duckdb", read_only=read_only)


def _invoke(project: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(project / ".weaklab" / "weaklab.duckdb")],
                              catch_exceptions=False)


def _annotated(tasks: list[dict], types: list[str]) -> list[dict]:
    """An export of the tasks as Label Studio writes it: the first task's proposal accepted as it is, the second
    task's first proposed region given the other type and the rest of it deleted, the third task skipped."""
    out = copy.deepcopy(tasks)
    for i, task in enumerate(out):
        task["id"] = 100 + i
        regions = copy.deepcopy(task["predictions"][0]["result"])
        if i == 1:
            kind = regions[0]["value"]["labels"][0]
            regions = regions[:1]
            regions[0]["value"]["labels"] = [types[(types.index(kind) + 1) % len(types)]]
        task["annotations"] = [{"id": 500 + i, "completed_by": 7, "result": regions, "was_cancelled": i == 2}]
    return out


def test_export_writes_ner_tasks_of_the_proposed_spans(project: Path) -> None:
    """The batch holds no dev (gold) item, least certain first, each with the label model's spans as regions;
    the config is a Labels config; a second batch leaves the pending items out."""
    with _store(project) as store:
        run = int(store.latest_run_id())
        assert is_tagging_run(store, run)
        proposed = proposed_spans(store, run)
        summary = export_label_studio_ner(store, run, project / "tasks.json", limit=5)
        again = export_label_studio_ner(store, run, project / "more.json", limit=5)
    tasks = json.loads((project / "tasks.json").read_text())
    assert summary.n_tasks == 5 and summary.n_gold > 0
    assert again.n_pending == 5
    assert not {t["data"]["item_id"] for t in tasks} & {t["data"]["item_id"]
                                                        for t in json.loads((project / "more.json").read_text())}
    rows = {str(v): i for i, v in enumerate(proposed.item_ids.tolist())}
    scores = [proposed.scores[rows[t["data"]["item_id"]]] for t in tasks]
    assert scores == sorted(scores)
    for task in tasks:
        row = rows[task["data"]["item_id"]]
        assert task["data"]["tokens"] == proposed.tokens[row]
        regions = task["predictions"][0]["result"]
        assert [r["value"]["labels"][0] for r in regions] == [s[2] for s in proposed.spans[row]]
        assert task["meta"] == {"weaklab_run": run, "weaklab_span_set": proposed.span_set_id}
    assert '<Labels name="label" toName="text">' in (project / "tasks.label_config.xml").read_text()


def test_answers_come_back_as_span_answers_with_decisions(project: Path) -> None:
    """Accepted, fixed and skipped tasks are stored as span answers with a decision on every proposed span; the
    same export imported again stores nothing; the next batch leaves those items out as answered or skipped."""
    with _store(project) as store:
        run = int(store.latest_run_id())
        proposed = proposed_spans(store, run)
        rows = {str(v): i for i, v in enumerate(proposed.item_ids.tolist())}
        order = export_label_studio_ner(store, run, project / "all.json")
    tasks = [t for t in json.loads((project / "all.json").read_text()) if t["predictions"][0]["result"]][:3]
    assert order.n_tasks > 3 and len(tasks) == 3
    (project / "export.json").write_text(json.dumps(_annotated(tasks, list(proposed.entity_types))))
    out = _invoke(project, "annotate", "import", str(project / "export.json"), "--annotator", "ada")
    assert out.exit_code == 0, out.output
    assert "Stored 2 new answer(s) from annotator(s) ada" in out.output
    assert "`weaklab train` trains the tagger" in out.output and "weaklab fit" not in out.output
    with _store(project, read_only=True) as store:
        answers = store.span_answers(proposed.dataset_id)
    assert answers["annotator"].tolist() == ["ada"] * 3 and answers["origin"].tolist() == ["label_studio"] * 3
    assert answers["status"].tolist() == ["answered", "answered", "skipped"]
    first, second = (proposed.spans[rows[t["data"]["item_id"]]] for t in tasks[:2])
    assert answers["spans"].iloc[0] == [list(s) for s in first]
    assert [d["decision"] for d in answers["decisions"].iloc[0]] == ["accepted"] * len(first)
    fixed = answers["decisions"].iloc[1]
    assert fixed[0]["decision"] == "fixed" and fixed[0]["fixed_to"][:2] == list(second[0][:2])
    assert fixed[0]["fixed_to"][2] != second[0][2]
    assert [d["decision"] for d in fixed[1:]] == ["rejected"] * (len(second) - 1)
    again = _invoke(project, "annotate", "import", str(project / "export.json"), "--annotator", "ada")
    assert "Stored 0 new answer(s)" in again.output and "2 already stored" in again.output
    with _store(project) as store:
        assert len(store.span_answers(proposed.dataset_id)) == 3
        later = export_label_studio_ner(store, run, project / "later.json")
    assert (later.n_answered, later.n_skipped) == (2, 1)
    assert later.n_pending == order.n_tasks - 3


def test_cli_export_picks_the_ner_exchange_for_a_tagging_run(project: Path) -> None:
    """`weaklab annotate export` of a tagging run writes NER tasks; a file with unknown types is refused."""
    out = _invoke(project, "annotate", "export", "-o", str(project / "cli.json"), "--limit", "2")
    assert out.exit_code == 0, out.output and "Wrote 2 task(s)" in out.output
    tasks = json.loads((project / "cli.json").read_text())
    assert all("tokens" in t["data"] for t in tasks)
    bad = copy.deepcopy(tasks)
    bad[0]["annotations"] = [{"id": 1, "completed_by": 1, "result": [{"from_name": "label", "to_name": "text",
                              "type": "labels", "value": {"start": 0, "end": 1, "labels": ["Gene"]}}]}]
    (project / "bad.json").write_text(json.dumps(bad))
    with _store(project) as store, pytest.raises(ValidationError, match="Gene"):
        import_label_studio_ner(store, project / "bad.json", run_id=int(store.latest_run_id()), annotator="ada")


def test_span_decisions_name_each_proposed_span() -> None:
    """A kept span is accepted, one overlapped by another span fixed to it, one with nothing over it rejected."""
    got = span_decisions([(0, 2, "A"), (4, 5, "A"), (7, 9, "B")], [(0, 2, "A"), (4, 6, "A")])
    assert [d["decision"] for d in got] == ["accepted", "fixed", "rejected"]
    assert got[1]["fixed_to"] == [4, 6, "A"]
    assert span_decisions([], []) == []
