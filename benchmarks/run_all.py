"""Run every benchmark script in turn and regenerate BENCHMARKS.md.

Usage (from the repository root, in the benchmark environment made by ``make bench``)::

    .venv-bench/bin/python benchmarks/run_all.py            # full sizes; rewrites BENCHMARKS.md sections
    .venv-bench/bin/python benchmarks/run_all.py --quick    # small sizes; BENCHMARKS.md untouched
    .venv-bench/bin/python benchmarks/run_all.py --only lf_apply

A full run writes BENCHMARKS.md only from a clean committed tree (each script refuses otherwise), unless
``--allow-dirty`` is given; every section names the commit it was measured at.

Each script runs in its own interpreter, one after another (never in parallel: the machine has 2 cores and
the measurements must not compete). A failing script is reported and the others still run; the exit status
is non-zero if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

#: Benchmark scripts, in the order they run. Add new scripts here.
SCRIPTS: list[str] = [
    "lf_apply.py",
    "label_models_quality.py",
    "label_models_speed.py",
    "store.py",
    "end_models.py",
    "noise_robust.py",
    "cleaning.py",
    "active.py",
    "vision_noisy.py",
    "tagging.py",
    "generate_lfs.py",
    "imprecise.py",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, passed to every script")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scripts (name without .py)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="passed to every script: write BENCHMARKS.md even from uncommitted changes")
    args = parser.parse_args(argv)

    scripts = SCRIPTS
    if args.only:
        wanted = {n.removesuffix(".py") for n in args.only}
        unknown = wanted - {s.removesuffix(".py") for s in SCRIPTS}
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(SCRIPTS)}")
        scripts = [s for s in SCRIPTS if s.removesuffix(".py") in wanted]

    failed: list[str] = []
    for script in scripts:
        cmd = [sys.executable, str(BENCH_DIR / script), *(["--quick"] if args.quick else []),
               *(["--allow-dirty"] if args.allow_dirty else [])]
        print(f"==> {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"<== {script}: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        if rc != 0:
            failed.append(script)
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(scripts)} benchmark script(s) finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
