"""The CLI prints user-given names literally: class and source names with square brackets are not read as markup."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main


def _invoke(*args: str):
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return out


def test_explain_prints_bracketed_class_and_source_names(tmp_path, monkeypatch):
    """A class named "[spam]" and a source named "re[link]" appear as given in `weaklab explain` (rich would
    otherwise drop "[spam]" as an unknown style tag)."""
    monkeypatch.chdir(tmp_path)
    _invoke("init", "--items", "80")
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text().replace('classes = ["HAM", "SPAM"]', 'classes = ["HAM", "[spam]"]'))
    lfs = tmp_path / "lfs.py"
    lfs.write_text(lfs.read_text().replace('HAM, SPAM = "HAM", "SPAM"', 'HAM, SPAM = "HAM", "[spam]"')
                   .replace('name="re_link"', 'name="re[link]"'))
    data_file = tmp_path / "data" / "comments.csv"
    data = pd.read_csv(data_file)
    data["label"] = data["label"].replace({"SPAM": "[spam]"})
    data.to_csv(data_file, index=False)
    _invoke("fit")
    for item in data["comment_id"]:
        story = json.loads(_invoke("explain", str(item), "--json").stdout)
        if any(v["source"] == "re[link]" for v in story["votes"]):
            break
    else:
        raise AssertionError("no item with a re[link] vote")
    text = _invoke("explain", str(item)).output
    assert "re[link]" in text and "[spam] (1)" in text
