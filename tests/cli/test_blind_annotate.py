"""`weaklab annotate` in blind review ([review].show_suggestion = false) shows the item's text alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from weaklab.cli import main


@pytest.mark.parametrize("show", [True, False])
def test_annotate_hides_votes_and_soft_label_in_blind_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             show: bool) -> None:
    """Blind review prints the text and the keys but no 'votes:' nor 'soft label:' line, and says why; unset, both
    lines show."""
    from weaklab.pipeline import Project, init_project

    init_project(tmp_path, n_items=60)
    if not show:
        config = tmp_path / "weaklab.toml"
        config.write_text(config.read_text() + "\n[review]\nshow_suggestion = false\n")
    Project(tmp_path).run(until="fit")
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["annotate", "--annotator", "tester", "--limit", "3"], input="q\n")
    assert out.exit_code == 0, out.output
    assert "] item " in out.output and "skip" in out.output
    assert ("votes:" in out.output, "soft label:" in out.output) == (show, show)
    assert ("blind review" in out.output) == (not show)
    assert ("[review].show_suggestion = false" in out.output) == (not show)  # the setting is named whole
