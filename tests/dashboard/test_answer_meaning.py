"""Answers given in the dashboard's review queue keep their class when the project's classes are reordered."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project
from weaklab.store import Store


def test_a_review_answer_keeps_its_class_after_the_classes_are_reordered(news_project, news_classes):
    """A 'sports' answer posted in the review queue is still 'sports' (and gold) after reordering the classes."""
    first = Project(news_project).run("fit")
    store_path = Project(news_project).store_path
    with TestClient(create_app(store_path, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        assert client.get("/review").status_code == 200
        csrf = client.cookies.get("weaklab_csrf")
        response = client.post("/review/answer", data={"csrf": csrf, "run": str(first.run_id), "item_id": "s004",
                                                       "label": "1"})  # 1 = sports under politics, sports, tech
        assert response.status_code == 303
    news_classes(news_project, ["sports", "tech", "politics"])
    run = Project(news_project).run("fit")
    with Store(store_path, read_only=True) as store:
        story = store.explain("s004", run.run_id)
        answers = store.annotations(run.dataset_id)
    assert (story["final_class"], story["final_from"]) == ("sports", "annotation")
    assert answers["class_name"].tolist() == ["sports"]


def test_the_item_page_shows_an_answer_in_the_runs_classes_with_the_name_it_was_given_under(news_project,
                                                                                          news_classes):
    """After "sports" is renamed "sport" (and the classes reordered), the lineage table of the new run reads the
    answer as "sport (given as sports)"; the old run's page still reads "sports"."""
    first = Project(news_project).run("fit")
    with Project(news_project).open_store() as store:
        store.add_annotations(first.dataset_id, ["s004"], "ana", ["sports"])
    news_classes(news_project, ["sport", "tech", "politics"], "\n[labels.rename]\nsports = \"sport\"\n")
    run = Project(news_project).run("fit")
    with TestClient(create_app(Project(news_project).store_path), base_url="http://127.0.0.1") as client:
        new = client.get(f"/items/s004?run={run.run_id}").text.split('id="lineage-answers"')[1].split("</table>")[0]
        old = client.get(f"/items/s004?run={first.run_id}").text.split('id="lineage-answers"')[1].split("</table>")[0]
    assert "sport (given as sports)" in new
    assert "<td>sports</td>" in old


