"""Applying labeling functions: weaklab ``apply_lfs`` vs snorkel 0.10's appliers.

Inputs: 100k and 1M synthetic short comments (``lf_data.make_texts``, ~20 words, reproducible) in a pandas
DataFrame with one ``text`` column. LFs: 10 keyword LFs (case-insensitive, whole word) and 10 regex LFs
(``re.search``), 2 classes.

Cases (each in a fresh subprocess, see ``_common.run_child``):

* ``weaklab`` / ``weaklab-nj2``: ``keyword_lf`` + ``regex_lf`` templates, ``apply_lfs(engine="local",
  n_jobs=1 | 2)``;
* ``snorkel``: the same semantics written as snorkel LFs (one pre-compiled ``re`` pattern per LF,
  ``\\b(?:kw1|kw2)\\b`` with IGNORECASE for the keyword LFs), ``PandasLFApplier``;
* ``snorkel-parallel``: the same LFs, ``PandasParallelLFApplier(n_parallel=2)`` (dask, processes);
* ``snorkel-dask`` / ``weaklab-dask``: ``DaskLFApplier`` / ``apply_lfs(engine="dask")`` on a dask DataFrame
  (8 partitions) with a distributed ``LocalCluster`` of 2 single-threaded worker processes (cluster start-up
  not timed; moving the partitions to the workers is);
* ``weaklab-rowwise`` / ``weaklab-rowwise-nj2``: the snorkel LF bodies, decorated with weaklab's
  ``@labeling_function()`` (plain row-wise Python), ``apply_lfs(n_jobs=1 | 2)``.

Every matrix is checked against snorkel's ``PandasLFApplier`` output (``np.array_equal``).

Repeats: every case, whatever its library, runs the same number of times at a given size (``--repeat``;
default 3 up to 100k rows and 1 above, where one snorkel run takes 7-15 min); its time is the best run. The
ratio target is checked against snorkel's ``PandasLFApplier`` (``snorkel``, ``snorkel-obj``), which are always
run, at every size. Other cases predicted (linearly from the smaller size) to exceed ``--budget`` are not run
and are shown as not run, with the prediction; no ratio is ever computed from a prediction.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/lf_apply.py            # 100k and 1M rows, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/lf_apply.py --quick    # 10k and 50k rows, prints only
    .venv-bench/bin/python benchmarks/lf_apply.py --profile weaklab --sizes 1000000   # cProfile one case
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import lf_data
from lf_data import ABSTAIN, KEYWORD_LFS, REGEX_LFS

NAME = "lf_apply"
FULL_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 50_000)
SNORKEL_BUDGET_S = 600.0  # run a slow non-reference case at a size only if its predicted time is within this
REFERENCE_TIMEOUT_S = 4 * 3600.0  # the target's reference cases always run; this only guards against a hang
DASK_PARTITIONS = 8
DASK_WORKERS = 2

_CLUSTER = f"LocalCluster {DASK_WORKERS} workers"
_OBJ = ", object column"
CASES: dict[str, dict[str, Any]] = {  # run in this order: each weaklab case next to its snorkel peer
    "weaklab": dict(lib="weaklab", lfs="templates", how="`apply_lfs`, n_jobs=1", procs=False),
    "snorkel": dict(lib="snorkel", lfs="row-wise", how="`PandasLFApplier`", procs=False),
    "weaklab-obj": dict(
        lib="weaklab", lfs="templates", how=f"`apply_lfs`, n_jobs=1{_OBJ}", procs=False, obj=True
    ),
    "snorkel-obj": dict(
        lib="snorkel", lfs="row-wise", how=f"`PandasLFApplier`{_OBJ}", procs=False, obj=True
    ),
    "weaklab-nj2": dict(lib="weaklab", lfs="templates", how="`apply_lfs`, n_jobs=2", procs=True),
    "snorkel-parallel": dict(
        lib="snorkel", lfs="row-wise", how="`PandasParallelLFApplier`, n_parallel=2", procs=True
    ),
    "weaklab-dask": dict(
        lib="weaklab", lfs="templates", how=f'`apply_lfs(engine="dask")`, {_CLUSTER}', procs=True
    ),
    "snorkel-dask": dict(lib="snorkel", lfs="row-wise", how=f"`DaskLFApplier`, {_CLUSTER}", procs=True),
    "weaklab-rowwise": dict(lib="weaklab", lfs="row-wise", how="`apply_lfs`, n_jobs=1", procs=False),
    "weaklab-rowwise-nj2": dict(lib="weaklab", lfs="row-wise", how="`apply_lfs`, n_jobs=2", procs=True),
}
REFERENCES = ("snorkel", "snorkel-obj")  # the first one run at a size is the reference for `identical`
TARGET_RATIO = 50


# ---------------------------------------------------------------------------------- LF definitions


def keyword_regex(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """Case-insensitive whole-word match of any keyword: weaklab's keyword_lf semantics, in ``re``."""
    return re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keywords) + r")\b", re.IGNORECASE)


