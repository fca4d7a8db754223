"""Every script in examples/ runs to the end on the current code, and its recorded output is current.

Each example is run as a user would run it, in a fresh process from an empty working directory (the
slow ones with a smaller setting of their own). A new script in examples/ must be listed here, so no
example silently stops working. The output the documentation shows under each script
(``examples/output/<script>.txt``, written by ``scripts/render_examples.py``) must have been recorded
from the script as it is now: changing a script without re-rendering its output fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py"))

#: Example -> (data set it needs or None, arguments (paths inside that data set; options start with
#: "--"), a line its output must hold).
RUNS: dict[str, tuple[str | None, tuple[str, ...], str]] = {
    "youtube_spam.py": (None, (), "end model trained on soft labels: test accuracy"),
    "crowd_truth_inference.py": ("crowd_zheng2017", ("d_jn-product",), "DawidSkene: accuracy on gold items"),
    "wrench_end_to_end.py": ("wrench_youtube", (".",), "are wrong by the train gold"),
    "fashion_images.py": ("fashion_mnist", ("--quick",), "CNN on weak labels (co-teaching):"),
    "dask_local_cluster.py": (None, ("--copies", "2"), "Dawid-Skene on Dask equals the local engine: True"),
}


def test_every_example_is_run() -> None:
    assert set(EXAMPLES) == set(RUNS), (
        f"list new examples in RUNS: {sorted(set(EXAMPLES) - set(RUNS))}; gone: {sorted(set(RUNS) - set(EXAMPLES))}"
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_recorded_output_is_from_the_current_script(name: str) -> None:
    """The documentation shows output recorded from this very script (same SHA-256 prefix)."""
    output = ROOT / "examples" / "output" / f"{Path(name).stem}.txt"
    assert output.exists(), f"no recorded output for {name}: run python scripts/render_examples.py {name}"
    found = re.search(r"script sha256 ([0-9a-f]{16})", output.read_text(encoding="utf-8").split("\n", 2)[1])
    current = hashlib.sha256((ROOT / "examples" / name).read_bytes()).hexdigest()[:16]
    assert found and found.group(1) == current, (
        f"{output.name} was recorded from another version of {name}: run python scripts/render_examples.py {name}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs(name: str, tmp_path: Path, dataset) -> None:
    data, args, expected = RUNS[name]
    folder = dataset(data) if data else None
    argv = [a if a.startswith("--") or folder is None else str(folder / a) for a in args]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    if folder is not None:
        env["WEAKLAB_DATA"] = str(folder.parent)
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), *argv], capture_output=True, text=True,
                          check=False, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert expected in done.stdout, done.stdout[-2000:]
