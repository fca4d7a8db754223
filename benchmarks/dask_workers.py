"""Dask engine, 1 -> 2 workers: throughput of the same work on one and on two worker processes, side by side.

Two workloads, each on the cluster of ``dask_scale`` (a scheduler and N single-threaded ``dask worker``
processes; the client connects by address), on data generated per partition by the workers beforehand:

* ``apply``: the 20 keyword/regex LFs of ``lf_data`` over ``--rows`` synthetic comments (100,000 per partition),
  ``apply_lfs(engine="dask", output=...)`` (votes written per partition, never gathered);
* ``end model``: ``PartitionedTextClassifier`` (iterative parameter mixing, the default) on ``--items`` synthetic
  texts with simulated soft labels (``dask_endmodel``'s data, 100,000 per partition).

The machine is shared, so its load drifts during a run. The 1-worker and 2-worker cases are therefore
**interleaved** (``--repeats`` pairs, in the order 2,1 then 1,2, ...), each pair gives its own ratio, and the
1-minute load average is recorded before every case. The figure is the median of the pairs' ratios.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/dask_workers.py --rows 2000000 --items 400000 --repeats 2
    .venv-bench/bin/python benchmarks/dask_workers.py --quick                  # small sizes, prints only
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import dask_endmodel
import dask_scale

NAME = "dask_workers"


def load() -> float:
    return round(os.getloadavg()[0], 1)


def apply_case(address: str, files: list[str], out: Path) -> dict[str, Any]:
    res = dask_scale.weaklab_dask_apply(address, files, out)
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": res["seconds"], "units": res["rows"]}


def endmodel_case(address: str, root: Path, soft: Any) -> dict[str, Any]:
    res = dask_endmodel.fit_case(address, root, soft)
    return {"seconds": res["seconds"], "units": res["n_train"], "accuracy": res["accuracy"],
            "coef_sum": float(res["coef"].sum())}


def worker_cpu(address: str) -> float:
    """CPU seconds (user + system) the cluster's worker processes have used so far."""
    from distributed import Client

    def cpu() -> float:
        import psutil

        times = psutil.Process().cpu_times()
        return float(times.user + times.system)

    with Client(address) as client:
        return float(sum(client.run(cpu).values()))


def interleaved(name: str, run_case: Any, work: Path, repeats: int, budget_left: Any) -> dict[str, Any]:
    """``repeats`` pairs of (2 workers, 1 worker), alternating which goes first; each case on a fresh cluster.

    Each case also records the CPU seconds its workers used: on a loaded machine a worker gets a share of a
    core, and ``cpu_share`` (worker CPU / (wall time x workers)) says how much it got.
    """
    cases: list[dict[str, Any]] = []
    for r in range(repeats):
        for workers in ((2, 1) if r % 2 == 0 else (1, 2)):
            if budget_left() < 60:
                cases.append({"repeat": r, "workers": workers, "error": "not run: wall-clock budget used up"})
                continue
            before = load()
            with dask_scale.cluster(workers, work) as address:
                cpu_before = worker_cpu(address)
                res = run_case(address)
                cpu = worker_cpu(address) - cpu_before
            res.update(repeat=r, workers=workers, load_before=before, load_after=load(), worker_cpu=cpu,
                       cpu_share=cpu / (res["seconds"] * workers))
            print(name, res, flush=True)
            cases.append(res)
    ratios = []
    for r in range(repeats):
        pair = {c["workers"]: c for c in cases if c["repeat"] == r and "error" not in c}
        if 1 in pair and 2 in pair:
            ratios.append(pair[1]["seconds"] / pair[2]["seconds"])
    return {"cases": cases, "ratios": ratios, "median_ratio": statistics.median(ratios) if ratios else None}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": args.rows, "items": args.items, "repeats": args.repeats}
    texts = work / "texts"
    with dask_scale.cluster(2, work) as address:
        out["generate_apply_seconds"] = dask_scale.write_texts(address, texts, args.rows)
        t0 = time.perf_counter()
        soft = dask_endmodel.write_data(address, work, args.items)
        out["generate_endmodel_seconds"] = time.perf_counter() - t0
    files = dask_scale.text_files(texts, args.rows)
    out["apply"] = interleaved("apply", lambda a: apply_case(a, files, work / "votes"), work, args.repeats,
                               args.budget_left)
    out["endmodel"] = interleaved("end model", lambda a: endmodel_case(a, work, soft), work, args.repeats,
                                  args.budget_left)
    sums = {c["coef_sum"] for c in out["endmodel"]["cases"] if "coef_sum" in c}
    out["endmodel"]["same_weights"] = len(sums) == 1 if sums else None
    return out


def render(results: dict[str, Any]) -> str:
    r = results["run"]
    lines = ["## Dask engine, 1 -> 2 workers (`dask_workers`)", "", f"Command: `{results['command']}`", "",
             C.machine_markdown(results["machine"]), "",
             "Cluster: a `dask scheduler` and 1 or 2 `dask worker --nthreads 1` processes (a fresh cluster per "
             "case; the client connects by address). The 1- and 2-worker cases are interleaved in pairs (2,1 then "
             "1,2, ...) and each pair gives a ratio; load = the 1-minute load average before / after the case; "
             "worker CPU = CPU seconds the workers used during the case, and its share of one core per worker "
             "over the wall time (1.00 = each worker had a core to itself).", ""]
    for key, title, unit in (("apply", f"LF apply: 20 keyword/regex LFs, {r['rows']:,} synthetic comments "
                                        "(100,000 per partition), votes to Parquet", "rows"),
                             ("endmodel", f"End model: `PartitionedTextClassifier` (mixing, 5 epochs, 2^18 "
                                          f"features), {r['items']:,} texts (100,000 per partition)",
                              "items trained on")):
        part = r[key]
        rows = []
        for c in part["cases"]:
            if "error" in c:
                rows.append([c["repeat"] + 1, c["workers"], "-", "-", "-", "-", c["error"]])
                continue
            rows.append([c["repeat"] + 1, c["workers"], C.fmt_seconds(c["seconds"]),
                         C.fmt_rate(c["units"] / c["seconds"]), C.fmt_seconds(c["worker_cpu"]),
                         f"{c['cpu_share']:.2f}", f"{c['load_before']} / {c['load_after']}"])
        lines += [f"### {title}", "", C.md_table(["pair", "workers", "time", f"{unit}/s", "worker CPU",
                                                  "CPU per worker / wall", "load"], rows), ""]
        ratios = ", ".join(f"{x:.2f}x" for x in part["ratios"]) or "none"
        median = part["median_ratio"]
        lines.append(f"- 1 -> 2 workers, per pair: {ratios}; median **{median:.2f}x**." if median else
                     "- No complete pair: no ratio.")
        if key == "endmodel" and part.get("same_weights") is not None:
            lines.append(f"- Same weights in every case (1 or 2 workers): {part['same_weights']}.")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--items", type=int, default=400_000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--budget", type=float, default=2400.0, help="wall-clock seconds for the whole run")
    p.add_argument("--quick", action="store_true")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.items, args.repeats = 200_000, 200_000, 1
    else:
        C.check_tree(args.allow_dirty)
    C.run_in_work_folder(NAME, args, "weaklab-dask-workers-",
                         lambda work, results: results.update(run=run(args, work)), render)


if __name__ == "__main__":
    main()