def _make_row_fn(name: str, rx: re.Pattern[str], label: int) -> Any:
    # The isinstance guard is needed by snorkel's dask appliers: dask infers the output type by calling
    # every LF on a dummy row whose text is <NA> (pandas 3). It costs the same in every library.
    def fn(x: Any) -> int:
        t = x.text
        return label if isinstance(t, str) and rx.search(t) is not None else ABSTAIN

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    globals()[name] = fn  # picklable by reference (worker processes re-import this module)
    return fn


ROW_FUNCTIONS = [_make_row_fn(s.name, keyword_regex(s.keywords), s.label) for s in KEYWORD_LFS] + [
    _make_row_fn(s.name, re.compile(s.pattern, s.flags), s.label) for s in REGEX_LFS
]
LF_NAMES = [s.name for s in KEYWORD_LFS] + [s.name for s in REGEX_LFS]


def snorkel_lfs() -> list[Any]:
    from snorkel.labeling import LabelingFunction

    return [LabelingFunction(name=f.__name__, f=f) for f in ROW_FUNCTIONS]


def weaklab_template_lfs() -> list[Any]:
    from weaklab.labeling import keyword_lf, regex_lf

    return [keyword_lf(list(s.keywords), s.label, field="text", name=s.name) for s in KEYWORD_LFS] + [
        regex_lf(s.pattern, s.label, field="text", name=s.name, flags=s.flags) for s in REGEX_LFS
    ]


def weaklab_rowwise_lfs() -> list[Any]:
    from weaklab.labeling import labeling_function

    return [labeling_function(name=f.__name__)(f) for f in ROW_FUNCTIONS]


# ------------------------------------------------------------------------------------------ inputs


def build_frame(n: int, obj: bool = False) -> Any:
    """The inputs: a DataFrame with the texts in pandas' default string dtype (``str``, Arrow-backed in
    pandas 3), or with ``obj=True`` as Python objects (pandas 2's default), and their UTF-8 size."""
    import pandas as pd

    texts = lf_data.make_texts(n)
    df = pd.DataFrame({"text": pd.Series(texts, dtype=object) if obj else texts})
    text_bytes = sum(len(t.encode()) for t in texts)
    del texts
    gc.collect()
    return df, text_bytes


def import_everything() -> dict[str, str]:
    """Imports shared by every child (baseline included), so import cost is not in any increment."""
    errors = {}
    import pandas  # noqa: F401

    for mod in (
        "weaklab.labeling",
        "snorkel.labeling",
        "snorkel.labeling.apply.dask",
        "dask.dataframe",
        "distributed",
    ):
        try:
            __import__(mod)
        except Exception as e:  # a missing library is reported per case, not fatal here
            errors[mod] = f"{type(e).__name__}: {e}"
    return errors


# --------------------------------------------------------------------------------------- the cases


