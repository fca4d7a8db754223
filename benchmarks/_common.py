"""Shared helpers for the benchmark scripts (not part of the weaklab package).

What lives here:

* timing: :func:`best_of` (wall time, best of N, via ``time.perf_counter``);
* memory: every measured case runs in a *fresh subprocess* (:func:`run_child`). After building its inputs
  the child resets its peak-RSS counter (:func:`reset_peak_rss`), runs the case and reports the peak
  (``VmHWM``) minus the RSS just before the case: the case's own peak increment. Cases with worker
  processes also sample the RSS of the descendants (:class:`ChildrenSampler`). A *baseline* child that
  only imports the libraries and builds the inputs reports the RSS such an interpreter needs anyway;
* machine facts (:func:`machine_info`): CPU model, cores, RAM, Python, package versions, git commit,
  load average at the start;
* results: JSON under ``benchmarks/results/`` (:func:`write_results`) and the matching section of
  ``BENCHMARKS.md`` between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` (:func:`update_markdown`),
  so several scripts share one file;
* provenance: a section is only written from a **clean committed tree** (:func:`check_tree` at the start
  of a run, again in :func:`update_markdown`), unless the script was given ``--allow-dirty``
  (:func:`add_tree_args`); the section names the commit it was measured at;
* units: memory in decimal units throughout (1 MB = 10^6 bytes, 1 GB = 10^9 bytes; :func:`fmt_bytes`),
  the units the targets are stated in.

A benchmark script uses it like this::

    if args.child:                       # inside the fresh subprocess
        setup = build_inputs(...)        # identical in the baseline child
        if args.child != "baseline":
            best, times, result = best_of(lambda: run_case(...), repeat)
        child_report(args.child_out, times=times, ...)
    else:                                # the parent: one child per case
        res = run_child(__file__, ["--child", "case-name", ...])
"""

from __future__ import annotations

import gc
import json
import os
import platform
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
BENCHMARKS_MD = REPO_DIR / "BENCHMARKS.md"

#: Packages whose versions every result records (missing ones are reported as "not installed").
DEFAULT_PACKAGES = (
    "weaklab",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "snorkel",
    "flyingsquid",
    "pgmpy",
    "cleanlab",
    "crowd-kit",
    "torch",
    "dask",
    "distributed",
    "psutil",
)

MD_HEADER = """\
# weaklab benchmarks

This file is **generated**; do not edit the tables by hand. Each section below is written by one script in
`benchmarks/` between its `<!-- BEGIN name -->` / `<!-- END name -->` markers and names the command that
produced it, the machine, the package versions and the date. The machine-readable results are in
`benchmarks/results/<name>.json`.

Regenerate everything with `make bench` (creates `.venv-bench` with `pip install -e ".[bench]"
-r benchmarks/requirements.txt`, then runs `benchmarks/run_all.py`), or one section with
`.venv-bench/bin/python benchmarks/<name>.py`. `--quick` runs small sizes and does not touch this file.

How to read the numbers: the machine is shared (2 cores; other work may run at the same time), so absolute
times are noisy. The **ratio** columns compare libraries measured in the *same* run, one after another on the
same inputs, which is what holds up. Times are the best of N wall-clock runs. Memory is measured in a fresh
process per case: the peak RSS while running the case minus the RSS just before it (inputs already built).
Where weaklab loses, the table says so. Memory is in decimal units throughout: 1 kB = 10^3 bytes,
1 MB = 10^6 bytes, 1 GB = 10^9 bytes (the units the targets are stated in).

Every section is written from a clean committed tree and names its commit; a run on uncommitted changes
refuses to touch this file unless it is given `--allow-dirty`, and then the section says so.
"""

#: Decimal memory units (every table and every target check uses these).
KB, MB, GB = 10**3, 10**6, 10**9


# --------------------------------------------------------------------------------------------- timing


