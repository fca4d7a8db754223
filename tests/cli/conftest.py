"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from weaklab.cli import main


@pytest.fixture()
def spam_project(tmp_path, monkeypatch):
    """A fresh `weaklab init --items 200` project (the bundled spam comments) as the working folder."""
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["init", "--items", "200"])
    assert out.exit_code == 0, out.output
    return tmp_path