def _cluster() -> Any:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=DASK_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def prepare_case(case: str, df: Any) -> tuple[Any, dict[str, Any]]:
    """Return (callable that runs the case and returns an (n, m) array, cleanup resources)."""
    extra: dict[str, Any] = {}
    if case in ("weaklab", "weaklab-nj2", "weaklab-obj"):
        from weaklab.labeling import apply_lfs

        lfs = weaklab_template_lfs()
        n_jobs = 2 if case.endswith("nj2") else 1

        def run() -> Any:
            L, report = apply_lfs(lfs, df, engine="local", n_jobs=n_jobs, progress=False)
            extra["report"] = _report_summary(report)
            return L.to_dense()

    elif case in ("weaklab-rowwise", "weaklab-rowwise-nj2"):
        from weaklab.labeling import apply_lfs

        lfs = weaklab_rowwise_lfs()
        n_jobs = 2 if case.endswith("nj2") else 1

        def run() -> Any:
            L, report = apply_lfs(lfs, df, engine="local", n_jobs=n_jobs, progress=False)
            extra["report"] = _report_summary(report)
            return L.to_dense()

    elif case in ("snorkel", "snorkel-obj"):
        from snorkel.labeling import PandasLFApplier

        applier = PandasLFApplier(snorkel_lfs())

        def run() -> Any:
            return applier.apply(df, progress_bar=False)

    elif case == "snorkel-parallel":
        from snorkel.labeling.apply.dask import PandasParallelLFApplier

        applier = PandasParallelLFApplier(snorkel_lfs())

        def run() -> Any:
            return applier.apply(df, n_parallel=2)

    elif case == "snorkel-dask":
        import dask.dataframe as dd
        from snorkel.labeling.apply.dask import DaskLFApplier

        client = _cluster()
        extra["_client"] = client
        applier = DaskLFApplier(snorkel_lfs())

        def run() -> Any:
            return applier.apply(dd.from_pandas(df, npartitions=DASK_PARTITIONS), scheduler=client)

    elif case == "weaklab-dask":
        import dask.dataframe as dd

        from weaklab.labeling import apply_lfs

        client = _cluster()
        extra["_client"] = client
        lfs = weaklab_template_lfs()

        def run() -> Any:
            L, report = apply_lfs(lfs, dd.from_pandas(df, npartitions=DASK_PARTITIONS), engine="dask", progress=False)
            extra["report"] = _report_summary(report)
            return L.to_dense()

    else:
        raise SystemExit(f"unknown case {case!r}")
    return run, extra


def _report_summary(report: Any) -> Any:
    for attr in ("to_dict", "as_dict", "summary"):
        f = getattr(report, attr, None)
        if callable(f):
            try:
                out = f()
                return out.to_dict() if hasattr(out, "to_dict") else out
            except Exception:
                pass
    return repr(report)[:2000]


def child_main(args: argparse.Namespace) -> None:
    import_errors = import_everything()
    gc.collect()
    import_rss = C.current_rss()
    n = args.sizes[0]
    df, text_bytes = build_frame(n, obj=CASES.get(args.child, {}).get("obj", False))
    fields: dict[str, Any] = dict(
        case=args.child,
        n=n,
        text_bytes=text_bytes,
        import_rss=import_rss,
        setup_rss=C.current_rss(),
        import_errors=import_errors,
        text_dtype=str(df["text"].dtype),
        frame_bytes=int(df.memory_usage(deep=True).sum()),
    )
    if args.cprofile:
        run, _ = prepare_case(args.child, df)
        run()  # warm-up: regex compilation and caches are not what a large input pays for
        fields["profile"] = C.profile_call(run)
    elif args.child != "baseline":
        fields.update(_measure(args.child, df, args.repeat, args.save))
    C.child_report(args.child_out, **fields)


def _measure(case: str, df: Any, repeat: int, save: str | None) -> dict[str, Any]:
    """Run ``case`` ``repeat`` times; its time, the peak RSS increment of this process and of its workers."""
    run, extra = prepare_case(case, df)
    C.release_memory()
    before = C.current_rss()
    C.reset_peak_rss()
    sampler = C.ChildrenSampler() if CASES[case]["procs"] else contextlib.nullcontext()
    cpu: list[float] = []

    def timed() -> Any:
        c0 = time.process_time()
        result = run()
        cpu.append(time.process_time() - c0)
        return result

    load_before = os.getloadavg()[0]
    with sampler:
        best, times, M = C.best_of(timed, repeat)
    peak = C.peak_rss_self()
    M = np.asarray(M)
    out = dict(
        best=best,
        times=times,
        cpu_times=cpu,
        cpu_best=min(cpu),
        load_before=load_before,
        load_after=os.getloadavg()[0],
        shape=list(M.shape),
        matrix_dtype=str(M.dtype),
        rss_before=before,
        peak_rss=peak,
        peak_increment=peak - before,
        report=extra.get("report"),
    )
    if isinstance(sampler, C.ChildrenSampler):
        out.update(children_peak_rss=sampler.peak, children_peak_procs=sampler.peak_procs)
    if save:
        np.save(save, M.astype(np.int8))
    client = extra.get("_client")
    if client is not None:
        client.close()
        client.cluster.close()
    return out


# ------------------------------------------------------------------------------------------ parent