def best_of(fn: Callable[[], Any], repeat: int = 3, *, collect: bool = True) -> tuple[float, list[float], Any]:
    """Run ``fn`` ``repeat`` times; return (best seconds, all seconds, result of the last run).

    A full ``gc.collect()`` runs before each repetition (outside the timed region), so garbage from the
    previous repetition is not charged to the next one.
    """
    times: list[float] = []
    result: Any = None
    for _ in range(max(1, repeat)):
        result = None
        if collect:
            gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def profile_call(fn: Callable[[], Any], top: int = 12) -> dict[str, Any]:
    """Run ``fn`` once under cProfile; the ``top`` functions by own time and by cumulative time.

    Each entry: ``{"function": "weaklab/labeling/x.py:12(f)", "ncalls", "tottime", "cumtime"}`` (paths
    shortened to the package). Cumulative entries are limited to weaklab's own functions, which is where
    a reader can act; own-time entries include everything (C kernels of numpy/pyarrow appear as their
    Python wrappers).
    """
    import cProfile
    import pstats

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.items():
        rows.append(
            {
                "function": f"{_short_path(path)}:{line}({name})",
                "ncalls": ncalls,
                "tottime": tottime,
                "cumtime": cumtime,
            }
        )
    by_tot = sorted(rows, key=lambda r: -r["tottime"])[:top]
    own = [r for r in rows if r["function"].startswith("weaklab/")]
    by_cum = sorted(own, key=lambda r: -r["cumtime"])[:top]
    return {"total": total, "by_tottime": by_tot, "by_cumtime": by_cum}


