"""`weaklab suggest` ranks a project's sources by harm and prints repairs as JSON or a table."""

from __future__ import annotations

import json

from click.testing import CliRunner

from weaklab.cli import main


def test_suggest_json_ranks_every_source_and_reuses_the_run(tmp_path, monkeypatch):
    """--json lists every LF once, most harmful first, with harm = caused - fixed; --run reads the same run."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--items", "200"]).exit_code == 0
    out = runner.invoke(main, ["suggest", "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    repairs = result["repairs"]
    assert {r["source"] for r in repairs} >= {"kw_my_channel", "kw_subscribe", "re_link"}
    assert len({r["source"] for r in repairs}) == len(repairs)
    assert [r["harm"] for r in repairs] == sorted((r["harm"] for r in repairs), reverse=True)
    assert all(r["harm"] == r["caused"] - r["fixed"] for r in repairs)
    assert all((r["action"] == "keep") == (r["harm"] <= 0) for r in repairs)
    assert all(r["replacement"] is not None for r in repairs if r["action"] == "narrow")
    assert 0 <= result["n_flagged"] <= result["n_judged"]
    again = runner.invoke(main, ["suggest", "--run", str(result["run_id"]), "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["repairs"] == repairs
    table = runner.invoke(main, ["suggest", "--run", str(result["run_id"])])
    assert table.exit_code == 0 and "Source repairs" in table.output


def test_suggest_names_a_run_without_issues(tmp_path, monkeypatch):
    """A run that stopped before the issues step is refused with a message naming it."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--items", "200"]).exit_code == 0
    assert runner.invoke(main, ["fit"]).exit_code == 0
    out = runner.invoke(main, ["suggest", "--run", "1"])
    assert out.exit_code != 0 and "issues" in out.output