def render_only(args: argparse.Namespace) -> None:
    """Re-render BENCHMARKS.md from benchmarks/results/lf_apply.json (profiling weaklab if not yet done)."""
    path = C.RESULTS_DIR / f"{NAME}.json"
    results = json.loads(path.read_text())
    if "profile" not in results and not args.no_profile:
        _profile(results, results["sizes"])
        C.write_results(NAME, results)
    md = render_markdown(results)
    print(md)
    if not args.no_md:
        print(f"updated {C.update_markdown(NAME, md)}")


def parent_main(args: argparse.Namespace) -> None:
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    cases = args.cases or list(CASES)
    info = C.machine_info()
    print(f"lf_apply: sizes {list(sizes)}, cases {cases}", flush=True)
    results: dict[str, Any] = {
        "name": NAME,
        "command": C.command_line(),
        "machine": info,
        "sizes": list(sizes),
        "lfs": LF_NAMES,
        "budget_s": args.budget,
        "runs": [],
    }
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="weaklab-lfapply-") as tmp:
        for n in sizes:
            base = C.run_child(__file__, ["--child", "baseline", "--sizes", str(n)], timeout=900)
            _print_row("baseline", n, base)
            results["runs"].append({"case": "baseline", **base})
            matrices: dict[str, Path] = {}
            repeat = repeats(n, args.repeat)
            for case in cases:
                reference = case in REFERENCES
                if case in rates and not reference:
                    predicted = n / rates[case] * repeat
                    if predicted > args.budget:
                        rec = {
                            "case": case,
                            "n": n,
                            "skipped": True,
                            "predicted_s": predicted,
                            "note": f"predicted {predicted:.0f} s for {repeat} run(s) > budget {args.budget:.0f} s",
                        }
                        results["runs"].append(rec)
                        print(f"  {case:22s} n={n:>9,d}  not run, predicted {predicted:.0f} s", flush=True)
                        continue
                save = Path(tmp) / f"{case}-{n}.npy"
                rec = C.run_child(
                    __file__,
                    ["--child", case, "--sizes", str(n), "--repeat", str(repeat), "--save", str(save)],
                    timeout=REFERENCE_TIMEOUT_S if reference else max(900.0, 3 * args.budget),
                )
                rec.update(case=case, n=n, repeat=repeat, load_at_start=round(os.getloadavg()[0], 2))
                if "error" not in rec:
                    rates[case] = n / rec["best"]
                    rec["rate"] = rates[case]
                    matrices[case] = save
                results["runs"].append(rec)
                _print_row(case, n, rec)
            _check_identical(results["runs"], matrices, n)
    if not args.no_profile and "weaklab" in cases:
        _profile(results, sizes)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    C.publish(NAME, results, render_markdown(results), quick=args.quick, update_md=not args.no_md)


def repeats(n: int, given: int | None) -> int:
    """Runs of every case at ``n`` rows: ``given``, else 3 up to 100k rows and 1 above (the same for all)."""
    if given is not None:
        return given
    return 3 if n <= 100_000 else 1


def _profile(results: dict[str, Any], sizes: Sequence[int]) -> None:
    """Profile weaklab's template case at the largest size (cProfile, fresh process): where the time goes."""
    n = max(sizes)
    print(f"  profiling weaklab at {n:,} rows", flush=True)
    rec = C.run_child(__file__, ["--child", "weaklab", "--sizes", str(n), "--cprofile"], timeout=1800)
    results["profile"] = {"case": "weaklab", "n": n, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), **rec}


def _check_identical(runs: list[dict[str, Any]], matrices: dict[str, Path], n: int) -> None:
    ref_name = next((r for r in REFERENCES if r in matrices), next(iter(matrices), None))
    if ref_name is None:
        return
    ref = np.load(matrices[ref_name])
    for rec in runs:
        if rec.get("n") == n and rec.get("case") in matrices:
            M = np.load(matrices[rec["case"]])
            rec["identical_to"] = ref_name
            rec["identical"] = bool(M.shape == ref.shape and np.array_equal(M, ref))
            if not rec["identical"] and M.shape == ref.shape:
                diff = M != ref
                rec["mismatch"] = {
                    "cells": int(diff.sum()),
                    "rows": int(diff.any(axis=1).sum()),
                    "per_lf": {LF_NAMES[j]: int(c) for j, c in enumerate(diff.sum(axis=0)) if c},
                }
            if rec["case"] == ref_name:
                rec["coverage"] = {LF_NAMES[j]: float(c) for j, c in enumerate((ref != ABSTAIN).mean(axis=0))}
            print(
                f"  {rec['case']:22s} n={n:>9,d}  identical to {ref_name}: {rec['identical']}"
                + (f"  {rec.get('mismatch')}" if not rec["identical"] else ""),
                flush=True,
            )


