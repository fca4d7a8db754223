"""What a newcomer's first mistakes in their own project print: one weaklab error line naming the setting,
what was expected and what arrived, before any labeling function runs."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from weaklab.cli import main


def _fit(root: Path, monkeypatch):
    monkeypatch.chdir(root)
    return CliRunner().invoke(main, ["fit"])


def _one_line_error(out) -> str:
    assert out.exit_code == 1, out.output
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output
    assert "Traceback" not in out.output
    return lines[0]


def test_a_misspelt_label_model_parameter_lists_the_accepted_keys(news_project, news_classes, monkeypatch):
    news_classes(news_project, ["politics", "sports", "tech"])
    config = news_project / "weaklab.toml"
    config.write_text(config.read_text().replace('name = "MajorityVote"',
                                                 'name = "DawidSkene"\nparams = { max_iters = 3 }'))
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "label_model.params.max_iters" in line and "'max_iter'" in line and "DawidSkene" in line, line
    assert "_DawidSkeneModel" not in line and "__init__" not in line, line


def test_a_bad_label_model_parameter_stops_the_run_before_the_sources_run(news_project, monkeypatch):
    """Nothing is applied or recorded: the check runs before the data and the LFs are touched."""
    config = news_project / "weaklab.toml"
    config.write_text(config.read_text().replace('name = "MajorityVote"',
                                                 'name = "MajorityVote"\nparams = { random_state = 0 }'))
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "label_model.params.random_state" in line and "['smoothing']" in line, line
    assert not (news_project / ".weaklab").exists()


def test_a_data_file_with_a_header_and_no_rows_names_the_file(news_project, monkeypatch):
    (news_project / "stories.csv").write_text("story_id,headline,truth\n")
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "data.path" in line and "stories.csv" in line and "no rows" in line, line
    assert "item_ids" not in line, line


def test_a_plain_function_in_the_lf_list_says_how_to_make_it_a_labeling_function(news_project, monkeypatch):
    (news_project / "lfs.py").write_text("def plain(x):\n    return 0\n\nlfs = [plain]\n")
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "'plain'" in line and "@labeling_function()" in line and " at 0x" not in line, line


def test_python_dash_m_weaklab_runs_the_command(tmp_path):
    import subprocess

    done = subprocess.run([sys.executable, "-m", "weaklab", "--version"], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0 and "weaklab" in done.stdout.lower(), done.stdout + done.stderr


def test_an_empty_data_file_is_called_empty(news_project, monkeypatch):
    (news_project / "stories.csv").write_text("")
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "stories.csv" in line and "an empty file" in line and "No columns to parse" not in line, line


def test_a_raising_lf_names_the_way_to_keep_going(news_project, monkeypatch):
    (news_project / "lfs.py").write_text("from weaklab import keyword_lf, labeling_function\n\n\n"
                                         "@labeling_function()\ndef boom(x):\n    return [][1]\n\n\n"
                                         "lfs = [boom, keyword_lf(['match'], 1)]\n")
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "'boom' raised IndexError" in line and "on_error = \"abstain\"" in line and "[lfs]" in line, line
    config = news_project / "weaklab.toml"
    config.write_text(config.read_text().replace('module = "lfs.py"', 'module = "lfs.py"\non_error = "abstain"'))
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 0, out.output
    assert "boom: 45 item(s) raised, counted as abstentions" in out.output and "IndexError" in out.output
    assert "report.faults" not in out.output and "RuntimeWarning" not in out.output


def test_sources_that_never_vote_are_named_as_such(news_project, monkeypatch):
    (news_project / "lfs.py").write_text("from weaklab import keyword_lf\n\nlfs = [keyword_lf(['zebra'], 1)]\n")
    line = _one_line_error(_fit(news_project, monkeypatch))
    assert "lfs: expected labeling functions that vote on some items" in line and "45 items" in line, line


def test_an_unknown_run_is_called_a_run(news_project, monkeypatch):
    assert _fit(news_project, monkeypatch).exit_code == 0
    for args in (["explain", "s000", "--run", "99"], ["diff", "1", "99"], ["export", "x.csv", "--run", "99"]):
        line = _one_line_error(CliRunner().invoke(main, args))
        assert "run_id: expected the id of a run in this store" in line and "weaklab runs" in line, (args, line)
