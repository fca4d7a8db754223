"""Label Studio exchange: tasks with predictions out, JSON and JSON_MIN exports in."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from weaklab import LabelMatrix, SoftLabels
from weaklab.errors import ValidationError
from weaklab.interop.labelstudio import (
    config_path,
    export_label_studio,
    import_label_studio,
    labeling_config,
    parse_label_studio_export,
    to_label_studio_tasks,
)
from weaklab.store import Store

CLASSES = ["HAM", "SPAM"]


@pytest.fixture
def project(tmp_path):
    """A store with 8 comments (string ids), one run and its label-model soft labels, and the comments' texts."""
    ids = np.array([f"c{i}" for i in range(8)], dtype=object)
    spam = np.array([0.9, 0.2, 0.55, 0.5, 0.05, 0.7, 0.4, 0.99])
    items = pd.DataFrame({"comment_id": ids, "text": [f"comment <b>{i}</b> & more" for i in range(8)]})
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb") as store:
        ds = store.add_dataset("spam", item_ids=ids)
        run = store.start_run(ds, {"label_model": "MajorityVote"})
        soft = SoftLabels(np.column_stack([1 - spam, spam]), item_ids=ids, class_names=CLASSES)
        store.add_soft_labels(ds, soft, run_id=run)
        store.finish_run(run)
        yield store, ds, run, items.set_index("comment_id"), tmp_path