def _print_row(case: str, n: int, rec: dict[str, Any]) -> None:
    if "error" in rec:
        print(f"  {case:22s} n={n:>9,d}  ERROR {rec['error']}\n{rec.get('stderr', '')[-1500:]}", flush=True)
    elif case == "baseline":
        print(
            f"  {case:22s} n={n:>9,d}  RSS after imports {C.fmt_bytes(rec['import_rss'])}, "
            f"after building the frame {C.fmt_bytes(rec['setup_rss'])}",
            flush=True,
        )
    else:
        workers = rec.get("children_peak_rss")
        print(
            f"  {case:22s} n={n:>9,d}  best {C.fmt_seconds(rec['best'])}  {C.fmt_rate(rec['rate'])} rows/s  "
            f"peak +{C.fmt_bytes(rec['peak_increment'])}"
            + (f"  workers {C.fmt_bytes(workers)}" if workers is not None else ""),
            flush=True,
        )


# ---------------------------------------------------------------------------------------- markdown


def _runs_by(results: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["case"], r["n"]): r for r in results["runs"] if "n" in r}


def _rate(r: dict[str, Any] | None) -> float | None:
    """Measured rows/s of a run (never a prediction)."""
    if not r or r.get("skipped"):
        return None
    return r.get("rate")


MAIN_ROWS = ("weaklab", "weaklab-nj2", "weaklab-dask", "snorkel", "snorkel-parallel", "snorkel-dask")
OBJECT_ROWS = ("weaklab-obj", "snorkel-obj")
ROWWISE_ROWS = ("weaklab-rowwise", "weaklab-rowwise-nj2", "snorkel", "snorkel-parallel")
MEMORY_ROWS = (
    "weaklab",
    "weaklab-obj",
    "weaklab-nj2",
    "weaklab-rowwise",
    "weaklab-rowwise-nj2",
    "snorkel",
    "snorkel-obj",
    "snorkel-parallel",
)
TABLE_HEADER = ["library", "how", "LFs", "rows", "time (N)", "CPU s, main process", "rows/s"]


def render_markdown(results: dict[str, Any]) -> str:
    by = _runs_by(results)
    sizes = results["sizes"]
    out = _md_intro(results)
    out += [
        "### Keyword and regex templates (vectorized in weaklab) vs snorkel",
        "",
        _md_speed_table(by, sizes, MAIN_ROWS, "weaklab", "weaklab n_jobs=1 speed-up"),
        "",
    ]
    if any(c in OBJECT_ROWS for c, _ in by):
        out += [
            "The same with the texts as Python objects (`object` dtype, the default before pandas 3; snorkel "
            "0.10 predates pandas 3), ratio to weaklab on the same object column:",
            "",
            _md_speed_table(by, sizes, OBJECT_ROWS, "weaklab-obj", "weaklab n_jobs=1 speed-up"),
            "",
        ]
    out += _target_lines(by, sizes)
    out += _slowest_lfs(by, sizes)
    out += [
        "### Row-wise Python LFs (`@labeling_function()`), same bodies in both libraries",
        "",
        _md_speed_table(by, sizes, ROWWISE_ROWS, "weaklab-rowwise-nj2", "weaklab row-wise n_jobs=2 speed-up"),
        "",
    ]
    out += _md_profile(results)
    out += _md_memory(by, sizes)
    out += _md_notes(results)
    return "\n".join(out)


