"""Small CLI behaviours: seeds are checked, an unknown --run fails, report -o says it created a folder,
piped tables keep their full width, and --help starts without numpy/pandas/scipy."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab import LabelMatrix, ValidationError
from weaklab.cli import main
from weaklab.models import MatrixCompletion
from weaklab.store import Store


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "s.duckdb"
    long_name = "a_source_with_a_rather_long_name_" + "x" * 60
    with Store(path) as st:
        ds = st.add_dataset("d", n_items=30)
        run = st.start_run(ds)
        L = LabelMatrix(np.random.default_rng(0).integers(-1, 2, (30, 2)), source_names=[long_name, "b"])
        st.add_application(ds, L, run_id=run)
        st.add_alert(run, "coverage_drop", "coverage fell from 40 % to 10 % " + "y" * 80, source=long_name,
                     value=0.3)
        st.finish_run(run, metrics={"x": 1})
    return path


def test_random_state_of_the_wrong_type_is_refused():
    """random_state="x" is a ValidationError for every label model, also those without their own check."""
    L = LabelMatrix(np.random.default_rng(0).integers(-1, 2, (40, 3)))
    with pytest.raises(ValidationError, match=r"random_state"):
        MatrixCompletion(random_state="x").fit(L)


def test_project_seed_is_checked(tmp_path):
    """Project(random_state="x") fails at once, naming random_state."""
    from weaklab.pipeline import Project

    assert _invoke("init", str(tmp_path / "p"), "--items", "20").exit_code == 0
    with pytest.raises(ValidationError, match=r"random_state"):
        Project(tmp_path / "p", random_state="x")


def test_alerts_of_an_unknown_run_fail(store):
    """`alerts --run 999` exits 1 naming the run, instead of printing an empty table."""
    out = _invoke("alerts", "--store", str(store), "--run", "999")
    assert out.exit_code == 1 and "999" in out.output and "run_id" in out.output


def test_report_says_when_it_creates_a_folder(store, tmp_path):
    """`report -o new/dir/r.html` writes the file and says which folder it created."""
    target = tmp_path / "new" / "dir" / "r.html"
    out = _invoke("report", "--store", str(store), "-o", str(target))
    assert out.exit_code == 0, out.output
    assert target.is_file()
    assert "created the folder" in out.output and str(tmp_path / "new") in out.output
    again = _invoke("report", "--store", str(store), "-o", str(target))
    assert "created the folder" not in again.output


def test_piped_tables_are_not_cut_to_80_columns(store):
    """Piped output keeps long names and messages whole (no ellipsis, no wrapping at 80 columns)."""
    out = subprocess.run([sys.executable, "-c", "import sys; from weaklab.cli import main; sys.exit(main())",
                          "alerts", "--store", str(store)], capture_output=True, text=True, env=_env())
    assert out.returncode == 0, out.stderr
    assert "a_source_with_a_rather_long_name_" + "x" * 60 in out.stdout
    assert "y" * 80 in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) > 80


def test_help_starts_without_the_numeric_stack():
    """`weaklab --help` and `weaklab fit --help` import neither numpy, pandas, scipy, sklearn nor duckdb."""
    code = ("import sys\nfrom weaklab.cli import main\n"
            "for args in (['--help'], ['fit', '--help'], ['runs', '--help']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
            "print('LOADED', sorted(m for m in ('numpy', 'pandas', 'scipy', 'sklearn', 'duckdb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def test_runs_json_still_works_after_lazy_imports(store):
    """The lazy imports still serve a real command."""
    out = _invoke("runs", "--store", str(store), "--json")
    assert out.exit_code == 0 and json.loads(out.stdout)[0]["run_id"] == 1


def _env():
    import os

    return {**os.environ, "COLUMNS": ""}
