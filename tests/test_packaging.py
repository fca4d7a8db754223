"""The package people install: an sdist and a wheel that work outside the checkout.

Builds both from the repository with ``python -m build`` (no network: the build backend of the
test environment is used), installs the wheel into an empty folder and runs ``weaklab demo`` from
there, in a fresh working directory, so nothing of the checkout (``src/``, the editable install)
can stand in for what the wheel ships.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import weaklab

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel, built once per test session even with several pytest-xdist workers.

    setuptools stages an sdist in ``weaklab-<version>/`` inside the checkout, so two workers building
    at the same time delete each other's staging folder; the first worker builds under a file lock in
    the folder all workers share, and the others reuse its output.
    """
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one folder for this session's workers
    out = shared / "weaklab-dist"
    with open(shared / "weaklab-dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "BUILT").exists():
            out.mkdir(exist_ok=True)
            done = subprocess.run(
                [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            (out / "BUILT").write_text("ok")
    return out


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {[p.name for p in found]}"
    return found[0]


def test_the_wheel_ships_the_files_weaklab_reads_at_run_time(dist: Path) -> None:
    names = set(zipfile.ZipFile(_one(dist, "*.whl")).namelist())
    for needed in ("weaklab/py.typed", "weaklab/models/hyper_label_model.npz", "weaklab/dashboard/templates/base.html"):
        assert needed in names, needed
    assert any(n.startswith("weaklab/data/bundled/") for n in names), "bundled demo data missing"
    assert any(n.startswith("weaklab/dashboard/static/") for n in names), "dashboard static assets missing"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "LICENSE missing from the wheel"


def test_the_version_is_written_in_one_place(dist: Path) -> None:
    wheel = _one(dist, "*.whl")
    assert wheel.name.startswith(f"weaklab-{weaklab.__version__}-")
    metadata = zipfile.ZipFile(wheel).read(f"weaklab-{weaklab.__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {weaklab.__version__}\n" in metadata
    assert "\nLicense-Expression: Apache-2.0\n" in metadata  # an SPDX string, not the deprecated table


def test_the_sdist_holds_what_a_rebuild_needs(dist: Path) -> None:
    sdist = _one(dist, "*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("pyproject.toml", "README.md", "LICENSE", "src/weaklab/__init__.py", "src/weaklab/py.typed"):
        assert needed in names, needed


def test_weaklab_demo_runs_from_the_installed_wheel(dist: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site),
         str(_one(dist, "*.whl"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # the wheel's copy comes before the editable checkout
    where = subprocess.run(
        [sys.executable, "-c", "import weaklab; print(weaklab.__file__)"],
        cwd=project, env=env, capture_output=True, text=True, check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout
    demo = subprocess.run(
        [str(site / "bin" / "weaklab"), "demo"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert (project / ".weaklab" / "weaklab.duckdb").exists()
    runs = subprocess.run(
        [str(site / "bin" / "weaklab"), "runs", "--json"], cwd=project, env=env, capture_output=True, text=True,
        check=False,
    )
    assert runs.returncode == 0 and '"run_id"' in runs.stdout, runs.stderr[-2000:]