def _md_intro(results: dict[str, Any]) -> list[str]:
    versions = ["weaklab", "numpy", "pandas", "pyarrow", "snorkel", "dask", "distributed"]
    return [
        "## Applying labeling functions (`lf_apply`)",
        "",
        f"Command: `{results['command']}`",
        "",
        C.machine_markdown(results["machine"], versions),
        "",
        f"Inputs: synthetic comments of {lf_data.WORDS_PER_TEXT} words (`benchmarks/lf_data.py`, "
        "fixed seed), "
        f"one `text` column (pandas dtype `{_first(results, 'text_dtype')}`); 10 keyword LFs "
        "(case-insensitive, whole word) and 10 regex LFs (`re.search`), each firing on 1-15 % of rows. "
        "The snorkel LFs are the same rules written the snorkel way (one pre-compiled `re` pattern per LF, "
        "called on each row). Speed-up = rows/s of the named weaklab case / rows/s of the row, both measured "
        "in the same run. Time = best of N wall-clock runs (N in brackets); CPU s = CPU time of the "
        "measuring process in its fastest run (less sensitive to other load on the machine; for cases with "
        "worker processes it leaves the workers out). `identical` = `np.array_equal` with snorkel's "
        "`PandasLFApplier` matrix (at a size where it was not run on the `str` column, with snorkel's matrix "
        "from the object column, or else weaklab's; see the JSON's `identical_to`).",
        "",
        _load_line(results),
        "",
    ]


def _load_line(results: dict[str, Any]) -> str:
    loads = [x for r in results["runs"] for x in (r.get("load_before"), r.get("load_after")) if x is not None]
    if not loads:
        return ""
    return (
        f"Other load on the machine during the cases (1-minute load average, {results['machine']['cores']} "
        f"cores): {min(loads):.1f} to {max(loads):.1f}."
    )


def _md_speed_table(
    by: dict[tuple[str, int], dict[str, Any]],
    sizes: list[int],
    cases: tuple[str, ...],
    ref_case: str,
    ref_title: str,
) -> str:
    rows = []
    for n in sizes:
        ref = _rate(by.get((ref_case, n)))
        for case in cases:
            if (case, n) not in by:
                continue
            row = _main_row(case, n, by[(case, n)], ref)
            ref_cpu, cpu = _cpu(by, ref_case, n), _cpu(by, case, n)
            single = not CASES[case]["procs"] and not CASES[ref_case]["procs"]
            if single and ref_cpu and cpu and case != ref_case:
                row[-2] += f" (CPU {C.fmt_ratio(cpu / ref_cpu)})"
            rows.append(row)
    return C.md_table([*TABLE_HEADER, ref_title, "identical"], rows, "lllrrrrrc")


def _cpu(by: dict[tuple[str, int], dict[str, Any]], case: str, n: int) -> float | None:
    """Measured CPU seconds of the case at n rows (None when it was not run)."""
    r = by.get((case, n))
    if not r or "error" in r or r.get("skipped") or not r.get("cpu_best"):
        return None
    return float(r["cpu_best"])


def _md_memory(by: dict[tuple[str, int], dict[str, Any]], sizes: list[int]) -> list[str]:
    rows = []
    for n in sizes:
        for case in MEMORY_ROWS:
            r = by.get((case, n))
            if not r or "peak_increment" not in r:
                continue
            floor = r["text_bytes"] + n * len(LF_NAMES)
            workers = r.get("children_peak_rss")
            rows.append(
                [
                    CASES[case]["lib"],
                    CASES[case]["how"],
                    CASES[case]["lfs"],
                    f"{n:,}",
                    C.fmt_bytes(r["text_bytes"]),
                    C.fmt_bytes(n * len(LF_NAMES)),
                    C.fmt_bytes(r["peak_increment"]),
                    f"{r['peak_increment'] / floor:.2f}",
                    f"{C.fmt_bytes(workers)} ({r['children_peak_procs']})" if workers is not None else "-",
                ]
            )
    if not rows:
        return []
    base = [by.get(("baseline", n), {}) for n in sizes]
    base_s = ", ".join(
        f"{n:,} rows: {C.fmt_bytes(b.get('import_rss'))} after imports, {C.fmt_bytes(b.get('setup_rss'))} "
        "with the DataFrame built"
        for n, b in zip(sizes, base)
    )
    return [
        "### Peak memory",
        "",
        "Each case runs in a fresh process. After building the DataFrame the process resets its peak-RSS "
        "counter (`/proc/self/clear_refs`); *peak increment* = peak RSS while running the case - RSS just "
        "before, compared with the text itself (UTF-8 bytes) plus the int8 vote matrix. For scale, a "
        f"process that only imports the libraries and builds the inputs holds {base_s}. Worker processes are "
        "not in the increment; *workers* is the largest sampled sum of their RSS (number of processes in "
        "brackets; pages shared with the parent are counted again in each).",
        "",
        C.md_table(
            [
                "library",
                "how",
                "LFs",
                "rows",
                "text bytes",
                "int8 matrix",
                "peak increment",
                "increment / (text + matrix)",
                "workers (processes)",
            ],
            rows,
            "lllrrrrrr",
        ),
        "",
    ]


