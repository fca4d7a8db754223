"""A tagging project (``[task] kind = "tagging"``) runs apply → analyse → fit → train and records its spans."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from weaklab import ValidationError
from weaklab.demo.tagging import init_tagging_project, tagging_example
from weaklab.pipeline import Project, load_config
from weaklab.sequence import HMMLabelModel, apply_span_lfs
from weaklab.store import Store

pytest.importorskip("pycrfsuite")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("tagging") / "ner"
    init_tagging_project(root, n_items=120)
    result = Project(root).run("query")
    return root, result


def test_example_gold_spans_cover_the_entity_words() -> None:
    """Every generated gold span lies within its sentence's tokens; the dev share is as asked."""
    frame = tagging_example(200, dev_share=0.3, random_state=1)
    for text, spans in zip(frame["text"], frame["spans"]):
        tokens = text.split()
        for start, end, kind in json.loads(spans):
            assert 0 <= start < end <= len(tokens) and kind in ("Chemical", "Disease")
    assert (frame["split"] == "dev").sum() == 60
    assert frame.equals(tagging_example(200, dev_share=0.3, random_state=1))


def test_run_records_sources_gold_proposed_and_tagger_spans(trained) -> None:
    """The run records four span sets; the sources' spans are those the LFs give; the proposals are the model's."""
    root, result = trained
    assert result.steps == ["apply", "analyse", "fit", "train", "issues", "query"]
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        sets = store.span_sets(result.run_id)
        assert sets["role"].tolist() == ["sources", "gold", "label_model", "end_model"]
        spans, items = store.load_span_set(int(sets["span_set_id"].iloc[0]))
    frame = pd.read_csv(root / "data" / "sentences.csv")
    tokens = [t.split() for t in frame["text"]]
    assert items is not None and items["tokens"].map(list).tolist() == tokens
    config = load_config(root)
    from weaklab.pipeline.loading import load_span_lfs

    votes, _ = apply_span_lfs(load_span_lfs(config), tokens, entity_types=config.entity_types)
    assert len(spans) == votes.n_spans
    names = [s["name"] for s in sets["sources"].iloc[0]]
    assert names == list(votes.source_names)
    for row in (0, 7, 33):
        expected = votes.sentence_spans(row)
        got = spans[spans["row"] == row]
        for j, name in enumerate(names):
            mine = got[got["source"] == j]
            assert sorted(zip(mine["start"], mine["end"], mine["type"])) == sorted(expected[name])
    proposed = HMMLabelModel(random_state=0).fit(votes).predict_spans(votes)
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        story = store.explain(frame["sentence_id"][5])
    assert story["kind"] == "tagging" and story["tokens"] == tokens[5]
    assert [[p["start"], p["end"], p["type"]] for p in story["proposed"]["spans"]] == [list(s) for s in proposed[5]]
    assert all(0.0 <= p["confidence"] <= 1.0 for p in story["proposed"]["spans"])
    assert story["final_from"] == "label_model" and story["gold"] == json.loads(frame["spans"][5])


def test_metrics_compare_label_model_majority_vote_and_tagger_on_dev(trained) -> None:
    """Span F1 on the dev gold: the HMM is at least majority vote; the tagger and LM are scored on the same rows."""
    _, result = trained
    lm, em = result.metrics["label_model"], result.metrics["end_model"]
    assert result.metrics["n_dev"] == 30
    assert lm["span_f1"]["micro"]["support"] > 0
    assert lm["span_f1"]["micro"]["f1"] >= lm["majority_vote_span_f1"] - 1e-9
    assert lm["span_f1"]["micro"]["f1"] > 0.5
    assert em["label_model_span_f1"] == pytest.approx(lm["span_f1"]["micro"]["f1"])
    assert 0.0 <= em["span_f1"]["micro"]["f1"] <= 1.0 and em["n_train"] == 90
    assert len(result.query) == 20 and len(set(result.query)) == 20


