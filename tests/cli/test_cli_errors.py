"""Bad settings and inputs end in one weaklab error line and exit 1 (never a traceback), and the
[end_model], [issues] and [query] settings are checked when weaklab.toml is loaded, before any work."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from weaklab.cli import main


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors") / "p"
    out = _invoke("init", str(root), "--items", "60")
    assert out.exit_code == 0, out.output
    config = root / "weaklab.toml"
    text = config.read_text().replace('name = "MatrixCompletion"', 'name = "MajorityVote"')
    config.write_text(text.replace("params = { random_state = 0 }\n", "", 1))
    return root


@pytest.fixture()
def project(template, tmp_path, monkeypatch):
    import shutil

    target = tmp_path / "p"
    shutil.copytree(template, target)
    monkeypatch.chdir(target)
    return target


def _set(project, old: str, new: str) -> None:
    config = project / "weaklab.toml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))


def _one_line_error(out, *needles: str) -> None:
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit), repr(out.exception)
    assert "Traceback" not in out.output
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(("params", "key"), [
    ("C = -1.0", "end_model.params.C"), ("C = \"x\"", "end_model.params.C"),
    ("ngram_max = 0", "end_model.params.ngram_max"), ("max_iter = 0", "end_model.params.max_iter"),
    ("min_df = 0", "end_model.params.min_df"), ("gamma = 1", "end_model.params.gamma"),
])
def test_bad_end_model_params_fail_at_load(project, params, key):
    """A bad [end_model] params value stops even `apply` (nothing runs), naming the key."""
    _set(project, "params = { C = 4.0 }", f"params = {{ {params} }}")
    _one_line_error(_invoke("apply"), key)
    assert not (project / ".weaklab").exists()


def test_min_df_larger_than_the_data_is_one_error_line(project):
    """min_df above the number of texts is refused by train with the key named (not sklearn's ValueError)."""
    _set(project, "params = { C = 4.0 }", "params = { min_df = 100000 }")
    _one_line_error(_invoke("train"), "end_model.params.min_df")


def test_parquet_format_on_a_csv_file(project):
    """format = "parquet" on a CSV file names data.format and says the file is not Parquet."""
    _set(project, 'path = "data/comments.csv"', 'path = "data/comments.csv"\nformat = "parquet"')
    _one_line_error(_invoke("apply"), "data.format", "comments.csv")


@pytest.mark.parametrize(("table", "setting", "key"), [
    ("issues", 'method = "nope"', "issues.method"),
    ("issues", "max_issues = -3", "issues.max_issues"),
    ("query", "n = 0", "query.n"),
])
def test_issues_and_query_settings_are_checked_at_load(project, table, setting, key):
    """A bad [issues]/[query] value stops `apply` before any work, named with its table."""
    config = project / "weaklab.toml"
    text = config.read_text()
    if f"[{table}]" in text:
        text = text.replace("n = 20", setting) if table == "query" else text
    else:
        text += f"\n[{table}]\n{setting}\n"
    config.write_text(text)
    _one_line_error(_invoke("apply"), key)
    assert not (project / ".weaklab").exists()


def test_init_into_an_unwritable_place(tmp_path):
    """`weaklab init` under a regular file says it cannot write there, in one line."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    _one_line_error(_invoke("init", str(blocker / "project")), "file.txt")


def test_init_items_out_of_range_names_the_option(tmp_path):
    """`init --items 10` names --items, not the internal parameter n_items."""
    out = _invoke("init", str(tmp_path / "p"), "--items", "10")
    assert out.exit_code == 2
    assert "--items" in out.output and "n_items" not in out.output