def _write(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _task(item, text, answers):
    """A task as Label Studio's JSON export writes it (see labelstud.io/guide/task_format)."""
    return {"id": 100 + len(text), "data": {"text": text, "item_id": item}, "annotations": answers,
            "predictions": [], "project": 3, "created_at": "2024-05-01T10:00:00.000000Z"}


#: Label Studio gives every annotation its own id (unique on the server).
_ANNOTATION_IDS = itertools.count(7)


def _answer(choice, who, when="2024-05-02T09:30:00.123456Z", **extra):
    result = [{"id": "a1", "from_name": "label", "to_name": "text", "type": "choices", "origin": "manual",
               "value": {"choices": [choice]}}]
    return {"id": next(_ANNOTATION_IDS), "completed_by": who, "result": result, "was_cancelled": False,
            "ground_truth": False, "created_at": when, "updated_at": when, "lead_time": 3.2, **extra}


def test_tasks_have_documented_prediction_shape():
    """Each task carries the text and item id in data and the most likely class with its probability as a prediction."""
    soft = SoftLabels([[0.2, 0.8], [0.6, 0.4]], item_ids=[10, 11])
    items = pd.DataFrame({"text": ["buy now", "nice song"]})
    tasks = to_label_studio_tasks(items, soft, text_field="text", class_names=CLASSES, model_version="weaklab run 1")
    assert tasks[0]["data"] == {"text": "buy now", "item_id": 10}
    prediction = tasks[0]["predictions"][0]
    assert prediction["model_version"] == "weaklab run 1"
    assert prediction["score"] == pytest.approx(0.8)
    assert prediction["result"] == [{"from_name": "label", "to_name": "text", "type": "choices",
                                     "value": {"choices": ["SPAM"]}}]
    assert tasks[1]["predictions"][0]["result"][0]["value"]["choices"] == ["HAM"]
    json.dumps(tasks)  # JSON-able (numpy scalars converted)


def test_tasks_reject_mismatched_inputs():
    """Class names of the wrong length, a missing text column or a non-text value raise ValidationError."""
    soft = SoftLabels([[0.2, 0.8]])
    with pytest.raises(ValidationError, match="class_names"):
        to_label_studio_tasks(pd.DataFrame({"text": ["a"]}), soft, class_names=["A", "B", "C"], model_version="m")
    with pytest.raises(ValidationError, match="'body' column"):
        to_label_studio_tasks(pd.DataFrame({"text": ["a"]}), soft, text_field="body", class_names=CLASSES,
                              model_version="m")
    with pytest.raises(ValidationError, match="text"):
        to_label_studio_tasks(pd.DataFrame({"text": [None]}), soft, class_names=CLASSES, model_version="m")


def test_labeling_config_is_valid_xml_with_escaped_choices():
    """The labeling config parses as XML and lists every class, in order, even with markup characters."""
    root = ET.fromstring(labeling_config(["a<b", 'say "hi"', "x&y"], text_field="body"))
    assert root.tag == "View"
    assert root.find("Text").attrib == {"name": "text", "value": "$body"}
    choices = root.find("Choices")
    assert choices.attrib["name"] == "label" and choices.attrib["toName"] == "text"
    assert [c.attrib["value"] for c in choices.findall("Choice")] == ["a<b", 'say "hi"', "x&y"]


def test_export_writes_least_confident_unanswered_items_and_config(project):
    """By default the export holds unanswered items, least confident first, up to limit, and the config beside it
    (without random checks: ``random_share=0``)."""
    store, ds, run, items, tmp = project
    store.add_annotation(ds, "c3", "ann", 1, origin="review")
    path = tmp / "batch" / "tasks.json"
    assert export_label_studio(store, run, path, items=items, limit=3, random_share=0).n_tasks == 3
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert [t["data"]["item_id"] for t in tasks] == ["c2", "c6", "c5"]  # c3 (0.5) already answered
    assert tasks[0]["data"]["text"] == "comment <b>2</b> & more"
    assert tasks[0]["predictions"][0]["score"] == pytest.approx(0.55)
    assert tasks[0]["predictions"][0]["model_version"] == "weaklab"
    assert tasks[0]["meta"]["weaklab_run"] == run
    config = ET.fromstring(config_path(path).read_text(encoding="utf-8"))
    assert [c.attrib["value"] for c in config.iter("Choice")] == CLASSES


def test_export_given_items_in_order_and_unknown_ids_rejected(project):
    """Explicit item ids are exported in the order given; an unknown id raises before any file is written."""
    store, _, run, items, tmp = project
    assert export_label_studio(store, run, tmp / "t.json", item_ids=["c7", "c0"], items=items).n_tasks == 2
    assert [t["data"]["item_id"] for t in json.loads((tmp / "t.json").read_text())] == ["c7", "c0"]
    with pytest.raises(ValidationError, match=r"item_ids.*'zz'"):
        export_label_studio(store, run, tmp / "u.json", item_ids=["c1", "zz"], items=items)
    assert not (tmp / "u.json").exists()


def test_export_reads_texts_from_the_recorded_table(project):
    """Without items, texts come from the table the dataset's meta names; without one, a clear error."""
    store, _, run, items, tmp = project
    with pytest.raises(ValidationError, match="store keeps ids, not texts"):
        export_label_studio(store, run, tmp / "t.json")
    table = tmp / "comments.csv"
    items.reset_index().to_csv(table, index=False)
    ds2 = store.add_dataset("spam2", item_ids=items.index.to_numpy(), meta={"path": str(table),
                                                                            "id_column": "comment_id"})
    run2 = store.start_run(ds2)
    store.add_soft_labels(ds2, SoftLabels(np.full((8, 2), 0.5), item_ids=items.index.to_numpy(),
                                          class_names=CLASSES), run_id=run2)
    assert export_label_studio(store, run2, tmp / "t.json", limit=2, random_share=0).n_tasks == 2
    assert json.loads((tmp / "t.json").read_text())[1]["data"]["text"] == "comment <b>1</b> & more"


def test_import_documented_json_export(project):
    """A JSON export in Label Studio's documented shape stores one annotation per submitted, non-cancelled answer."""
    store, ds, _, _, tmp = project
    export = [
        _task("c0", "a", [_answer("SPAM", 10), _answer("HAM", {"id": 4, "email": "bo@example.org"},
                                                      when="2024-05-02T11:00:00+02:00")]),
        _task("c1", "bb", [_answer("HAM", 10, was_cancelled=True)]),
        _task("c2", "ccc", []),
        _task("c4", "dddd", [{"id": 9, "completed_by": 10, "result": [], "created_at": "2024-05-02T09:00:00Z"}]),
    ]
    summary = import_label_studio(store, _write(tmp / "export.json", export), dataset_id=ds)
    assert (summary.n_stored, summary.n_skipped, summary.n_no_choice, summary.n_unanswered) == (2, 1, 1, 1)
    stored = store.annotations(ds)
    skipped = stored[stored["status"] == "skipped"]
    assert skipped["item_id"].tolist() == ["c1"] and skipped["class_name"].isna().all()  # a skip, not an answer
    stored = stored[stored["status"] == "answered"]
    assert stored["item_id"].tolist() == ["c0", "c0"]
    assert stored["label"].tolist() == [1, 0]
    assert stored["annotator"].tolist() == ["10", "bo@example.org"]
    assert set(stored["origin"]) == {"label_studio"}
    assert stored["created_at"].tolist() == [datetime(2024, 5, 2, 9, 30, 0, 123456), datetime(2024, 5, 2, 9, 0)]


def test_import_documented_json_min_export(project):
    """A JSON_MIN export (flat records keyed by the control name) stores its answers; unannotated rows are skipped."""
    store, ds, _, _, tmp = project
    export = [
        {"text": "a", "item_id": "c5", "id": 1, "label": "SPAM", "annotator": "ann@example.org",
         "annotation_id": 11, "created_at": "2024-05-03T08:00:00.000000Z", "updated_at": "2024-05-03T08:00:00Z",
         "lead_time": 2.5},
        {"text": "b", "item_id": "c6", "id": 2, "label": {"choices": ["HAM"]}, "annotator": 3, "annotation_id": 12,
         "created_at": "2024-05-03T08:01:00Z"},
        {"text": "c", "item_id": "c7", "id": 3},
    ]
    summary = import_label_studio(store, _write(tmp / "min.json", export), dataset_id=ds)
    assert (summary.n_stored, summary.n_unanswered) == (2, 1)
    stored = store.annotations(ds)
    assert list(zip(stored["item_id"], stored["label"], stored["annotator"])) == [
        ("c5", 1, "ann@example.org"), ("c6", 0, "3")]


def test_round_trip_of_own_export(project):
    """Tasks exported by weaklab, answered in Label Studio's format and imported back, land on the right items."""
    store, ds, run, items, tmp = project
    path = tmp / "tasks.json"
    export_label_studio(store, run, path, items=items)
    tasks = json.loads(path.read_text(encoding="utf-8"))
    for i, task in enumerate(tasks):  # the reviewer accepts the prediction on even tasks, flips it on odd ones
        predicted = task.get("predictions") or [{"result": [{"value": {"choices": ["HAM"]}}]}]  # c3 is a tie
        chosen = predicted[0]["result"][0]["value"]["choices"][0]
        if i % 2:
            chosen = CLASSES[1 - CLASSES.index(chosen)]
        task["annotations"] = [_answer(chosen, {"email": "rev@example.org"}, when=f"2024-06-01T10:00:{i:02d}Z")]
    answered = _write(tmp / "answered.json", tasks)
    assert import_label_studio(store, answered, dataset_id=ds).n_stored == len(tasks)
    stored = store.annotations(ds).set_index("item_id")
    for task in tasks:
        expected = CLASSES.index(task["annotations"][0]["result"][0]["value"]["choices"][0])
        assert stored.loc[task["data"]["item_id"], "label"] == expected
    again = import_label_studio(store, answered, dataset_id=ds)  # importing twice stores nothing new
    assert (again.n_stored, again.n_already_stored) == (0, len(tasks))
    assert len(store.annotations(ds)) == len(tasks)


def test_annotator_override_and_missing_annotator(project):
    """annotator= names every answer; without it an export lacking annotators raises."""
    store, ds, _, _, tmp = project
    export = [{"item_id": "c1", "label": "SPAM", "annotation_id": 1}]
    path = _write(tmp / "min.json", export)
    with pytest.raises(ValidationError, match="annotator"):
        import_label_studio(store, path, dataset_id=ds)
    assert import_label_studio(store, path, dataset_id=ds, annotator="alice", origin="ls-batch-1").n_stored == 1
    assert store.annotations(ds)[["annotator", "origin"]].values.tolist() == [["alice", "ls-batch-1"]]


BAD_EXPORTS = {
    "malformed json": ('[{"data": {"item_id": "c1"}', "valid JSON"),
    "not a list": ({"data": {}}, "JSON list"),
    "unknown choice": ([_task("c1", "x", [_answer("EGGS", 1)])], r"annotations\[0\]\.result\[0\]\.value\.choices"),
    "unknown item": ([_task("c1", "x", [_answer("HAM", 1)]), _task("nope", "y", [_answer("HAM", 1)])],
                     r"unknown id.*'nope'"),
    "missing id": ([{"data": {"text": "x"}, "annotations": [_answer("HAM", 1)]}], r"\[0\]\.data\.item_id"),
    "two choices": ([_task("c1", "x", [_answer("HAM", 1) | {"result": [
        {"type": "choices", "from_name": "label", "value": {"choices": ["HAM", "SPAM"]}}]}])],
        "exactly one chosen class"),
    "bad time": ([_task("c1", "x", [_answer("HAM", 1, when="yesterday")])], r"created_at.*ISO 8601"),
    "min missing choice": ([{"item_id": "c1", "annotator": "a", "annotation_id": 1, "sentiment": "Great"}],
                           "chosen class"),
    "min unknown choice": ([{"item_id": "c1", "annotator": "a", "annotation_id": 1, "label": "HAM"},
                            {"item_id": "c2", "annotator": "a", "annotation_id": 2, "label": "EGGS"}],
                           r"\[1\]\.label.*EGGS"),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPORTS))
