"""`weaklab export` writes every item's final label of a run -- the labels a project was for -- with the
project's text column, where each label came from and the label model's probabilities per class name."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.store import Store


def _cli(*args: str):
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return out


@pytest.fixture
def fitted(news_project, monkeypatch):
    monkeypatch.chdir(news_project)
    run = json.loads(_cli("fit", "--json").stdout)
    with Store(news_project / ".weaklab" / "weaklab.duckdb") as store:
        store.add_annotation(run["dataset_id"], "s002", "ana", "sports")  # a person overrides one item
    _cli("fit")  # the answer counts from the next run on
    return news_project


def test_export_csv_has_text_classes_origins_and_probabilities(fitted):
    out = _cli("export", "labels.csv")
    table = pd.read_csv(fitted / "labels.csv", keep_default_na=False)
    stories = pd.read_csv(fitted / "stories.csv")
    assert len(table) == len(stories) and list(table["story_id"]) == list(stories["story_id"])
    assert list(table.columns[:6]) == ["story_id", "headline", "label", "class", "label_from", "n_votes"]
    assert [c for c in table.columns if c.startswith("p_")] == ["p_politics", "p_sports", "p_tech"]
    assert table.loc[0, "headline"] == stories.loc[0, "headline"]
    answered = table.set_index("story_id").loc["s002"]
    assert (answered["class"], answered["label_from"], answered["label"]) == ("sports", "annotation", 1)
    voted = table[table["label_from"] == "label_model"]
    assert len(voted) > 0 and (voted[["p_politics", "p_sports", "p_tech"]].sum(axis=1).round(6) == 1).all()
    assert "1 from annotation" in out.output


def test_labelled_only_leaves_out_items_no_source_voted_on(fitted):
    _cli("export", "all.jsonl")
    _cli("export", "some.parquet", "--labelled-only")
    every = pd.read_json(fitted / "all.jsonl", lines=True)
    some = pd.read_parquet(fitted / "some.parquet")
    unvoted = every[(every["n_votes"] == 0) & (every["label_from"] != "annotation")]
    assert len(unvoted) > 0, "the news project leaves a third of its headlines without a vote"
    assert len(some) == len(every) - len(unvoted)
    assert (some["n_votes"] > 0).sum() + (some["label_from"] == "annotation").sum() >= len(some)


def test_an_unknown_format_names_the_argument_and_the_formats(fitted):
    out = CliRunner().invoke(main, ["export", "labels.xlsx"])
    assert out.exit_code == 1
    assert "OUTPUT" in out.output and ".parquet" in out.output and "labels.xlsx" in out.output, out.output
