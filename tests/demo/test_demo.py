"""The main job: `weaklab demo` on the bundled YouTube comments."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.demo import SpamDemo
from weaklab.store import Store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    return tmp_path_factory.mktemp("demo") / "weaklab.duckdb"


@pytest.fixture(scope="module")
def demo_result(demo_store):
    return SpamDemo(random_state=0, store=demo_store).run()


def test_demo_applies_at_least_ten_sources_of_several_kinds(demo_result, demo_store):
    """The demo applies >= 10 labeling functions of several kinds (keyword, regex, lookup, threshold, model and
    Python rules, row-wise and vectorized), each recorded with a version and timed."""
    report = demo_result.report
    assert report is not None
    frame = report.to_frame()
    assert len(frame) >= 10
    assert demo_result.summary is not None and list(demo_result.summary.index) == list(frame.index)
    # a timing per source: measured (finite, > 0), and together no more than the whole application took
    seconds = frame["seconds"].to_numpy()
    assert np.all(np.isfinite(seconds)) and np.all(seconds > 0)
    assert seconds.sum() <= report.total_seconds * 1.05 + 0.01
    # a version per source: the run names one for every source, and the store holds that version
    with Store(demo_store) as store:
        sources = store.sources().set_index("name")
        config = store.runs().set_index("run_id").loc[demo_result.run_id, "config"]
    versions = (json.loads(config) if isinstance(config, str) else config)["sources"]
    assert set(versions) == set(frame.index)
    for name, version in versions.items():
        assert isinstance(version, str) and len(version) >= 16
        assert sources.loc[name, "version"] == version
    # several kinds: the constructor each source was built with (row-wise and vectorized Python rules apart)
    kinds = set()
    for name in frame.index:
        code, params = sources.loc[name, "code"], sources.loc[name, "params"]
        kind = code.split("(", 1)[0]
        if kind == "@labeling_function":
            vectorized = (json.loads(params) if isinstance(params, str) else params).get("vectorized")
            kind += " vectorized" if vectorized else " row-wise"
        kinds.add(kind)
    assert kinds >= {"keyword_lf", "regex_lf", "lookup_lf", "threshold_lf", "model_lf",
                     "@labeling_function row-wise", "@labeling_function vectorized"}


def test_weak_end_model_is_close_to_gold_and_better_than_chance(demo_result):
    """The model trained on soft labels beats chance by far and stays within 10 points of gold training."""
    em = demo_result.end_model
    assert em["weak_accuracy"] > 0.75
    assert em["gold_accuracy"] - em["weak_accuracy"] < 0.10
    lm = demo_result.label_model
    assert 0.5 < lm["coverage_test"] <= 1.0
    assert lm["accuracy_covered"] > 0.7


def test_default_label_model_is_shown_beside_majority_vote(demo_result):
    """The demo fits AutoLabelModel, reports its choice and is within a point of majority vote on test."""
    lm = demo_result.label_model
    assert demo_result.label_model_choice
    assert lm["accuracy_all"] >= lm["majority_accuracy_all"] - 0.01


def test_recorded_sources_have_an_estimated_accuracy(demo_result, demo_store):
    """Most sources get the label model's estimated accuracy (the dashboard's column); a blank is left, not a guess,
    only for a rare rule whose votes share few comments with other sources' (fewer than ten in the label model's
    fit, near-copies aside)."""
    with Store(demo_store) as store:
        names = store.sources()["name"].unique()
        n_items = len(store.load_matrix(demo_result.run_id).item_ids)
        estimated = {name: store.source_history(name) for name in names}
    filled = 0
    for name, history in estimated.items():
        row = history[history["run_id"] == demo_result.run_id]
        assert "est_accuracy" in row.columns, name
        if row["est_accuracy"].isna().any():  # blank only for a rule that shares few items with another source
            assert float(row["overlaps"].iloc[0]) * n_items < 30, name
        filled += int(row["est_accuracy"].notna().all())
    assert filled >= 0.75 * len(estimated)


def test_demo_is_deterministic():
    """Two runs with the same seed give the same numbers."""
    a = SpamDemo(random_state=3).run()
    b = SpamDemo(random_state=3).run()
    assert a.end_model == b.end_model and a.label_model == b.label_model


def test_cli_demo_prints_tables_and_json(tmp_path, monkeypatch):
    """`weaklab demo` prints the source table and accuracies; --json prints parseable results."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = runner.invoke(main, ["demo"])
    assert out.exit_code == 0, out.output
    assert "Accuracy on the held-out test comments" in out.output
    out_json = runner.invoke(main, ["demo", "--json"])
    assert out_json.exit_code == 0, out_json.output
    data = json.loads(out_json.stdout)
    assert set(data["end_model"]) >= {"weak_accuracy", "gold_accuracy"}


def test_cli_demo_records_runs_and_explains_a_real_comment(tmp_path, monkeypatch):
    """Each `weaklab demo` records one run in ./.weaklab/; it prints an `explain` command that works."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / ".weaklab" / "weaklab.duckdb").is_file()
    line = next(x for x in first.output.splitlines() if "weaklab explain" in x)
    item = line.split("weaklab explain", 1)[1].split()[0]
    assert "weaklab report" in first.output or "report" in first.output
    assert "serve" in first.output
    second = json.loads(runner.invoke(main, ["demo", "--json"]).stdout)
    runs = json.loads(runner.invoke(main, ["runs", "--json"]).stdout)
    assert [r["run_id"] for r in runs] == [second["run_id"], second["run_id"] - 1]
    assert runs[0]["dataset"] == "youtube_spam" and runs[0]["metrics"]["end_model"]["weak_accuracy"] > 0.75
    story = json.loads(runner.invoke(main, ["explain", item, "--json"]).stdout)
    assert story["item_id"] == item and len(story["votes"]) >= 1
    assert {v["label"] for v in story["votes"]} == {0, 1}  # the example comment has conflicting votes
    assert story["posterior"] is not None and story["final_from"] == "label_model"
    diff = json.loads(runner.invoke(main, ["diff", str(runs[1]["run_id"]), str(runs[0]["run_id"]), "--json"]).stdout)
    assert diff["n_changed"] == 0  # same seed, same sources: nothing changes


def test_cli_rejects_bad_option_with_a_clear_message():
    """A bad option value exits non-zero and names the option."""
    out = CliRunner().invoke(main, ["demo", "--n-jobs", "x"])
    assert out.exit_code != 0
    assert "--n-jobs" in out.output
