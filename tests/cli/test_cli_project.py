"""The `weaklab` project commands end to end in a temporary folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.models import MajorityVote
from weaklab.store import Store


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture()
def project(spam_project):
    return spam_project


def _use_majority_vote(root):
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')


def test_init_apply_fit_runs_explain_round_trip(project):
    """init, apply, fit, then runs --json and explain --json describe the recorded run and one item."""
    assert {p.name for p in project.iterdir()} >= {"weaklab.toml", "lfs.py", "data"}
    assert _invoke("apply").exit_code == 0
    fit = _invoke("fit", "--json")
    assert fit.exit_code == 0, fit.output
    fitted = json.loads(fit.stdout)
    assert fitted["reused"] == {"apply": True, "fit": False}
    runs = json.loads(_invoke("runs", "--json").stdout)
    assert [r["run_id"] for r in runs] == [2, 1]
    assert {"run_id", "created_at", "dataset", "metrics", "item_ids"} <= set(runs[0])
    assert runs[0]["metrics"]["label_model"]["n_dev"] == 50
    # the run config records the label model the project's default resolves to, with its parameters
    default = {"name": "AutoLabelModel", "params": {"random_state": 0}}
    assert runs[0]["label_model"] == runs[1]["label_model"] == default
    with Store(project / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        config = store.runs().set_index("run_id").loc[2, "config"]
    assert config["label_model"] == default and config["end_model"]["name"] == "tfidf_logreg"
    assert "AutoLabelModel" in _invoke("runs").output
    item = runs[0]["item_ids"][0]
    story = json.loads(_invoke("explain", str(item), "--json").stdout)
    assert story["item_id"] == item and story["run_id"] == 2
    assert story["final_from"] in ("label_model", "votes", "none")
    assert story["posterior"] is not None and abs(sum(story["posterior"]["proba"]) - 1) < 1e-5
    assert all(v["version"] for v in story["votes"])


def test_changed_lf_records_new_version_and_diff_names_affected_items(project):
    """Changing one LF records a new source version and `diff` lists exactly the items whose label changed."""
    _use_majority_vote(project)
    assert _invoke("fit").exit_code == 0
    lfs = project / "lfs.py"
    lfs.write_text(lfs.read_text().replace('["song", "songs", "music", "voice", "dance"]', '["song", "love"]'))
    second = _invoke("fit", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["reused"] == {"apply": False, "fit": False}
    with Store(project / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        assert len(store.sources("kw_song")) == 2 and len(store.sources("kw_money")) == 1
        L1, L2 = store.load_matrix(1), store.load_matrix(2)
    before = np.argmax(MajorityVote().fit(L1).predict_proba(L1), axis=1)
    after = np.argmax(MajorityVote().fit(L2).predict_proba(L2), axis=1)
    expected = set(np.asarray(L1.item_ids)[before != after].tolist())
    diff = json.loads(_invoke("diff", "1", "2", "--json").stdout)
    assert expected and {row["item_id"] for row in diff["items"]} == expected
    assert all(row["versions_changed"] == ["kw_song"] for row in diff["items"])


def test_rerun_without_changes_reuses_matrix_and_label_model(project):
    """A second fit with nothing changed reuses the stored matrix and label model."""
    assert _invoke("fit").exit_code == 0
    again = json.loads(_invoke("fit", "--json").stdout)
    assert again["reused"] == {"apply": True, "fit": True}
    assert again["metrics"]["application_id"] == 1


def test_bad_config_exits_1_naming_file_and_key(project):
    """An unknown key or a wrong type in weaklab.toml exits 1 with a one-line message naming file and key."""
    config = project / "weaklab.toml"
    original = config.read_text()
    config.write_text(original.replace('[lfs]\n', '[lfs]\nmodul = "x.py"\n'))
    out = _invoke("fit")
    assert out.exit_code == 1
    assert "weaklab.toml: lfs.modul: expected one of the keys" in out.output
    assert "Traceback" not in out.output
    config.write_text(original.replace("n = 20", 'n = "many"'))
    out = _invoke("apply")
    assert out.exit_code == 1 and "query.n: expected an integer" in out.output


def test_failing_lf_module_names_module_and_error(project):
    """An LF module that raises on import gives exit 1 naming the module, the line and the exception."""
    (project / "lfs.py").write_text("import numpy as np\nraise RuntimeError('boom')\n")
    out = _invoke("apply")
    assert out.exit_code == 1
    assert "lfs.py failed to import (line 2): RuntimeError: boom" in out.output


def test_explain_unknown_item_and_missing_store_are_clear_errors(project):
    """`explain` of an unknown id, or any listing without a store, exits 1 with an actionable message."""
    out = _invoke("runs")
    assert out.exit_code == 1 and "no weaklab store" in out.output and "weaklab fit" in out.output
    assert _invoke("apply").exit_code == 0
    out = _invoke("explain", "no-such-comment")
    assert out.exit_code == 1
    assert "item_id" in out.output and "no-such-comment" in out.output


def test_bad_command_line_exits_2(project):
    """A missing argument is a usage error (exit code 2)."""
    assert _invoke("diff", "1").exit_code == 2


def test_query_report_and_label_studio_export(project):
    """`query` lists items to label, `annotate export` writes Label Studio tasks, `report` writes one HTML file."""
    out = _invoke("query", "--json")
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["query"]) == 20
    exported = _invoke("annotate", "export", "-o", "tasks.json", "--limit", "5")
    assert exported.exit_code == 0, exported.output
    assert len(json.loads((project / "tasks.json").read_text())) == 5
    report = _invoke("report", "-o", "run.html")
    assert report.exit_code == 0, report.output
    assert (project / "run.html").read_text().lstrip().lower().startswith("<!doctype html")
    alerts = _invoke("alerts", "--json")
    assert alerts.exit_code == 0 and isinstance(json.loads(alerts.stdout), list)


def test_the_sources_legend_explains_only_the_columns_shown(project):
    """Before a fit the sources table has no estimated accuracy, so its legend does not explain one; after the fit
    it does."""
    before = " ".join(_invoke("analyze").output.split())
    assert "emp accuracy: on the dev gold" in before and "est accuracy" not in before
    after = " ".join(_invoke("fit").output.split())
    assert "est accuracy: the label model's estimate" in after


def test_analyse_is_an_alias_of_analyze_hidden_from_the_listing(project):
    """`weaklab analyse` (the spelling of the docs and the pipeline step) runs `analyze`; --help lists one name."""
    british = _invoke("analyse", "--json")
    assert british.exit_code == 0, british.output
    assert json.loads(british.stdout)["steps"] == ["apply", "analyse"]
    help_text = _invoke("analyse", "--help").output
    assert help_text == _invoke("analyze", "--help").output.replace("main analyze", "main analyse")
    listing = _invoke("--help").output
    assert "  analyze " in listing and "  analyse " not in listing