def test_bad_exports_raise_naming_file_and_store_nothing(project, case):
    """Each malformed export raises ValidationError naming the file and field, and no answer of it is stored."""
    store, ds, _, _, tmp = project
    data, pattern = BAD_EXPORTS[case]
    path = tmp / "bad.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError, match=pattern) as info:
        import_label_studio(store, path, dataset_id=ds)
    assert "bad.json" in str(info.value)
    assert store.annotations(ds).empty


def test_parse_is_pure_and_respects_from_name():
    """The parser reads only the named control when several choice controls answer."""
    result = [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": ["HAM"]}},
              {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": ["SPAM"]}}]
    data = [{"data": {"item_id": 5}, "annotations": [{"completed_by": 1, "result": result}]}]
    with pytest.raises(ValidationError, match="from_name"):
        parse_label_studio_export(data, class_names=CLASSES)
    frame = parse_label_studio_export(data, class_names=CLASSES, from_name="label")
    assert frame.to_dict("records") == [{"item_id": 5, "status": "answer", "annotator": "1", "label": 1,
                                         "choice": "SPAM", "annotation_id": None, "created_at": None,
                                         "updated_at": None}]


def _second_run(store, ds, ids, spam, votes=None):
    """Another run over the dataset (soft labels ``spam``; a label matrix when ``votes`` is given)."""
    run = store.start_run(ds, {"label_model": "MajorityVote"})
    if votes is not None:
        store.add_application(ds, LabelMatrix.from_dense(votes, item_ids=ids, n_classes=2), run_id=run)
    store.add_soft_labels(ds, SoftLabels(np.column_stack([1 - spam, spam]), item_ids=ids, class_names=CLASSES),
                          run_id=run)
    store.finish_run(run)
    return run


def test_model_version_is_stable_across_batches_and_the_run_is_in_meta(project):
    """Two batches from two runs carry one model version (Label Studio hides other versions); meta names the run."""
    store, ds, run, items, tmp = project
    ids = items.index.to_numpy()
    run2 = _second_run(store, ds, ids, np.linspace(0.05, 0.95, 8))
    export_label_studio(store, run, tmp / "b1.json", items=items, limit=4)
    export_label_studio(store, run2, tmp / "b2.json", items=items)  # the other 4: b1's are pending
    versions = {p["model_version"] for name in ("b1.json", "b2.json")
                for t in json.loads((tmp / name).read_text()) for p in t.get("predictions", [])}
    assert versions == {"weaklab"}
    assert {t["meta"]["weaklab_run"] for t in json.loads((tmp / "b2.json").read_text())} == {run2}
    export_label_studio(store, run2, tmp / "b3.json", items=items, model_version="news-v1", include_pending=True)
    assert {p["model_version"] for t in json.loads((tmp / "b3.json").read_text())
            for p in t.get("predictions", [])} == {"news-v1"}


def test_uncovered_and_tied_items_get_no_prefilled_label(project):
    """Items no source voted on (their soft label is only the prior) and exact ties get no prediction."""
    store, ds, _, items, tmp = project
    ids = items.index.to_numpy()
    votes = np.full((8, 2), -1)
    votes[:4, 0] = 1  # c0..c3 covered; c4..c7 no votes
    spam = np.array([0.9, 0.2, 0.7, 0.5, 0.3, 0.3, 0.3, 0.3])  # c3 tied; c4..c7 at a non-uniform prior
    run = _second_run(store, ds, ids, spam, votes=votes)
    export_label_studio(store, run, tmp / "t.json", items=items)
    tasks = {t["data"]["item_id"]: t for t in json.loads((tmp / "t.json").read_text())}
    assert {i for i, t in tasks.items() if "predictions" in t} == {"c0", "c1", "c2"}
    assert len(tasks) == 8  # every item is still exported, only without a pre-filled label


def test_export_reads_the_projects_text_field(project):
    """A dataset recorded with text_field="headline" exports its headlines without --text-field."""
    store, _, _, items, tmp = project
    table = tmp / "news.csv"
    items.rename(columns={"text": "headline"}).reset_index().to_csv(table, index=False)
    ids = items.index.to_numpy()
    ds = store.add_dataset("news", item_ids=ids, meta={"path": str(table), "id_column": "comment_id",
                                                       "text_field": "headline"})
    run = _second_run(store, ds, ids, np.linspace(0.1, 0.9, 8))
    export_label_studio(store, run, tmp / "t.json", limit=1)
    task = json.loads((tmp / "t.json").read_text())[0]
    assert set(task["data"]) == {"headline", "item_id"} and task["data"]["headline"].startswith("comment <b>")
    assert 'value="$headline"' in config_path(tmp / "t.json").read_text()
