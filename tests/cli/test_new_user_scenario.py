"""The new-user scenario of issue 11 through the `weaklab` command, on a project whose text column is `headline`.

Answers come back from Label Studio; then the data file is edited (answers survive), the classes are
reordered (answers keep their meaning) and a fit is killed mid-run (the run shows as interrupted).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main

ANSWERS = {"s000": "politics", "s001": "sports", "s002": "tech", "s004": "sports"}


def _cli(*args: str) -> dict | list:
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout) if "--json" in args else {}


def _label_studio_answers(tasks_file, answered_file) -> None:
    """Answer the exported tasks the way Label Studio's JSON export writes them (one annotator, user id 1)."""
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    export = []
    for number, task in enumerate(t for t in tasks if t["data"]["item_id"] in ANSWERS):
        choice = ANSWERS[task["data"]["item_id"]]
        when = f"2025-01-02T10:00:{number:02d}.000000Z"
        result = [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]
        export.append({"id": number + 1, "data": task["data"], "annotations": [{
            "id": 100 + number, "completed_by": 1, "result": result, "was_cancelled": False,
            "created_at": when, "updated_at": when}]})
    answered_file.write_text(json.dumps(export), encoding="utf-8")


def _final(item: str) -> tuple[str, str, int]:
    story = _cli("explain", item, "--json")
    return story["final_class"], story["final_from"], story["run_id"]


def test_answers_survive_edits_and_reordering_and_a_killed_fit_is_interrupted(news_project, news_classes,
                                                                              monkeypatch):
    """Edit the data, reorder the classes, kill a fit: answers keep counting and meaning, the dead run is marked."""
    monkeypatch.chdir(news_project)
    _cli("fit", "--json")
    _cli("annotate", "export", "-o", "tasks.json")  # the project's text field (headline), no --text-field
    _label_studio_answers(news_project / "tasks.json", news_project / "answered.json")
    _cli("annotate", "import", "answered.json")
    assert _cli("fit", "--json")["metrics"]["label_model"]["n_gold_for_fit"] == 4

    stories = pd.read_csv("stories.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame([{"story_id": "s900", "headline": "a senate vote", "truth": "politics"}])
    pd.concat([stories, extra]).to_csv("stories.csv", index=False)
    edited = _cli("fit", "--json")
    assert edited["metrics"]["label_model"]["n_gold_for_fit"] == 4
    assert edited["metrics"]["answers"]["carried_over"] == 4
    assert _final("s001")[:2] == ("sports", "annotation")

    news_classes(news_project, ["tech", "sports", "politics"])
    reordered = _cli("fit", "--json")
    assert reordered["metrics"]["label_model"]["n_gold_for_fit"] == 4
    for item, name in ANSWERS.items():
        assert _final(item)[:2] == (name, "annotation")

    pd.concat([stories, extra.assign(story_id="s901")]).to_csv("stories.csv", index=False)  # so the LFs run
    marker = news_project / "slow.started"
    env = {**os.environ, "WEAKLAB_TEST_SLOW": str(marker)}
    child = subprocess.Popen([sys.executable, "-c", "from weaklab.cli import main; main()", "fit"],
                             cwd=news_project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        assert time.monotonic() < deadline, "the fit never reached the slow labeling function"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    runs = _cli("runs", "--json")
    assert runs[0]["status"] == "interrupted"
    completed = next(r["run_id"] for r in runs if r["status"] == "finished")
    assert completed == reordered["run_id"]
    assert _final("s002") == ("tech", "annotation", completed)


def test_disagreements_are_listed_and_adjudicated_from_the_cli(news_project, monkeypatch):
    """`annotate disagreements` lists a 1-1 tie (not gold); `annotate adjudicate` settles it for the next fit."""
    from weaklab.store import Store

    monkeypatch.chdir(news_project)
    first = _cli("fit", "--json")
    with Store(news_project / ".weaklab" / "weaklab.duckdb") as store:
        store.add_annotations(first["dataset_id"], ["s007", "s007"], ["ana", "bo"], ["sports", "tech"])
    listed = _cli("annotate", "disagreements", "--json")
    assert [(d["item_id"], d["status"]) for d in listed["items"]] == [("s007", "tie")]
    assert {a["annotator"]: a["class_name"] for a in listed["items"][0]["answers"]} == {"ana": "sports", "bo": "tech"}
    assert _cli("fit", "--json")["metrics"]["answers"]["n_unresolved"] == 1
    _cli("annotate", "adjudicate", "s007", "tech", "--by", "chief")
    assert _cli("annotate", "disagreements", "--json")["items"] == []
    settled = _cli("fit", "--json")
    assert settled["metrics"]["label_model"]["n_gold_for_fit"] == 1
    assert _final("s007")[:2] == ("tech", "annotation")


def test_fit_says_what_became_of_the_answers_after_an_edit(news_project, monkeypatch):
    """After an answered row is removed and another edited, `weaklab fit` names the orphaned and changed items."""
    from weaklab.store import Store

    monkeypatch.chdir(news_project)
    first = _cli("fit", "--json")
    with Store(news_project / ".weaklab" / "weaklab.duckdb") as store:
        store.add_annotations(first["dataset_id"], ["s001", "s002", "s003"], "ana", ["sports", "tech", "politics"])
    stories = pd.read_csv("stories.csv", dtype=str, keep_default_na=False)
    stories.loc[stories["story_id"] == "s003", "headline"] = "story 3: rewritten"
    stories[stories["story_id"] != "s001"].to_csv("stories.csv", index=False)
    out = CliRunner().invoke(main, ["fit"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "2 carried over from an earlier version" in text
    assert "1 human answer(s) are on items no longer in the data" in text and "s001" in text
    assert "1 answered item(s) changed content since answered" in text and "s003" in text
