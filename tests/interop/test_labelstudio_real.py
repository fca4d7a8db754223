"""Real Label Studio 1.23.2 exports (``labelstudio_1.23.2/`` in the shared data): each imports as documented.

The exports' item ids are the bundled YouTube comments' ids, so a dataset
of those ids with HAM/SPAM soft labels stands in for the project made by
``weaklab init``. The folder's README describes each file's scenario; the
outcome expected of each file is below. What edits, reverts and
disagreements mean for the *final* label is the annotation store's concern
(tested with it); here every file must import, store its answers, and count
the tasks and annotations that carry no answer.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from weaklab import SoftLabels
from weaklab.data import load_youtube_spam
from weaklab.errors import ValidationError
from weaklab.interop.labelstudio import import_label_studio
from weaklab.store import Store

FOLDER = "labelstudio_1.23.2"
CLASSES = ["HAM", "SPAM"]

#: file -> (answers in the file, skipped, submitted without a choice, unanswered tasks, annotators)
OUTCOMES = {
    "p1_json.json": (5, 0, 0, 0, {"1"}),
    "p1_jsonmin.json": (5, 0, 0, 0, {"1"}),
    "p1_json_snap.json": (5, 0, 0, 5, {"1"}),
    "p1_jsonmin_snap.json": (5, 0, 0, 5, {"1"}),
    "p1_json_alltasks.json": (5, 0, 0, 5, {"1"}),
    "p1_json_min_alltasks.json": (5, 0, 0, 5, {"1"}),
    "s_skip_json.json": (5, 1, 0, 0, {"1"}),
    "s_skip_jsonmin.json": (5, 0, 0, 0, {"1"}),  # JSON_MIN leaves the skipped task out
    "s_skip_jsonmin_snap.json": (5, 0, 0, 4, {"1"}),
    "s_disagree_json.json": (7, 1, 0, 0, {"1", "3"}),
    "s_disagree_jsonmin.json": (7, 0, 0, 0, {"1", "3"}),
    "s_update_json.json": (7, 1, 0, 0, {"1", "3"}),
    "s_update_jsonmin.json": (7, 0, 0, 0, {"1", "3"}),
    "s_revert_json.json": (7, 1, 0, 0, {"1", "3"}),
    "s_empty_json.json": (7, 1, 1, 0, {"1", "3"}),
    "s_empty_jsonmin.json": (7, 0, 1, 0, {"1", "3"}),
}
UNSUPPORTED = {"p1.csv": "CSV export"}


@pytest.fixture
def folder(dataset):
    """The fixture folder (skipped with a reason when the shared data is absent)."""
    return dataset(FOLDER)


@pytest.fixture
def store(tmp_path):
    """A store whose dataset holds the bundled comments, with one run of HAM/SPAM soft labels."""
    ids = load_youtube_spam()["comment_id"].to_numpy().astype(object)
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb") as store:
        ds = store.add_dataset("comments", item_ids=ids)
        run = store.start_run(ds, {})
        store.add_soft_labels(ds, SoftLabels(np.full((len(ids), 2), 0.5), item_ids=ids, class_names=CLASSES),
                              run_id=run)
        store.finish_run(run)
        yield store, ds


def _file_answers(path):
    """(item id, class name, annotator) of every answer in an export, read independently of weaklab's parser."""
    out = set()
    for record in json.loads(path.read_text(encoding="utf-8")):
        if "data" in record:
            for ann in record["annotations"]:
                choices = [r["value"]["choices"][0] for r in ann["result"] if r["type"] == "choices"]
                if choices and not ann["was_cancelled"]:
                    out.add((record["data"]["item_id"], choices[0], str(ann["completed_by"])))
        elif record.get("label"):
            out.add((record["item_id"], record["label"], str(record["annotator"])))
    return out