def test_disagreements_are_flagged_and_adjudicated_in_the_dashboard(news_project):
    """A 1-1 disagreement is listed on the review page and the item page; an adjudication settles it."""
    first = Project(news_project).run("fit")
    store_path = Project(news_project).store_path
    with Store(store_path) as store:
        store.add_annotations(first.dataset_id, ["s004", "s004"], ["ana", "bo"], ["sports", "tech"])
    with TestClient(create_app(store_path, annotator_default="chief"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        review = client.get("/review").text
        assert 'id="disagreements"' in review and "s004" in review
        item = client.get(f"/items/s004?run={first.run_id}").text
        assert 'id="adjudicate-form"' in item and "tie" in item
        csrf = client.cookies.get("weaklab_csrf")
        response = client.post("/adjudicate", data={"csrf": csrf, "run": str(first.run_id), "item_id": "s004",
                                                     "label": "1"})
        assert response.status_code == 303
        assert "s004" not in client.get("/review").text.split('id="disagreements"')[-1]
    with Store(store_path, read_only=True) as store:
        settled = store.human_labels(first.dataset_id).set_index("item_id")
        answers = store.annotations(first.dataset_id, item_id="s004")
    assert settled.loc["s004", "status"] == "adjudicated" and settled.loc["s004", "class_name"] == "sports"
    assert answers["origin"].tolist()[-1] == "adjudication" and answers["annotator"].tolist()[-1] == "chief"


def test_the_review_queue_offers_again_an_item_whose_text_changed_since_answered(news_project):
    """Issue 11 item 1: an answered item whose headline changed in a new version of the data is flagged for
    re-review: the review queue offers it first (marked), and answering it on the new text ends that."""
    import pandas as pd

    project = Project(news_project)
    first = project.run("fit")
    with project.open_store() as store:
        store.add_annotations(first.dataset_id, ["s000", "s003"], "ana", ["politics", "politics"])
    frame = pd.read_csv(news_project / "stories.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["story_id"] == "s003", "headline"] = "story 3: rewritten after review"
    frame.to_csv(news_project / "stories.csv", index=False)
    second = project.run("fit")
    with TestClient(create_app(project.store_path, annotator_default="bo"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        page = client.get(f"/review?run={second.run_id}").text
        assert 'data-item="s003"' in page and 'id="review-again"' in page and "rewritten after review" in page
        csrf = client.cookies.get("weaklab_csrf")
        response = client.post("/review/answer", data={"csrf": csrf, "run": str(second.run_id), "item_id": "s003",
                                                       "label": "0"})  # the same class as before, on the new text
        assert response.status_code == 303
        after = client.get(f"/review?run={second.run_id}").text
        assert 'data-item="s003"' not in after and 'data-item="s000"' not in after
        assert 'id="review-again"' not in after
    with Store(project.store_path, read_only=True) as store:
        assert store.changed_since_answered(second.dataset_id) == []
        assert store.annotations(second.dataset_id, item_id="s003")["annotator"].tolist() == ["ana", "bo"]


def test_the_item_page_shows_an_answer_by_class_id_in_a_project_without_class_names(tmp_path):
    """Without [labels].classes an answer is a class id of the run: the lineage table shows the id, not
    "(not a class of this run)" beside a final label taken from that very answer."""
    import pandas as pd

    root = tmp_path / "ids"
    root.mkdir()
    pd.DataFrame({"id": [f"i{i}" for i in range(30)],
                  "text": [["good day", "bad day", "meh"][i % 3] for i in range(30)]}).to_csv(root / "d.csv",
                                                                                         index=False)
    (root / "lfs.py").write_text('from weaklab import keyword_lf\n'
                                 'lfs = [keyword_lf(["good"], 1, field="text"), keyword_lf(["bad"], 0, field="text"),'
                                 ' keyword_lf(["day"], 1, field="text")]\n')
    (root / "weaklab.toml").write_text('[data]\npath = "d.csv"\nid_column = "id"\ntext_field = "text"\n\n'
                                       '[lfs]\nmodule = "lfs.py"\n\n[label_model]\nname = "MajorityVote"\n\n'
                                       '[end_model]\nname = "none"\n')
    first = Project(root).run("fit")
    with Project(root).open_store() as store:
        store.add_annotations(first.dataset_id, ["i2"], "ana", [0])
    run = Project(root).run("fit")
    with Store(Project(root).store_path, read_only=True) as store:
        assert store.explain("i2", run.run_id)["final_from"] == "annotation"
    with TestClient(create_app(Project(root).store_path), base_url="http://127.0.0.1") as client:
        table = client.get(f"/items/i2?run={run.run_id}").text.split('id="lineage-answers"')[1].split("</table>")[0]
    assert "<td>ana</td><td>0</td>" in table and "not a class of this run" not in table


def test_the_item_page_shows_a_correction_in_the_runs_classes_after_a_rename(news_project, news_classes):
    """A correction sports -> tech made on the first run reads "sport → tech" on the page of a run in which
    "sports" was renamed "sport" (and the classes reordered), as `weaklab explain` prints it; the first run's page
    still reads "sports → tech"."""
    first = Project(news_project).run("fit")
    with Project(news_project).open_store() as store:
        store.add_corrections(first.run_id, ["s004"], [2], old_labels=[1], who="ann", why="checked")
    news_classes(news_project, ["sport", "tech", "politics"], "\n[labels.rename]\nsports = \"sport\"\n")
    run = Project(news_project).run("fit")
    with TestClient(create_app(Project(news_project).store_path), base_url="http://127.0.0.1") as client:
        pages = [client.get(f"/items/s004?run={r}").text.split('id="lineage-corrections"')[1].split("</table>")[0]
                 for r in (run.run_id, first.run_id)]
    assert "<td>sport &rarr; tech</td>" in pages[0], pages[0]
    assert "<td>sports &rarr; tech</td>" in pages[1], pages[1]
