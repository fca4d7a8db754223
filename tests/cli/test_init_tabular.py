"""`weaklab init --example tabular`: a generated table project (sensor readings, a few category columns, a free-text
note, threshold LFs) that `weaklab train` runs as it is, with the tabular end model reading the table's columns."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.errors import ValidationError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("init") / "machines"
    out = CliRunner().invoke(main, ["init", str(root), "--example", "tabular", "--items", "400"])
    assert out.exit_code == 0, out.output
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = CliRunner().invoke(main, ["train", "--json"])
    assert result.exit_code == 0, result.output
    return root, result


def test_init_writes_a_table_project_with_threshold_lfs(trained):
    """The folder holds weaklab.toml (tabular end model), lfs.py and a 400-row table with gold on its dev rows."""
    root, _ = trained
    assert 'name = "tabular"' in (root / "weaklab.toml").read_text()
    assert "threshold_lf(" in (root / "lfs.py").read_text()
    table = pd.read_csv(root / "data" / "machines.csv", keep_default_na=False, na_values=[""])
    assert len(table) == 400 and set(table.loc[table["part"] == "dev", "verdict"]) == {"ok", "worn", "broken"}


def test_train_reads_the_sensors_and_categories_and_names_the_note_it_leaves_out(trained):
    """The end model reads every sensor and the two category columns, leaves the free-text note out with why, and
    labels the dev rows better than the label model it learned from (the rows no threshold covers)."""
    import json

    _, result = trained
    metrics = json.loads(result.output)["metrics"]
    end = metrics["end_model"]
    assert end["columns"] == ["temp_c", "vibration", "pressure_bar", "hours", "site", "model"]
    assert end["categories"] == {"site": 3, "model": 3} and end["skipped_columns"] == ["note"]
    assert end["accuracy"] > metrics["label_model"]["accuracy"]


def test_init_refuses_to_overwrite_and_checks_the_number_of_rows(trained, tmp_path):
    """An existing project is not overwritten without --force; --items out of range is named."""
    from weaklab.demo.tabular import init_tabular_project

    root, _ = trained
    with pytest.raises(ValidationError, match="use --force"):
        init_tabular_project(root)
    out = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--example", "tabular", "--items", "5"])
    assert out.exit_code != 0 and "--items" in out.output


@pytest.mark.parametrize("seed", ["x", -1, True])
def test_the_example_table_names_a_bad_seed(seed):
    """A seed that is not a non-negative integer is a ValidationError naming random_state (was numpy's TypeError or
    ValueError)."""
    from weaklab.demo.tabular import example_machines

    with pytest.raises(ValidationError, match="random_state"):
        example_machines(random_state=seed)