def test_every_file_of_the_folder_has_a_documented_outcome(folder):
    """A file added to the fixture folder must get an expected outcome here."""
    files = {p.name for p in folder.iterdir() if p.name != "README.md"}
    assert files == set(OUTCOMES) | set(UNSUPPORTED)


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_real_export_imports_with_documented_outcome(folder, store, name):
    """Each export stores exactly its answers (right items, classes and annotators) and counts the rest."""
    store, ds = store
    path = folder / name
    n_answers, n_skipped, n_no_choice, n_unanswered, annotators = OUTCOMES[name]
    summary = import_label_studio(store, path, dataset_id=ds)
    assert (summary.n_answers, summary.n_stored, summary.n_already_stored) == (n_answers, n_answers, 0)
    assert (summary.n_skipped, summary.n_no_choice, summary.n_unanswered) == (n_skipped, n_no_choice, n_unanswered)
    assert set(summary.annotators) == annotators
    stored = _answers(store, ds)
    got = {(str(i), name, str(who)) for i, name, who in zip(stored["item_id"], stored["class_name"],
                                                               stored["annotator"])}
    assert got == _file_answers(path)
    again = import_label_studio(store, path, dataset_id=ds)
    assert (again.n_stored, again.n_already_stored) == (0, n_answers)
    assert len(_answers(store, ds)) == n_answers


def _answers(store, ds):
    """The stored answers (not skips) of the dataset."""
    frame = store.annotations(ds)
    return frame[frame["status"] == "answered"]


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_export_format_is_named(folder, store, name):
    """A CSV export is refused with the format it is and the formats weaklab reads, storing nothing."""
    store, ds = store
    with pytest.raises(ValidationError) as info:
        import_label_studio(store, folder / name, dataset_id=ds)
    message = str(info.value)
    assert UNSUPPORTED[name] in message and "not supported" in message
    assert "JSON, JSON_MIN" in message and "expected valid JSON" not in message
    assert store.annotations(ds).empty


def test_the_disagreeing_answer_keeps_its_class(folder, store):
    """p1: the one answer that disagrees with the prediction (SPAM over HAM) is stored as SPAM."""
    store, ds = store
    tasks = json.loads((folder / "p1_json.json").read_text(encoding="utf-8"))
    flipped = [t["data"]["item_id"] for t in tasks
               if t["annotations"][0]["result"][0]["value"]["choices"] == ["SPAM"]]
    assert len(flipped) == 1
    import_label_studio(store, folder / "p1_json.json", dataset_id=ds)
    stored = store.annotations(ds, item_id=flipped[0])
    assert stored["label"].tolist() == [CLASSES.index("SPAM")]


# ---------------------------------------------------------------------- who answered (user ids, names)
USERS_EXPORT = [  # the shape of Label Studio's users API (GET /api/users)
    {"id": 1, "first_name": "", "last_name": "", "username": "owner", "email": "owner@example.org",
     "last_activity": "2026-12-06T03:33:10.409186Z", "avatar": None, "initials": "ow", "phone": "",
     "active_organization": 1, "allow_newsletters": False, "date_joined": "2026-12-06T03:20:00Z"},
    {"id": 3, "first_name": "Bo", "last_name": "Ng", "username": "bo", "email": "bo@example.org"},
]