def test_span_answers_are_stored_with_lineage_and_become_final(trained, tmp_path) -> None:
    """An answer keeps the spans, decisions and proposal it answered; the latest answer is the final spans."""
    root, result = trained
    import shutil

    shutil.copytree(root / ".weaklab", tmp_path / ".weaklab")
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb") as store:
        story = store.explain("s00005", run_id=result.run_id)
        set_id = story["proposed"]["span_set_id"]
        ds = story["dataset"]
        with pytest.raises(ValidationError, match="spans"):
            store.add_span_answer(ds, "s00005", "ada", [[0, 2, "Chemical"], [1, 3, "Disease"]])
        with pytest.raises(ValidationError, match="span types"):
            store.add_span_answer(ds, "s00005", "ada", [[0, 1, "Gene"]])
        store.add_span_answer(ds, "s00005", "ada", [[0, 1, "Chemical"]], span_set_id=set_id, run_id=result.run_id,
                              decisions=[{"span": [0, 1, "Disease"], "decision": "fixed",
                                          "fixed_to": [0, 1, "Chemical"]}])
        store.add_span_answer(ds, "s00005", "ada", [[1, 2, "Disease"]], span_set_id=set_id)
        answers = store.span_answers(ds, item_id="s00005")
        story = store.explain("s00005", run_id=result.run_id)
        assert len(answers) == 2 and len(store.span_answers(ds, current=True)) == 1
    assert answers["decisions"].iloc[0][0]["fixed_to"] == [0, 1, "Chemical"]
    assert story["final_from"] == "annotation" and story["final_spans"] == [[1, 2, "Disease"]]
    assert [a["span_set_id"] for a in story["answers"]] == [set_id, set_id]


def test_tagging_config_errors_name_the_key(tmp_path) -> None:
    """A tagging project without entity types, or with a text end model, is refused naming the key."""
    init_tagging_project(tmp_path, n_items=40)
    text = (tmp_path / "weaklab.toml").read_text()
    (tmp_path / "weaklab.toml").write_text(text.replace('entity_types = ["Chemical", "Disease"]\n', ""))
    with pytest.raises(ValidationError, match=r"task\.entity_types"):
        load_config(tmp_path)
    (tmp_path / "weaklab.toml").write_text(text.replace('name = "crf"', 'name = "tfidf_logreg"'))
    with pytest.raises(ValidationError, match=r"end_model\.name"):
        load_config(tmp_path)
    (tmp_path / "weaklab.toml").write_text(text.replace('kind = "tagging"', 'kind = "classification"'))
    with pytest.raises(ValidationError, match="task"):
        load_config(tmp_path)


def test_bad_gold_cell_and_non_span_lfs_are_refused(tmp_path) -> None:
    """Gold spans outside the tokens and an LF module without span LFs fail with the file and row named."""
    init_tagging_project(tmp_path, n_items=40)
    frame = pd.read_csv(tmp_path / "data" / "sentences.csv")
    frame.loc[3, "spans"] = "[[0, 99, \"Disease\"]]"
    frame.to_csv(tmp_path / "data" / "sentences.csv", index=False)
    with pytest.raises(ValidationError, match="row 3"):
        Project(tmp_path).run("apply")
    frame.loc[3, "spans"] = "[]"
    frame.to_csv(tmp_path / "data" / "sentences.csv", index=False)
    (tmp_path / "lfs.py").write_text("from weaklab import keyword_lf\nlfs = [keyword_lf(['x'], 1)]\n")
    with pytest.raises(ValidationError, match="span labeling functions"):
        Project(tmp_path).run("apply")
    (tmp_path / "lfs.py").write_text("from weaklab.sequence import gazetteer_lf\n"
                                     "lfs = [gazetteer_lf(['aspirin'], 'Chemical')]\n")
    result = Project(tmp_path).run("fit")
    assert result.metrics["n_sources"] == 1 and "span_f1" in result.metrics["label_model"]
    assert np.isfinite(result.metrics["label_model"]["span_f1"]["micro"]["f1"])


def test_answered_spans_train_the_tagger_and_leave_the_query(tmp_path) -> None:
    """After a person answers a training item, the next train uses their spans for it and query skips it."""
    init_tagging_project(tmp_path, n_items=60)
    first = Project(tmp_path).run("query")
    item = first.query[0]
    assert first.metrics["end_model"]["n_answered_used"] == 0
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb") as store:
        store.add_span_answer(first.dataset_id, item, "ada", [[0, 1, "Disease"]], run_id=first.run_id)
    again = Project(tmp_path).run("query")
    assert again.metrics["end_model"]["n_answered_used"] == 1
    assert item not in again.query
    frame = pd.read_csv(tmp_path / "data" / "sentences.csv")
    dev = set(frame.loc[frame["split"] == "dev", "sentence_id"])
    assert not dev & set(again.query)
