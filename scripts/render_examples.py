"""Run the tutorial scripts in examples/ and record what they print, for the documentation.

Each script's output goes to ``examples/output/<script>.txt``, headed by the command, the weaklab
version, the date and a hash of the script. ``docs/examples.md`` shows these files under the code, and
``tests/test_examples.py`` fails when a script changed after its output was recorded (re-run this).

Usage (from the repository root, with the benchmark data at ../shared/data or $WEAKLAB_DATA)::

    python scripts/render_examples.py                 # every example
    python scripts/render_examples.py youtube_spam.py  # some of them
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WEAKLAB_DATA", ROOT.parent / "shared" / "data"))

#: Script -> arguments of the documented run ("{data}" is the benchmark-data folder).
RUNS: dict[str, tuple[str, ...]] = {
    "youtube_spam.py": (),
    "crowd_truth_inference.py": ("{data}/crowd_zheng2017/d_jn-product",),
    "wrench_end_to_end.py": ("{data}/wrench_youtube",),
    "fashion_images.py": (),
    "dask_local_cluster.py": ("--copies", "10"),
}


def script_hash(path: Path) -> str:
    """First 16 hex digits of the SHA-256 of a script's bytes (what the header records)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def render(name: str) -> Path:
    script = ROOT / "examples" / name
    args = [a.format(data=DATA) for a in RUNS[name]]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "WEAKLAB_DATA": str(DATA), "MPLBACKEND": "Agg",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=False,
                          cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    from weaklab import __version__

    shown = " ".join(["python", f"examples/{name}", *[a.replace(str(DATA), "$WEAKLAB_DATA") for a in args]])
    header = (f"# $ {shown}\n# weaklab {__version__}, {dt.date.today().isoformat()}, "
              f"script sha256 {script_hash(script)}\n")
    out = ROOT / "examples" / "output" / f"{Path(name).stem}.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(header + done.stdout, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scripts to run (default: all)")
    names = parser.parse_args().names or sorted(RUNS)
    unknown = sorted(set(names) - set(RUNS))
    if unknown:
        raise SystemExit(f"unknown example(s) {unknown}; known: {sorted(RUNS)}")
    for name in names:
        print(f"{name}: wrote {render(name).relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
