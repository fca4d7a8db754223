"""`weaklab init --example tagging` then `weaklab train`, `runs` and `explain` run a tagging project end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from weaklab.cli import main

pytest.importorskip("pycrfsuite")


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_tagging_example_runs_from_the_cli(tmp_path, monkeypatch) -> None:
    """init writes the project; train records span F1s; explain shows tokens, every source's spans and proposals."""
    monkeypatch.chdir(tmp_path)
    out = _invoke("init", "ner", "--example", "tagging", "--items", "60")
    assert out.exit_code == 0, out.output
    assert (tmp_path / "ner" / "data" / "sentences.csv").is_file()
    monkeypatch.chdir(tmp_path / "ner")
    out = _invoke("train", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["steps"] == ["apply", "analyse", "fit", "train"]
    assert 0.0 <= result["metrics"]["label_model"]["span_f1"]["micro"]["f1"] <= 1.0
    assert {s["source"] for s in result["sources"]} >= {"dict_chemical", "suffix_disease"}
    item = result["item_ids"][1]
    story = json.loads(_invoke("explain", str(item), "--json").output)
    assert story["kind"] == "tagging" and len(story["tokens"]) > 3
    assert len(story["sources"]) == len(result["sources"])
    shown = _invoke("explain", str(item)).output
    assert story["tokens"][0] in shown and "proposed (HMMLabelModel)" in shown and "final spans" in shown
    runs = _invoke("runs").output
    assert "label model span F1" in runs
    out = _invoke("init", "other", "--example", "tagging", "--items", "5")
    assert out.exit_code != 0 and "--items" in out.output