def _short_path(path: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


# --------------------------------------------------------------------------------------------- memory


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS counter (Linux >= 4.0: ``echo 5 > /proc/self/clear_refs``).

    Lets a child measure the peak of the measured case alone, after it built its inputs (whose own
    transient peak would otherwise hide a smaller case). Returns False where unsupported.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def release_memory() -> None:
    """Give freed memory back to the OS before a measurement, so that a case's increment counts the memory
    it needs rather than what allocators happened to keep from building the inputs: ``gc.collect()``,
    pyarrow's pool ``release_unused()`` (if pyarrow is loaded) and glibc's ``malloc_trim(0)``.
    """
    gc.collect()
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        try:
            pa.default_memory_pool().release_unused()
        except Exception:  # older pyarrow or a pool without it
            pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def peak_rss_self() -> int:
    """Peak RSS of this process since it started or since :func:`reset_peak_rss`, in bytes."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def peak_rss_children() -> int:
    """Largest peak RSS among the terminated child processes this process waited for, in bytes."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def current_rss() -> int:
    """Current resident set size of this process, in bytes."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:  # pragma: no cover - psutil is in the [bench] extra
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class ChildrenSampler(threading.Thread):
    """Samples the summed RSS of this process's descendants (psutil) until the ``with`` block ends.

    For cases that start worker processes: ``with ChildrenSampler() as s: run(); s.peak``. Finding the
    descendants scans /proc (a few ms), so leave it off for single-process cases.
    """

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0
        self.peak_procs = 0
        self._stop_event = threading.Event()

    def __enter__(self) -> ChildrenSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def run(self) -> None:
        try:
            import psutil
        except ImportError:  # pragma: no cover
            return
        me = psutil.Process()
        while not self._stop_event.is_set():
            total, procs = 0, 0
            try:
                for p in me.children(recursive=True):
                    try:
                        total += p.memory_info().rss
                        procs += 1
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            if total > self.peak:
                self.peak, self.peak_procs = total, procs
            self._stop_event.wait(self.interval)


# ------------------------------------------------------------------------------------- child protocol


def run_child(
    script: str | Path,
    args: Sequence[str],
    *,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``python script --child-out FILE *args`` in a fresh interpreter and return its report.

    The child writes its JSON report (see :func:`child_report`) to FILE. The parent adds ``wall``
    (seconds for the whole child, setup included) and ``returncode``. On a failure or a timeout the
    returned dict has ``"error"`` set and the tail of the child's stderr.
    """
    with tempfile.TemporaryDirectory(prefix="weaklab-bench-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, str(script), "--child-out", str(out), *args]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
            err = f"timeout after {timeout:.0f} s"
            return {"error": err, "stderr": _tail(stderr), "cmd": shlex.join(cmd)}
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            return {
                "error": f"child exited with {proc.returncode}",
                "stderr": _tail(stderr),
                "cmd": shlex.join(cmd),
            }
        report = json.loads(out.read_text())
    report.update(wall=wall, returncode=0)
    return report


def child_report(path: str | Path, **fields: Any) -> None:
    """Write a child's report (JSON): the given fields plus its peak and final RSS."""
    fields.setdefault("peak_rss", peak_rss_self())
    fields.setdefault("peak_rss_children", peak_rss_children())
    fields.setdefault("end_rss", current_rss())
    Path(path).write_text(json.dumps(fields, default=_json_default))


def _tail(text: str | None, n: int = 3000) -> str:
    return (text or "")[-n:]


# --------------------------------------------------------------------------------------- machine facts


def package_versions(packages: Iterable[str] = DEFAULT_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _total_ram() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:  # pragma: no cover
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


#: Paths a benchmark run writes itself: changes there do not make the tree dirty.
GENERATED_PATHS = ("BENCHMARKS.md", "benchmarks/results/")


class DirtyTreeError(SystemExit):
    """Raised instead of writing BENCHMARKS.md from uncommitted sources (exit status 1, message on stderr)."""


_TREE: dict[str, Any] = {"allow_dirty": False, "start": None}


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True,
                          check=True).stdout


def tree_state() -> dict[str, Any]:
    """The commit checked out and the paths that differ from it (tracked or untracked, not ignored).

    The files a benchmark run writes itself (:data:`GENERATED_PATHS`) are left out, so one section of
    ``run_all.py`` does not make the next one dirty. ``{"commit": None}`` outside a git checkout.
    """
    try:
        commit = _git("rev-parse", "HEAD").strip()
        lines = _git("status", "--porcelain", "--untracked-files=all").splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": []}
    paths = [line[3:].split(" -> ")[-1].strip('"') for line in lines if line.strip()]
    dirty = [p for p in paths if not any(p == g or p.startswith(g) for g in GENERATED_PATHS)]
    return {"commit": commit, "dirty": dirty}


def add_tree_args(parser: Any) -> None:
    """Add ``--allow-dirty`` to a benchmark script's argument parser."""
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="write BENCHMARKS.md even when the tree has uncommitted changes (the section then says so)",
    )


def check_tree(allow_dirty: bool = False) -> dict[str, Any]:
    """Call at the start of a run that will write BENCHMARKS.md: refuse a dirty tree unless allowed.

    Remembers the commit, so :func:`update_markdown` can refuse a tree that changed during the run.
    """
    state = tree_state()
    _TREE.update(allow_dirty=allow_dirty, start=state)
    if state["dirty"] and not allow_dirty:
        raise DirtyTreeError(_dirty_message(state))
    origin = weaklab_origin()
    if not allow_dirty and origin is not None and REPO_DIR / "src" not in Path(origin).resolve().parents:
        raise DirtyTreeError(f"refusing to write BENCHMARKS.md: weaklab would be imported from {origin}, not from "
                             f"this checkout's {REPO_DIR / 'src'} (set PYTHONPATH=src or pip install -e .).")
    return state


def weaklab_origin() -> str | None:
    """The file ``import weaklab`` would load (None if weaklab is not importable)."""
    import importlib.util

    spec = importlib.util.find_spec("weaklab")
    return None if spec is None else spec.origin


def _dirty_message(state: dict[str, Any]) -> str:
    shown = ", ".join(state["dirty"][:10]) + (" ..." if len(state["dirty"]) > 10 else "")
    return (f"refusing to write BENCHMARKS.md: the tree has uncommitted changes ({shown}). Commit them and "
            "re-run, or pass --allow-dirty (the section will then say it was measured on a dirty tree).")


def _git_commit() -> str:
    state = _TREE["start"] or tree_state()
    if state["commit"] is None:
        return "unknown"
    sha = state["commit"][:10]
    if not state["dirty"]:
        return f"{sha} (clean tree)"
    return f"{sha} + uncommitted changes in {len(state['dirty'])} path(s) (run with --allow-dirty)"


def source_digest() -> str:
    """Short SHA-256 of weaklab's source files (src/weaklab/**/*.py): tells apart uncommitted versions."""
    import hashlib

    h = hashlib.sha256()
    root = REPO_DIR / "src" / "weaklab"
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def machine_info(packages: Iterable[str] = DEFAULT_PACKAGES) -> dict[str, Any]:
    """Facts about the machine and the environment a result was measured in."""
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = (float("nan"),) * 3
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        affinity = os.cpu_count() or 0
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "ram_bytes": _total_ram(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
        "git_commit": _git_commit(),
        "weaklab_source_digest": source_digest(),
        "weaklab_imported_from": weaklab_origin(),
        "env": {
            k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS") if k in os.environ
        },
        "packages": package_versions(packages),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def machine_markdown(info: dict[str, Any], packages: Iterable[str] | None = None) -> str:
    """One paragraph describing ``info`` (from :func:`machine_info`) for a BENCHMARKS.md section."""
    pk = info["packages"]
    names = list(packages) if packages is not None else list(pk)
    vers = ", ".join(f"{n} {pk[n]}" for n in names if n in pk and pk[n] != "not installed")
    return (
        f"Machine: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), "
        f"{fmt_bytes(info['ram_bytes'])} RAM, {info['platform']}, Python {info['python']}; "
        f"load average at start {info['load_average_at_start'][0]}. "
        f"weaklab commit {info['git_commit']}, source digest {info.get('weaklab_source_digest', '?')}. "
        f"Measured {info['date']}.\n\n"
        f"Versions: {vers}."
    )


# --------------------------------------------------------------------------------------------- results


def write_results(name: str, payload: dict[str, Any], *, quick: bool = False) -> Path:
    """Write ``payload`` as JSON to ``benchmarks/results/<name>.json``.

    Quick runs go to ``<name>-quick.json.tmp`` (git-ignored) so they never replace a full run.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / (f"{name}-quick.json.tmp" if quick else f"{name}.json")
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    return path


def update_markdown(name: str, body: str, path: Path = BENCHMARKS_MD) -> Path:
    """Replace the section between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` of BENCHMARKS.md.

    Creates the file (with the generated-file header) and appends the section if either is missing;
    other sections are left untouched. Raises :class:`DirtyTreeError` when the tree has uncommitted
    changes, or its commit is not the one the run started from (see :func:`check_tree`), unless the run
    was started with ``allow_dirty``.
    """
    state = tree_state()
    start = _TREE["start"]
    if not _TREE["allow_dirty"]:
        if state["dirty"]:
            raise DirtyTreeError(_dirty_message(state))
        if start is not None and start["commit"] != state["commit"]:
            raise DirtyTreeError(
                f"refusing to write BENCHMARKS.md: HEAD moved during the run ({start['commit'][:10]} -> "
                f"{str(state['commit'])[:10]}); the section would name the wrong commit. Re-run."
            )
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else MD_HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path


def publish(name: str, payload: dict[str, Any], markdown: str, *, quick: bool = False,
            update_md: bool = True) -> Path:
    """Write the results JSON, print the section, and (full runs only) rewrite it in BENCHMARKS.md."""
    path = write_results(name, payload, quick=quick)
    print(markdown)
    print(f"results: {path}")
    if update_md and not quick:
        print(f"updated {update_markdown(name, markdown)}")
    return path


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that ran this script, as a user would type it from the repository root."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    try:
        script_s = str(script.relative_to(REPO_DIR))
    except ValueError:
        script_s = str(script)
    exe = Path(sys.executable)
    try:
        exe_s = str(exe.relative_to(REPO_DIR))
    except ValueError:
        exe_s = "python"
    return shlex.join([exe_s, script_s, *argv[1:]])


# ------------------------------------------------------------------------------------------ formatting


def fmt_bytes(n: float | None) -> str:
    """Bytes in decimal units (B, kB, MB, GB; 1 MB = 10^6 bytes), the units the targets are stated in."""
    if n is None:
        return "-"
    sign = "-" if n < 0 else ""
    n = abs(float(n))
    if n < KB:
        return f"{sign}{n:.0f} B"
    for unit, size in (("kB", KB), ("MB", MB)):
        if n < 1000 * size:
            return f"{sign}{n / size:.1f} {unit}"
    return f"{sign}{n / GB:.2f} GB"


def fmt_rate(rows_per_s: float | None) -> str:
    if rows_per_s is None:
        return "-"
    if rows_per_s >= 1e6:
        return f"{rows_per_s / 1e6:.2f} M"
    if rows_per_s >= 1e3:
        return f"{rows_per_s / 1e3:.1f} k"
    return f"{rows_per_s:.0f}"


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1:
        return f"{s * 1e3:.0f} ms"
    return f"{s:.2f} s" if s < 100 else f"{s:.0f} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.0f}x" if r >= 100 else (f"{r:.1f}x" if r >= 1 else f"{r:.2f}x")


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub markdown table; ``align`` is one char per column: l, r or c."""
    header = list(header)
    align = align or "l" + "r" * (len(header) - 1)
    sep = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep[a] for a in align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def run_in_work_folder(name: str, args: Any, prefix: str, body: Callable[[Path, dict[str, Any]], None],
                       render: Callable[[dict[str, Any]], str]) -> None:
    """Run ``body(work, results)`` within ``args.budget`` seconds in a fresh temporary folder, then publish.

    Sets ``args.budget_left`` (seconds left of the budget), starts ``results``
    with the machine, the command line and the budget, removes the folder
    whatever happens, and publishes ``results`` under ``name`` (``args.quick``
    runs are not written to BENCHMARKS.md).
    """
    deadline = time.monotonic() + args.budget
    args.budget_left = lambda: deadline - time.monotonic()
    results: dict[str, Any] = {"machine": machine_info(), "command": command_line(), "budget": args.budget}
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        body(work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(name, results, render(results), quick=args.quick)
