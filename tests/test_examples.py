"""Every script in examples/ runs to the end on the current code (the ones small enough for CI).

Each example is run as a user would run it, in a fresh process from an empty working directory. A
new script in examples/ must be listed here, either with how to run it or with the reason it is too
slow for the suite, so no example silently stops working.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py"))

#: Example -> (data set it needs or None, extra arguments given that folder, a line its output must hold).
RUNS: dict[str, tuple[str | None, tuple[str, ...], str]] = {
    "youtube_spam.py": (None, (), "end model trained on soft labels: test accuracy"),
    "crowd_truth_inference.py": ("crowd_zheng2017", ("d_jn-product",), "DawidSkene: accuracy on gold items"),
    "wrench_end_to_end.py": ("wrench_youtube", (".",), "are wrong by the train gold"),
}
#: Examples left out of the suite, with the reason.
TOO_SLOW = {
    "fashion_images.py": "trains three CNNs on 3,000 Fashion-MNIST images: minutes on one core",
}


def test_every_example_is_run_or_excused() -> None:
    assert set(EXAMPLES) == set(RUNS) | set(TOO_SLOW), (
        f"list new examples in RUNS or TOO_SLOW: {sorted(set(EXAMPLES) - set(RUNS) - set(TOO_SLOW))}; "
        f"gone: {sorted(set(RUNS) | set(TOO_SLOW) - set(EXAMPLES))}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs(name: str, tmp_path: Path, dataset) -> None:
    data, args, expected = RUNS[name]
    argv = [str(dataset(data) / a) for a in args] if data else list(args)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), *argv], capture_output=True, text=True,
                          check=False, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert expected in done.stdout, done.stdout[-2000:]
