"""`weaklab report` on a multilabel run: sources per label, the label model's choice, per-label scores and ECE."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.evaluation import label_calibration_errors
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel_stats import label_vote_stats

from .conftest import RECIPE_LABELS, write_recipe_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mlreport") / "recipes"
    write_recipe_project(root)
    run = Project(root).run("train")
    out = CliRunner().invoke(main, ["report", "-o", str(root / "out" / "report.html"),
                                    "--store", str(root / ".weaklab" / "weaklab.duckdb")])
    assert out.exit_code == 0, out.output
    return root, run, (root / "out" / "report.html").read_text(encoding="utf-8")


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}">')
    return html[start:html.index("</section>", start)]


def test_report_shows_the_recorded_dev_scores_of_both_models(project) -> None:
    """Micro/macro F1, Hamming loss and each label's F1 on the dev gold appear as the run recorded them."""
    _, run, html = project
    lm, em = run.metrics["label_model"]["dev"], run.metrics["end_model"]["dev"]
    model = _section(html, "label-model")
    for key in ("micro_f1", "macro_f1", "hamming_loss"):
        assert f"{lm[key]:.3f}" in model and f"{em[key]:.3f}" in _section(html, "end-model")
    assert f"{run.metrics['label_model']['majority_vote']['micro_f1']:.3f}" in model
    for label in RECIPE_LABELS:
        assert f"<td>{label}</td>" in model and f"{lm['per_label'][label]['f1']:.3f}" in model


def test_recorded_per_label_ece_is_the_calibration_error_on_the_dev_gold(project) -> None:
    """Each label's ECE (fit and train record it) equals label_calibration_errors on the dev items, shown in
    the calibration section for both models."""
    root, run, html = project
    with Project(root).open_store(read_only=True) as store:
        sets = store.label_sets(run.run_id)
        role = {r: int(i) for r, i in zip(sets["role"], sets["label_set_id"])}
        gold = store.load_label_proba(role["gold"])
        dev = ~np.isnan(gold).any(axis=1)  # no split column: every item with gold is a dev item
        for who in ("label_model", "end_model"):
            expected = label_calibration_errors(store.load_label_proba(role[who])[dev], gold[dev].astype(int))
            recorded = [run.metrics[who]["dev"]["per_label"][label]["ece"] for label in RECIPE_LABELS]
            assert np.allclose(recorded, expected, atol=1e-6)
            assert all(f"{value:.3f}" in _section(html, "calibration") for value in recorded)


def test_sources_section_gives_each_labels_coverage_and_conflict(project) -> None:
    """Per label, the coverage and conflict of the run's votes (label_vote_stats) are in the sources section."""
    root, run, html = project
    sources = _section(html, "sources")
    with Project(root).open_store(read_only=True) as store:
        sets = store.label_sets(run.run_id)
        votes = store.load_multilabel_votes(int(sets.loc[sets["role"] == "votes", "label_set_id"].iloc[0]))
    stats = label_vote_stats(votes)
    for label in RECIPE_LABELS:
        row = f"<td>{label}</td><td class=\"num\">{stats.loc[label, 'coverage']:.3f}</td>"
        assert row in sources
    assert stats.loc["quick", "conflict"] > 0  # not_quick says absent where kw_quick may say present
    assert "kw_vegan2" in sources and "Per source and label" in sources


def test_label_model_section_names_each_labels_chosen_model(project) -> None:
    """A one-vs-rest label model's per-label base is listed with the label (here MajorityVote for each)."""
    _, _, html = project
    model = _section(html, "label-model")
    assert "What it chose per label" in model and model.count("MajorityVote") >= len(RECIPE_LABELS)


def test_report_of_a_run_that_only_applied_says_what_is_missing(tmp_path) -> None:
    """A multilabel run stopped after apply still gets a report: the missing parts say so, no error."""
    root = tmp_path / "recipes"
    write_recipe_project(root, n=60)
    run = Project(root).run("apply")
    out = CliRunner().invoke(main, ["report", "--run", str(run.run_id), "-o", str(tmp_path / "r.html"),
                                    "--store", str(root / ".weaklab" / "weaklab.duckdb")])
    assert out.exit_code == 0, out.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "The run fitted no label model." in html and "The run trained no end model" in html
    assert "Coverage and conflict per label" in html
