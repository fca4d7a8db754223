"""Human answers belong to the project and its item ids, and carry class names (issue 11, items 1-3)."""

from __future__ import annotations

import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project
from weaklab.store import Store


def _answer(project: Project, dataset_id: int, answers: dict[str, object], who: str = "ana") -> None:
    with project.open_store() as store:
        store.add_annotations(dataset_id, list(answers), who, list(answers.values()))


def _final(project: Project, item: str, run_id: int) -> tuple[str | None, str]:
    with Store(project.store_path, read_only=True) as store:
        story = store.explain(item, run_id)
    return story["final_class"], story["final_from"]


def _stories(root) -> pd.DataFrame:
    return pd.read_csv(root / "stories.csv", dtype=str, keep_default_na=False)


def test_appending_removing_or_shuffling_rows_keeps_every_answer(news_project):
    """A new version of the data file carries the answers over by item id; gone ids are reported as orphaned."""
    project = Project(news_project)
    first = project.run("fit")
    _answer(project, first.dataset_id, {"s000": 0, "s001": 1, "s002": 2})  # politics, sports, tech
    assert project.run("fit").metrics["label_model"]["n_gold_for_fit"] == 3
    frame = _stories(news_project)

    extra = pd.DataFrame([{"story_id": "s999", "headline": "a chip startup", "truth": "tech"}])
    pd.concat([frame, extra]).to_csv(news_project / "stories.csv", index=False)
    appended = project.run("fit")
    assert appended.dataset_id != first.dataset_id
    assert appended.metrics["label_model"]["n_gold_for_fit"] == 3
    assert appended.metrics["answers"]["carried_over"] == 3
    assert appended.metrics["answers"]["orphaned"] == 0
    assert _final(project, "s002", appended.run_id) == ("tech", "annotation")

    frame.sample(frac=1.0, random_state=0).to_csv(news_project / "stories.csv", index=False)
    shuffled = project.run("fit")
    assert shuffled.metrics["label_model"]["n_gold_for_fit"] == 3
    assert _final(project, "s001", shuffled.run_id) == ("sports", "annotation")

    frame[frame["story_id"] != "s001"].to_csv(news_project / "stories.csv", index=False)
    removed = project.run("fit")
    assert removed.metrics["label_model"]["n_gold_for_fit"] == 2
    assert removed.metrics["answers"]["orphaned"] == 1
    assert removed.metrics["answers"]["carried_over"] == 2


def test_items_whose_content_changed_since_answered_are_flagged(news_project):
    """An answered item whose text changed keeps its answer but is listed for re-review."""
    project = Project(news_project)
    first = project.run("fit")
    _answer(project, first.dataset_id, {"s000": 0, "s003": 0})
    frame = _stories(news_project)
    frame.loc[frame["story_id"] == "s003", "headline"] = "story 3: rewritten after review"
    frame.to_csv(news_project / "stories.csv", index=False)
    second = project.run("fit")
    answers = second.metrics["answers"]
    assert answers["changed"] == 1 and answers["changed_item_ids"] == ["s003"]
    assert answers["carried_over"] == 2
    with project.open_store() as store:
        assert store.changed_since_answered(second.dataset_id) == ["s003"]


def test_diff_works_across_dataset_versions_by_item_id(news_project):
    """diff compares two runs over different versions of the data by item id (an added item is listed)."""
    project = Project(news_project)
    first = project.run("fit")
    frame = _stories(news_project)
    extra = pd.DataFrame([{"story_id": "s999", "headline": "the senate election", "truth": "politics"}])
    pd.concat([extra, frame]).to_csv(news_project / "stories.csv", index=False)
    second = project.run("fit")
    with Store(project.store_path, read_only=True) as store:
        changed = store.diff(first.run_id, second.run_id)
    assert changed["item_id"].tolist() == ["s999"]
    row = changed.iloc[0]
    assert row["label_a"] == -1 and row["class_b"] == "politics"
    assert "not in" in row["reason"]


def test_reordering_classes_keeps_the_meaning_of_answers(news_project, news_classes):
    """Answers given as class ids or names keep their class after [labels].classes is reordered."""
    project = Project(news_project)
    first = project.run("fit")
    _answer(project, first.dataset_id, {"s000": 0, "s001": 1})            # ids under politics, sports, tech
    news_classes(news_project, ["tech", "sports", "politics"])
    reordered = Project(news_project)
    run = reordered.run("fit")
    assert run.metrics["label_model"]["n_gold_for_fit"] == 2
    assert _final(reordered, "s000", run.run_id) == ("politics", "annotation")
    assert _final(reordered, "s001", run.run_id) == ("sports", "annotation")
    _answer(reordered, run.dataset_id, {"s002": "tech"}, who="bo")        # a class name
    news_classes(news_project, ["sports", "politics", "tech"])
    again = Project(news_project).run("fit")
    assert again.metrics["label_model"]["n_gold_for_fit"] == 3
    for item, name in {"s000": "politics", "s001": "sports", "s002": "tech"}.items():
        assert _final(reordered, item, again.run_id) == (name, "annotation")
    with Store(reordered.store_path, read_only=True) as store:
        stored = store.annotations(run.dataset_id)
    assert stored.set_index("item_id")["class_name"].to_dict() == {"s000": "politics", "s001": "sports",
                                                                   "s002": "tech"}


def test_a_removed_class_is_an_error_with_a_rename_way_out(news_project, news_classes):
    """A class that answers use but the config dropped names the class and count; [labels.rename] maps it."""
    project = Project(news_project)
    first = project.run("fit")
    _answer(project, first.dataset_id, {"s001": 1, "s004": 1, "s000": 0})
    news_classes(news_project, ["politics", "athletics", "tech"])
    with pytest.raises(ValidationError, match=r"'sports'.*2 human answers.*\[labels\.rename\]"):
        Project(news_project).run("fit")
    news_classes(news_project, ["politics", "athletics", "tech"], extra='\n[labels.rename]\nsports = "athletics"\n')
    renamed = Project(news_project)
    run = renamed.run("fit")
    assert run.metrics["label_model"]["n_gold_for_fit"] == 3
    assert _final(renamed, "s004", run.run_id) == ("athletics", "annotation")


def test_a_rename_to_an_unknown_class_is_refused(news_project, news_classes):
    """[labels.rename] must map to a class of [labels].classes (the message names the key)."""
    news_classes(news_project, ["politics", "sports", "tech"], extra='\n[labels.rename]\nsport = "football"\n')
    with pytest.raises(ValidationError, match=r"labels\.rename\.sport.*one of the classes"):
        Project(news_project).run("apply")


def test_terminal_review_offers_first_the_items_whose_content_changed(news_project):
    """`weaklab annotate`'s queue (review_batch) puts answered items whose text changed first, and only those
    of the answered items."""
    from weaklab.pipeline.review import review_batch

    project = Project(news_project)
    first = project.run("fit")
    _answer(project, first.dataset_id, {"s000": 0, "s003": 0})
    frame = _stories(news_project)
    frame.loc[frame["story_id"] == "s003", "headline"] = "story 3: rewritten after review"
    frame.to_csv(news_project / "stories.csv", index=False)
    second = project.run("fit")
    with Store(project.store_path, read_only=True) as store:
        items, _ = review_batch(store, second.run_id, limit=50)
    offered = [str(i.item_id) for i in items]
    assert offered[0] == "s003" and items[0].text == "story 3: rewritten after review"
    assert "s000" not in offered and offered.count("s003") == 1