def test_user_map_names_the_annotators(folder, store, tmp_path):
    """With Label Studio's users export, answers are stored under the users' e-mails, not integer ids."""
    store, ds = store
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS_EXPORT), encoding="utf-8")
    summary = import_label_studio(store, folder / "s_disagree_json.json", dataset_id=ds, users=users)
    assert summary.annotators == ("bo@example.org", "owner@example.org")
    stored = store.annotations(ds)
    assert sorted(set(stored["annotator"])) == ["bo@example.org", "owner@example.org"]
    csv_map = tmp_path / "users.csv"
    csv_map.write_text("id,email\n1,owner@example.org\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"users.*user id\(s\) 3"):  # a map that misses a user
        import_label_studio(store, folder / "s_disagree_jsonmin.json", dataset_id=ds, users=csv_map)


def test_annotator_name_never_merges_two_people(folder, store):
    """--annotator on an export answered by users 1 and 3 is refused, and nothing is stored."""
    store, ds = store
    with pytest.raises(ValidationError, match=r"annotator.*2 annotators: 1, 3"):
        import_label_studio(store, folder / "s_disagree_json.json", dataset_id=ds, annotator="alice")
    assert store.annotations(ds).empty


@pytest.mark.parametrize("first", ["plain", "annotator", "users"])
def test_same_file_with_and_without_names_is_stored_once(folder, store, first):
    """Importing one export with and without --annotator or a user map stores each answer once."""
    store, ds = store
    path = folder / "p1_json.json"
    ways = {"plain": {}, "annotator": {"annotator": "alice"}, "users": {"users": {"1": "owner@example.org"}}}
    order = [first, *[w for w in ways if w != first]]
    stored = [import_label_studio(store, path, dataset_id=ds, **ways[w]).n_stored for w in order]
    assert stored == [5, 0, 0]
    current = store.annotations(ds)
    current = current[current["current"]]
    assert len(current) == 5 and current["item_id"].is_unique
    # a later user map names the answers stored under the bare user id; a name given before is kept
    expected = {"plain": "owner@example.org", "annotator": "alice", "users": "owner@example.org"}[first]
    assert set(current["annotator"]) == {expected}


def test_a_later_user_map_names_answers_stored_under_user_ids_keeping_the_history(folder, store):
    """Answers imported without a map (annotators 1 and 3) take the names a later import's user map gives, as new
    versions: the id-named answers stay in the history (not used), nothing counts twice, and a repeat changes
    nothing."""
    store, ds = store
    import_label_studio(store, folder / "s_disagree_json.json", dataset_id=ds)
    before = store.annotations(ds)
    before = before[before["current"]]
    assert set(before["annotator"]) == {"1", "3"}
    labels_before = store.human_labels(ds, class_names=CLASSES)
    names = {"1": "owner@example.org", "3": "bo@example.org"}
    summary = import_label_studio(store, folder / "s_disagree_json.json", dataset_id=ds, users=names)
    assert summary.n_stored == 0
    counts = before["annotator"].value_counts()
    assert summary.reattributed == tuple((u, names[u], int(counts[u])) for u in sorted(counts.index))
    assert "now attributed by name" in summary.describe() and "stay in the history" in summary.describe()
    after = store.annotations(ds)
    current, history = after[after["current"]], after[~after["current"]]
    assert set(current["annotator"]) == set(names.values()) and len(current) == len(before)
    assert set(history["annotation_id"]) == set(before["annotation_id"])  # the id-named answers, kept
    pairs = {(str(i), e, c) for i, e, c in zip(current["item_id"], current["external_id"], current["class_name"])}
    assert pairs == {(str(i), e, c) for i, e, c in zip(before["item_id"], before["external_id"], before["class_name"])}
    shown = ["item_id", "status", "n_annotators"]
    assert store.human_labels(ds, class_names=CLASSES)[shown].equals(labels_before[shown])  # one vote per person
    again = import_label_studio(store, folder / "s_disagree_jsonmin.json", dataset_id=ds, users=names)
    assert again.reattributed == () and again.n_stored == 0 and len(store.annotations(ds)) == len(after)


def test_repeat_import_message_says_what_was_already_stored(folder, store):
    """The second import of a snapshot says its answers were already stored and which tasks had no answer."""
    store, ds = store
    import_label_studio(store, folder / "p1_json.json", dataset_id=ds)
    text = import_label_studio(store, folder / "p1_jsonmin_snap.json", dataset_id=ds).describe()
    assert text.startswith("Stored 0 new answer(s) of the 5")
    assert "5 already stored" in text and "5 task(s) nobody answered yet" in text
    assert "next `weaklab fit` uses" not in text