def _slowest_lfs(by: dict[tuple[str, int], dict[str, Any]], sizes: Sequence[int]) -> list[str]:
    n = max(sizes)
    rep = (by.get(("weaklab", n)) or {}).get("report")
    if not isinstance(rep, dict) or "seconds" not in rep:
        return []
    pairs = sorted(zip(rep["lf_names"], rep["seconds"]), key=lambda p: -p[1])
    total = sum(rep["seconds"])
    listed = ", ".join(f"`{name}` {C.fmt_seconds(sec)}" for name, sec in pairs[:5])
    return [
        f"weaklab's `ApplyReport` at {n:,} rows (last run): the 20 LFs took {C.fmt_seconds(total)} in all; "
        f"slowest {listed}; fastest `{pairs[-1][0]}` {C.fmt_seconds(pairs[-1][1])}.",
        "",
    ]


def _md_profile(results: dict[str, Any]) -> list[str]:
    prof = results.get("profile")
    if not prof:
        return []
    if "error" in prof:
        return [f"Profiling weaklab failed: {prof['error']}", ""]
    p = prof["profile"]
    rows = [
        [
            f"`{r['function']}`",
            r["ncalls"],
            C.fmt_seconds(r["tottime"]),
            C.fmt_seconds(r["cumtime"]),
            f"{100 * r['tottime'] / p['total']:.0f} %",
        ]
        for r in p["by_tottime"][:10]
    ]
    cum = [
        [
            f"`{r['function']}`",
            r["ncalls"],
            C.fmt_seconds(r["cumtime"]),
            f"{100 * r['cumtime'] / p['total']:.0f} %",
        ]
        for r in p["by_cumtime"][:10]
    ]
    return [
        "### Where weaklab's time goes",
        "",
        f"cProfile of `apply_lfs` with the 20 templates on {prof['n']:,} rows, one run after a warm-up, in a "
        f"fresh process ({prof.get('date', '')}): {C.fmt_seconds(p['total'])} under the profiler.",
        "",
        "Own time (the `pyarrow/compute.py` wrappers stand for the Arrow C++ kernels they call):",
        "",
        C.md_table(["function", "calls", "own time", "cumulative", "share of total (own)"], rows, "lrrrr"),
        "",
        "weaklab functions by cumulative time:",
        "",
        C.md_table(["function", "calls", "cumulative", "share of total"], cum, "lrrr"),
        "",
    ]


def _md_notes(results: dict[str, Any]) -> list[str]:
    notes = []
    for r in results["runs"]:
        if "error" in r:
            notes.append(
                f"- `{r['case']}` at {r.get('n', 0):,} rows failed: {r['error']}; `{_last_line(r.get('stderr', ''))}`"
            )
        elif r.get("skipped"):
            notes.append(f"- `{r['case']}` at {r['n']:,} rows not run ({r['note']}); no ratio is given for it.")
        elif r.get("identical") is False:
            notes.append(
                f"- `{r['case']}` at {r['n']:,} rows: matrix differs from `{r['identical_to']}`: {r.get('mismatch')}"
            )
    return ["Notes:", "", *notes, ""] if notes else []


def _first(results: dict[str, Any], key: str) -> Any:
    return next((r[key] for r in results["runs"] if key in r), "?")


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].replace("`", "'")[:300] if lines else ""


def _main_row(case: str, n: int, r: dict[str, Any], ref_rate: float | None) -> list[str]:
    spec = CASES[case]
    if "error" in r:
        return [spec["lib"], spec["how"], spec["lfs"], f"{n:,}", "failed", "-", "-", "-", "-"]
    if r.get("skipped"):
        predicted = r.get("predicted_s")
        shown = f"not run (predicted {C.fmt_seconds(predicted)})" if predicted else "not run"
        return [spec["lib"], spec["how"], spec["lfs"], f"{n:,}", shown, "-", "-", "-", "-"]
    rate = r["rate"]
    ident = {True: "yes", False: "**NO**", None: "-"}[r.get("identical")]
    return [
        spec["lib"],
        spec["how"],
        spec["lfs"],
        f"{n:,}",
        f"{C.fmt_seconds(r['best'])} ({r['repeat']})",
        C.fmt_seconds(r.get("cpu_best")),
        C.fmt_rate(rate),
        C.fmt_ratio(ref_rate / rate) if ref_rate else "-",
        ident,
    ]


