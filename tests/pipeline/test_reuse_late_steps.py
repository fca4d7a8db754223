"""`issues` and `query` reuse the recorded end model and issue judge when their inputs are unchanged
(no logistic regression is trained again), and retrain when an input changes."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from weaklab.cli import main
from weaklab.pipeline import Project


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("reuse") / "p"
    assert CliRunner().invoke(main, ["init", str(root), "--items", "200"]).exit_code == 0
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    return root


@pytest.fixture()
def project(template, tmp_path):
    import shutil

    shutil.copytree(template, tmp_path / "p")
    return tmp_path / "p"


@pytest.fixture()
def fits(monkeypatch):
    """Counts LogisticRegression.fit calls (the end model's and the judge's training)."""
    calls = []
    original = LogisticRegression.fit

    def counting(self, X, y, sample_weight=None):
        calls.append(1)
        return original(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(LogisticRegression, "fit", counting)
    return calls


def test_issues_twice_trains_nothing_the_second_time(project, fits):
    """The second `issues` run reuses train and the judge: no fit, the same metrics and the same issues."""
    first = Project(project).run("issues")
    assert len(fits) >= 6 and first.reused["train"] is False and first.reused["issues"] is False
    fits.clear()
    second = Project(project).run("issues")
    assert fits == []
    assert second.reused == {"apply": True, "fit": True, "train": True, "issues": True}
    assert second.metrics["end_model"]["reused_from"] == first.run_id
    for key in ("accuracy", "macro_f1", "ece"):
        assert second.metrics["end_model"][key] == first.metrics["end_model"][key]
    assert second.issues["item_id"].tolist() == first.issues["item_id"].tolist()
    assert np.allclose(second.issues["score"], first.issues["score"])


def test_query_after_issues_reuses_the_end_model(project, fits):
    """`query` after `issues` trains nothing and proposes the same items as a fresh computation would."""
    Project(project).run("issues")
    fits.clear()
    reused = Project(project).run("query")
    assert fits == [] and reused.reused["train"] is True
    (project / ".weaklab" / "weaklab.duckdb").unlink()
    fresh = Project(project).run("query")
    assert fresh.reused["train"] is False
    assert reused.query == fresh.query


def test_a_changed_issue_method_reuses_the_judge_only(project, fits):
    """Another [issues].method needs no training either; the issues are recomputed from the judge."""
    Project(project).run("issues")
    config = project / "weaklab.toml"
    config.write_text(config.read_text() + '\n[issues]\nmethod = "predicted_neq_given"\n')
    fits.clear()
    again = Project(project).run("issues")
    assert fits == [] and again.reused["issues"] is True
    assert (again.issues["given"] != again.issues["suggested"]).all()


def test_changed_end_model_params_retrain(project, fits):
    """A new C is a new end model: train and the judge run again."""
    Project(project).run("train")
    config = project / "weaklab.toml"
    config.write_text(config.read_text().replace("params = { C = 4.0 }", "params = { C = 1.0 }"))
    fits.clear()
    again = Project(project).run("issues")
    assert again.reused["train"] is False and again.reused["issues"] is False and len(fits) >= 6