def _repeat_text(by: dict[tuple[str, int], dict[str, Any]], n: int) -> str:
    counts = sorted({r["repeat"] for (_, m), r in by.items() if m == n and r.get("repeat")})
    if not counts:
        return "an unknown number of times"
    return " or ".join("once" if c == 1 else f"{c} times" for c in counts) + " (best run taken)"


def _target_lines(by: dict[tuple[str, int], dict[str, Any]], sizes: list[int]) -> list[str]:
    """The 50x target at the largest size, by wall and by CPU time, for each form of the text column."""
    n = max(sizes)
    parts, ratios = [], []
    for label, wl_case, sn_case in (
        ("`str` column", "weaklab", "snorkel"),
        ("object column", "weaklab-obj", "snorkel-obj"),
    ):
        wl, sn = by.get((wl_case, n)), by.get((sn_case, n))
        wl_rate, sn_rate = _rate(wl), _rate(sn)
        if not (wl_rate and sn_rate):
            if wl or sn:
                parts.append(f"{label}: not measured (a run is missing or failed), not counted")
            continue
        wall = wl_rate / sn_rate
        wl_cpu, sn_cpu = _cpu(by, wl_case, n), _cpu(by, sn_case, n)
        cpu = sn_cpu / wl_cpu if wl_cpu and sn_cpu else None
        ratios += [wall] + ([cpu] if cpu else [])
        loads = "/".join(f"{x['load_before']:.1f}" for x in (wl, sn) if x and x.get("load_before") is not None)
        parts.append(
            f"{label}: {C.fmt_ratio(wall)} by wall time, "
            + (f"{C.fmt_ratio(cpu)} by CPU time" if cpu else "CPU time n/a")
            + (f" (1-min load at the start of each: {loads})" if loads else "")
        )
    if not ratios:
        return [f"Target weaklab >= {TARGET_RATIO}x snorkel `PandasLFApplier` rows/s at {n:,} rows: **not measured** "
                f"({'; '.join(parts) or 'no run at this size'}).", ""] if parts else []
    if min(ratios) >= TARGET_RATIO:
        verdict = "met"
    elif max(ratios) >= TARGET_RATIO:
        verdict = "**met by some measures only**"
    else:
        verdict = "**missed**"
    return [
        f"Target weaklab >= {TARGET_RATIO}x snorkel `PandasLFApplier` rows/s at {n:,} rows: {verdict} "
        f"({'; '.join(parts)}). Only ratios measured at this size, in this run, are counted; each case ran "
        f"{_repeat_text(by, n)}.",
        "",
    ]


# -------------------------------------------------------------------------------------------- main


def profile_main(args: argparse.Namespace) -> None:
    import cProfile
    import pstats

    import_everything()
    df, _ = build_frame(args.sizes[0])
    run, _ = prepare_case(args.profile, df)
    run()  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    run()
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}; BENCHMARKS.md is not touched")
    p.add_argument("--sizes", type=int, nargs="+", help="numbers of rows (default: 100k and 1M)")
    p.add_argument("--cases", nargs="+", choices=list(CASES), help="subset of cases (default: all)")
    p.add_argument(
        "--budget",
        type=float,
        default=SNORKEL_BUDGET_S,
        help="seconds a case may be predicted to take before it is skipped and extrapolated",
    )
    p.add_argument("--no-md", action="store_true", help="do not update BENCHMARKS.md")
    p.add_argument("--profile", choices=list(CASES), help="run one case under cProfile and print the stats")
    p.add_argument("--no-profile", action="store_true", help="skip profiling weaklab at the largest size")
    p.add_argument(
        "--render-only", action="store_true", help="rewrite the BENCHMARKS.md section from the last results JSON"
    )
    # internal: child mode
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of every case (all libraries alike; default: 3 up to 100k rows, 1 above; best run reported)",
    )
    p.add_argument("--save", help=argparse.SUPPRESS)
    p.add_argument("--cprofile", action="store_true", help=argparse.SUPPRESS)
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if not (args.child or args.profile or args.quick or args.no_md):  # this run writes BENCHMARKS.md
        C.check_tree(args.allow_dirty)
    if args.child:
        child_main(args)
    elif args.render_only:
        render_only(args)
    elif args.profile:
        if not args.sizes:
            args.sizes = [100_000]
        profile_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
